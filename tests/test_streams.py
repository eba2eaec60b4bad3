"""Connected profiles, authorized and unauthorized streams, crawls and expiry, over real
HTTP to the emulators (the app's test client plays the browser, without JavaScript)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from conftest import csrf_token, login, mail_part, subprocess_env
from consent import press

from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import ConnectedProfile, Story, Stream, Topic, with_topic_names
from webapp.queue import connect as redis_connect
from webapp.streams import Runtime
from factories import new_stream

BUTTON = {"twitter": "Authorize app", "facebook": "Continue"}


def connect(client, service: str, button: str | None = None, **consent) -> str:
    """Personal settings → Connected profiles → service → consent → back. Returns the page."""
    response = client.get(f"/personal/connected-profiles/{service}/connect")
    assert response.status_code == 302, response.get_data(as_text=True)
    callback = press(response.headers["Location"], button or BUTTON[service], **consent)
    parts = urlsplit(callback)
    assert parts.path == f"/personal/connected-profiles/{service}/callback", callback
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302 and response.headers["Location"] == "/personal/connected-profiles"
    return client.get("/personal/connected-profiles").get_data(as_text=True)


def add(client, topic, service, kind, page_id, q="", htmx=True):
    token = csrf_token(client, f"/account/topics/{topic.id}")
    return client.post(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"} if htmx else {},
                       data={"service": service, "kind": kind, "page_id": page_id, "q": q, "csrf_token": token})


def test_connect_x_profile(admin_client, emulator, db):
    html = connect(admin_client, "twitter")
    assert "Your X (Twitter) profile" in html and "is now connected." in html
    assert "Renews automatically" in html and "Permissions granted:" in html and "Token expires" in html
    profile = ConnectedProfile.get()
    assert profile.refresh_token and profile.expires_at
    # Tokens are encrypted at rest: the raw column holds no token in clear.
    raw_access, raw_refresh = db.execute_sql(
        "SELECT access_token, refresh_token FROM connected_profile").fetchone()
    assert profile.access_token not in raw_access and profile.refresh_token not in raw_refresh
    assert raw_access.startswith("gAAAA")  # a Fernet token


def test_cancelled_consent_links_nothing(admin_client, emulator):
    html = connect(admin_client, "twitter", button="Cancel")
    assert "You cancelled the connection, so nothing was linked." in html
    assert ConnectedProfile.select().count() == 0


def test_forged_callback_state_is_refused(admin_client, emulator):
    admin_client.get("/personal/connected-profiles/twitter/connect")
    response = admin_client.get("/personal/connected-profiles/twitter/callback?code=stolen&state=forged")
    assert response.status_code == 302
    html = admin_client.get("/personal/connected-profiles").get_data(as_text=True)
    assert "The connection could not be verified" in html
    assert ConnectedProfile.select().count() == 0


def test_unknown_service_in_urls(admin_client):
    response = admin_client.get("/personal/connected-profiles/myspace/connect")
    assert response.status_code == 404
    assert "There is no service called “myspace” to connect." in response.get_data(as_text=True)


def test_connected_profiles_are_private(client, admin, member, emulator, topic):
    login(client, admin.email)
    connect(client, "twitter")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    login(client, member.email)
    html = client.get("/personal/connected-profiles").get_data(as_text=True)
    assert "Permissions granted" not in html and "Not connected" in html
    # A member cannot disconnect someone else's profile either: only their own exists for them.
    token = csrf_token(client, "/personal/connected-profiles")
    response = client.post("/personal/connected-profiles/twitter/disconnect",
                           data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 404 and ConnectedProfile.select().count() == 1


def test_admin_without_profile_is_sent_to_personal_settings(client, member, admin, emulator, topic):
    login(client, member.email)
    from webapp.models import User

    User.update(role="admin").where(User.id == member.id).execute()  # another admin, no profile
    html = client.get(f"/account/topics/{topic.id}/add/twitter/owned", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "You have no connected X (Twitter) profile yet." in html
    assert 'href="/personal/connected-profiles"' in html


def test_add_authorized_stream(admin_client, emulator, topic):
    connect(admin_client, "twitter")
    html = admin_client.get(f"/account/topics/{topic.id}/add/twitter/owned", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "acmecoffee" in html and "Admin" in html
    owner_id = emulator("twitter", "GET", "")["owner"]["id"]
    response = add(admin_client, topic, "twitter", "owned", owner_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Added" in html and 'hx-swap-oob="outerHTML:#streams-list"' in html
    stream = Stream.get()
    assert stream.authorized and stream.status == "queued" and stream.connected_profile is not None
    # The same page again in this topic is refused; in another topic it is the same
    # stream, held by both (one crawl per page).
    response = add(admin_client, topic, "twitter", "owned", owner_id)
    assert response.status_code == 400 and "is already a stream of this topic." in response.get_data(as_text=True)
    other = Topic.create(account=topic.account, name="Other")
    assert add(admin_client, other, "twitter", "owned", owner_id).status_code == 200
    assert Stream.select().count() == 1
    assert sorted(with_topic_names([Stream.get()])[0].topic_names) == sorted([topic.name, "Other"])


def test_forged_page_ids_are_refused(admin_client, emulator, topic):
    connect(admin_client, "twitter")
    rival = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    response = add(admin_client, topic, "twitter", "owned", rival)
    assert response.status_code == 400
    assert "That page is not one your connected profile administers." in response.get_data(as_text=True)
    response = add(admin_client, topic, "twitter", "public", "999999", q="@rivalroasters")
    assert response.status_code == 400
    assert "That page is not among the search results" in response.get_data(as_text=True)
    response = add(admin_client, topic, "twitter", "sideways", rival)
    assert "Choose whether the page is one of yours or a public page." in response.get_data(as_text=True)
    assert Stream.select().count() == 0


def test_add_unauthorized_stream_by_handle(admin_client, emulator, topic):
    html = admin_client.get(f"/account/topics/{topic.id}/add/twitter/public?q=https://x.com/rivalroasters/status/1?s=20",
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "rivalroasters" in html and "Add" in html
    rival = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    response = add(admin_client, topic, "twitter", "public", rival, q="@rivalroasters", htmx=False)
    assert response.status_code == 303
    stream = Stream.get()
    assert not stream.authorized and stream.credentials is None
    page = admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    assert "Unauthorized" in page
    # X's own rule for public accounts, not Facebook's "updates to the 100 most recent posts".
    x_note = "Only new posts are tracked, from the account&#39;s 100 most recent (replies excluded)"
    assert x_note in page and "updates to the 100 most recent posts" not in page.split("Add a stream")[0]


@pytest.mark.parametrize("query, message", [
    ("", "Enter the X (Twitter) page&#39;s URL or handle."),
    ("x" * 2000, "That is too long to be a X (Twitter) URL or handle (2,000 characters)."),
    ("javascript:alert(1)", "is not an X profile"),
    ("https://facebook.com/someone", "is not an X profile: links must point to x.com or twitter.com."),
    ("@this_handle_is_far_too_long", "handles have at most 15 characters (this one has 27)."),
    ("<b>été</b>", "is not an X profile"),
])
def test_bad_searches_get_clear_messages(admin_client, emulator, topic, query, message):
    response = admin_client.get(f"/account/topics/{topic.id}/add/twitter/public", query_string={"q": query},
                                headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'role="alert"' in html and message in html
    assert "<b>été</b>" not in html  # what was typed comes back escaped


def test_each_service_shows_what_its_plugin_declares_for_public_pages(admin_client, topic):
    """Facebook's "updates to the 100 most recent posts" is Facebook's rule; X says its own."""
    import re

    fb = "Only updates to the 100 most recent posts can be tracked."
    x = "Only new posts are tracked, from the account&#39;s 100 most recent (replies excluded)"
    html = admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-service="([a-z-]+)">(.*?)</tr>', html, re.S))
    assert fb in rows["facebook"] and x not in rows["facebook"]
    assert x in rows["twitter"] and fb not in rows["twitter"]
    for service, note in (("facebook", fb), ("twitter", x)):
        panel = admin_client.get(f"/account/topics/{topic.id}/add/{service}/public",
                                 headers={"HX-Request": "true"}).get_data(as_text=True)
        assert note in panel


X_LOOKUP = "X can only look up a public account by its exact handle (@name) or profile URL (x.com/name)."


@pytest.mark.parametrize("query", ["Rival Roasters", "https://x.com/explore", "x.com", "rivalroasters.com/about"])
def test_x_search_says_what_public_lookup_accepts(admin_client, emulator, topic, query):
    """A name, an X page that is no profile, a link elsewhere: the message says what X can look up."""
    response = admin_client.get(f"/account/topics/{topic.id}/add/twitter/public", query_string={"q": query},
                                headers={"HX-Request": "true"})
    assert response.status_code == 400 and X_LOOKUP in response.get_data(as_text=True)


def test_no_search_results(admin_client, emulator, topic):
    html = admin_client.get(f"/account/topics/{topic.id}/add/twitter/public?q=@nobody_here_42",
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "No X (Twitter) page matches “@nobody_here_42”." in html


def test_stream_status_polling_stops_when_nothing_is_pending(admin_client, topic):
    stream = new_stream(topic, service="twitter", page_id="1", name="Acme", status="queued")
    url = f"/account/topics/{topic.id}/streams"
    response = admin_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'hx-trigger="every 2s"' in response.get_data(as_text=True)
    Stream.update(status="active").where(Stream.id == stream.id).execute()
    response = admin_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 286 and 'data-status="active"' in response.get_data(as_text=True)


def runtime(environ, **extra) -> Runtime:
    from webapp.plugins import Plugins

    return Runtime(load_settings({**environ, **extra}), Plugins())


def test_crawl_unauthorized_stream_is_idempotent(admin_client, emulator, topic, environ):
    rival = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    add(admin_client, topic, "twitter", "public", rival, q="@rivalroasters")
    stream = Stream.get()
    rt = runtime(environ)
    assert crawl(rt, stream) == "active"
    stories = Story.select().where(Story.stream == stream).count()
    assert stories == 100  # only the 100 most recent posts of a public page
    assert crawl(rt, Stream.get_by_id(stream.id)) == "active"
    assert Story.select().where(Story.stream == stream).count() == stories
    assert Stream.get_by_id(stream.id).last_crawled_at is not None


def test_crawl_authorized_stream_and_expiry(admin_client, admin, emulator, topic, environ, smtp_server):
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]
    add(admin_client, topic, "twitter", "owned", owner["id"])
    rt = runtime(environ, SMTP_URL=smtp_server.url)
    assert crawl(rt, Stream.get()) == "active"
    assert Story.select().count() > 100
    # Access token expired: one refresh (rotated token stored) and the crawl goes on.
    emulator("twitter", "POST", "/tokens/expire", user=owner["id"])
    old_refresh = ConnectedProfile.get().refresh_token
    assert crawl(rt, Stream.get()) == "active"
    assert ConnectedProfile.get().refresh_token != old_refresh
    # Revoked: the stream expires, the admins get an e-mail, the topics page shows it.
    emulator("twitter", "POST", "/tokens/revoke", user=owner["id"])
    assert crawl(rt, Stream.get()) == "expired"
    assert Stream.get().status == "expired"
    assert crawl(rt, Stream.get()) == "expired"  # stays expired: no second e-mail
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail.recipients == [admin.email] and "expired" in mail["Subject"]
    assert "Click Reconnect in the red banner on the Topics page." in mail_part(mail)
    html = admin_client.get("/topics").get_data(as_text=True)
    assert 'class="expired-banner"' in html and "Reconnect" in html
    # Reconnect: the banner's button links the profile again and revives the stream.
    stream = Stream.get()
    assert admin_client.get(f"/personal/reconnect/{stream.id}").status_code == 405  # no state change by GET
    response = admin_client.post(f"/personal/reconnect/{stream.id}", data={"csrf_token": csrf_token(admin_client, "/topics")})
    assert response.headers["Location"] == "/personal/connected-profiles/twitter/connect?next=/topics"
    html = connect(admin_client, "twitter")
    assert "Reconnected 1 expired stream." in html
    assert Stream.get().status == "queued"
    assert 'class="expired-banner"' not in admin_client.get("/topics").get_data(as_text=True)


def test_expiry_mail_goes_to_admins_only(client, admin, member, emulator, topic, environ, smtp_server):
    from webapp.expiry import expire_stream

    stream = new_stream(topic, service="twitter", page_id="1", name="Acme", status="active")
    assert expire_stream(runtime(environ, SMTP_URL=smtp_server.url), stream, "Token revoked.")
    assert [m.recipients for m in smtp_server.messages] == [[admin.email]]
    login(client, member.email)
    html = client.get("/topics").get_data(as_text=True)
    assert "1 stream expired and no longer crawls new data." in html


def test_disconnect(admin_client, emulator):
    connect(admin_client, "twitter")
    token = csrf_token(admin_client, "/personal/connected-profiles")
    response = admin_client.post("/personal/connected-profiles/twitter/disconnect",
                                 data={"csrf_token": token, "confirmed": "1"},
                                 headers={"HX-Request": "true"})
    assert "is disconnected." in response.get_data(as_text=True)
    assert ConnectedProfile.select().count() == 0


def test_app_without_queue_still_adds(app, admin_client, emulator, topic):
    rival = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    response = add(admin_client, topic, "twitter", "public", rival, q="@rivalroasters", htmx=False)
    assert response.status_code == 303
    assert Stream.get().status == "queued"  # the cron schedule picks it up


@pytest.fixture
def with_queue(app, settings, clean_redis):
    """The app with a real queue (Valkey or Redis), as under `streamdesk run`."""
    app.extensions["streamdesk"] = dataclasses.replace(settings, redis_url=clean_redis)
    return clean_redis


def test_first_crawl_is_done_by_a_real_worker(admin_client, emulator, topic, environ, with_queue, tmp_path):
    """Add → the crawl job is queued → a worker process (its own DB connection, its own
    token keys) brings the stream up to date."""
    clean_redis = with_queue
    connect(admin_client, "facebook")
    response = add(admin_client, topic, "facebook", "owned", "104729384756102")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert redis_connect(clean_redis).llen("rq:queue:crawl") == 1
    worker = subprocess.run([sys.executable, "-m", "worker", "--burst", "--no-cron"], cwd=tmp_path, timeout=120,
                            env=subprocess_env(environ, REDIS_URL=clean_redis), capture_output=True, text=True)
    assert worker.returncode == 0, worker.stderr
    stream = Stream.get()
    assert stream.status == "active", (stream.status_message, worker.stderr)
    assert Story.select().where(Story.stream == stream).count() == 230


def test_status_polls_slowly_while_a_rate_limit_is_waited_out(admin_client, topic):
    new_stream(topic, service="twitter", page_id="1", name="Acme", status="queued",
                  status_message="Waiting for X's rate limit until 12:00 UTC.")
    html = admin_client.get(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in html


def test_declined_permission_gets_an_explanation_and_reconnect(admin_client, emulator, topic):
    """A Facebook profile linked with a permission unticked: the owned-pages panel explains
    what is missing and offers Reconnect (a link to the connect flow), never a 5xx."""
    connect(admin_client, "facebook", untick=("pages_show_list",))
    for headers in ({"HX-Request": "true"}, {}):
        response = admin_client.get(f"/account/topics/{topic.id}/add/facebook/owned", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, html
        assert "pages_show_list" in html
        assert 'href="/personal/connected-profiles/facebook/connect' in html and "Reconnect" in html
