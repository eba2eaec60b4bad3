"""Sandbox mode: links to pages and posts open the emulators' own web pages, which
escape what they show; outside sandbox mode the plugins keep the real networks' links."""
from __future__ import annotations

import pytest
import requests
from test_streams import add

from streamdesk_contract.values import ServiceConfig
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import Story, Stream, Topic
from webapp.plugins import Plugins
from webapp.streams import Runtime

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PUBLIC = {"twitter": ("@rivalroasters", "rivalroasters"), "facebook": ("acmeoutdoor", "100482736450917")}


@pytest.fixture
def topic(account):
    return Topic.create(account=account, name="Competitors")


def _get(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Type"].startswith("text/html")
    return response


def test_x_emulator_serves_escaped_profile_and_post_pages(emulator_urls, emulator):
    base = emulator_urls["twitter"]
    tweet = emulator("twitter", "POST", "/tweets", author="rivalroasters", text=HOSTILE)
    for url in (f"{base}/rivalroasters", f"{base}/rivalroasters/status/{tweet['id']}"):
        response = _get(url)
        assert response.status_code == 200 and "rivalroasters" in response.text
        assert HOSTILE not in response.text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text
    assert _get(f"{base}/i/web/status/{tweet['id']}").status_code == 200  # redirected to the post's page
    assert _get(f"{base}/nobody_here_42").status_code == 404
    assert _get(f"{base}/rivalroasters/status/1").status_code == 404


def test_facebook_emulator_serves_escaped_page_and_post_pages(emulator_urls, emulator):
    base = emulator_urls["facebook"]
    post = emulator("facebook", "POST", "/posts", page_id=PUBLIC["facebook"][1], message=HOSTILE)
    emulator("facebook", "POST", "/comments", post_id=post["id"], message=f"Reply {HOSTILE}")
    for url in (f"{base}/_web/pages/{PUBLIC['facebook'][1]}", f"{base}/_web/pages/acmeoutdoor", f"{base}/_web/posts/{post['id']}"):
        response = _get(url)
        assert response.status_code == 200 and "Acme Outdoor Gear" in response.text
        assert HOSTILE not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert f'href="/_web/posts/{post["id"]}"' in _get(f"{base}/_web/pages/acmeoutdoor").text
    assert "Reply &lt;script&gt;" in _get(f"{base}/_web/posts/{post['id']}").text
    assert _get(f"{base}/_web/pages/nope").status_code == 404
    assert _get(f"{base}/_web/posts/1_2").status_code == 404


@pytest.mark.parametrize("service", ["twitter", "facebook"])
def test_sandbox_stream_and_story_links_open_the_emulator(service, admin_client, emulator, emulator_urls,
                                                          topic, environ):
    base = emulator_urls[service]
    query, page_id = PUBLIC[service]
    if service == "twitter":
        page_id = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == page_id)
    else:
        emulator("facebook", "POST", "/posts", page_id=page_id, message="New tents in store")
    response = add(admin_client, topic, service, "public", page_id, q=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    stream = Stream.get()
    assert stream.url.startswith(base + "/"), stream.url
    assert f'href="{stream.url}"' in admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    assert _get(stream.url).status_code == 200
    assert crawl(Runtime(load_settings(environ), Plugins()), stream) == "active"
    stories = list(Story.select().where(Story.stream == stream).limit(3))
    assert stories and all(s.url.startswith(base + "/") for s in stories)
    for story in stories:
        assert _get(story.url).status_code == 200, story.url


def test_outside_sandbox_links_stay_on_the_real_networks(emulator_urls, emulator):
    """The same emulator answers, read without sandbox mode: x.com and facebook.com links."""
    import emulators.facebook
    import emulators.twitter

    plugins = Plugins()
    for service, module, site in (("twitter", emulators.twitter, "https://x.com/"),
                                  ("facebook", emulators.facebook, "https://www.facebook.com/")):
        config = module.sandbox_config(emulator_urls[service])
        real = ServiceConfig(**{**config.__dict__, "sandbox": False})
        pages = plugins.call("streamdesk_search", service, real, query=PUBLIC[service][0], credentials=None)
        assert pages and pages[0].url.startswith(site), pages[0].url
        pages = plugins.call("streamdesk_search", service, config, query=PUBLIC[service][0], credentials=None)
        assert pages[0].url.startswith(emulator_urls[service] + "/"), pages[0].url
