"""Crawl control: CRAWL_INTERVAL and a topic's own interval, last and next crawl shown,
"Crawl now", and `streamdesk crawl` in the foreground."""
import subprocess

import pytest
from conftest import STREAMDESK, csrf_token, subprocess_env

from webapp.config import ConfigError, load_settings
from webapp.crawl import crawl
from webapp.models import Stream, Topic, utcnow
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream

GLOBEX = "101938475620394"  # a public Facebook page of the emulator


@pytest.fixture
def topic(account):
    return Topic.create(account=account, name="Rivals")


@pytest.fixture
def public(topic, emulator):
    return new_stream(topic, service="facebook", page_id=GLOBEX, name="Globex Coffee Company")


def wait(stream) -> float:
    return (Stream.get_by_id(stream.id).next_crawl_at - utcnow()).total_seconds()


def test_the_interval_comes_from_the_setting_or_the_topic(environ, public, topic):
    assert crawl(Runtime(load_settings({**environ, "CRAWL_INTERVAL": "60"}), Plugins()), public) == "active"
    assert 50 < wait(public) <= 60
    Topic.update(crawl_interval=900).where(Topic.id == topic.id).execute()
    assert crawl(Runtime(load_settings(environ), Plugins()), Stream.get_by_id(public.id)) == "active"
    assert 890 < wait(public) <= 900


@pytest.mark.parametrize("value", ["5", "abc", "-1", "1.5", "１２"])
def test_a_bad_crawl_interval_is_refused_clearly(environ, value):
    with pytest.raises(ConfigError, match="CRAWL_INTERVAL must be a whole number of seconds, at least 10"):
        load_settings({**environ, "CRAWL_INTERVAL": value})


def test_admins_set_a_topics_interval_and_crawl_now(admin_client, environ, public, topic):
    page = f"/account/topics/{topic.id}"
    token = csrf_token(admin_client, page)
    response = admin_client.post(f"{page}/crawl-interval", data={"csrf_token": token, "crawl_interval": "3"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 400 and "at least 10, or leave it empty" in response.get_data(as_text=True)
    admin_client.post(f"{page}/crawl-interval", data={"csrf_token": token, "crawl_interval": "120"})
    assert Topic.get_by_id(topic.id).crawl_interval == 120
    assert "Crawl interval: every 120 s" in admin_client.get(page).get_data(as_text=True)

    assert crawl(Runtime(load_settings(environ), Plugins()), public) == "active"
    html = admin_client.get(page).get_data(as_text=True)
    fresh = Stream.get_by_id(public.id)
    assert f"Last crawled {fresh.last_crawled_at:%Y-%m-%d %H:%M} UTC, next {fresh.next_crawl_at:%H:%M} UTC" in html
    assert "Crawl now</button>" in html
    response = admin_client.post(f"{page}/streams/{public.id}/crawl", data={"csrf_token": token})
    assert response.status_code == 303 and wait(public) <= 0  # due at once: the schedule takes it
    Stream.update(status="expired").where(Stream.id == public.id).execute()
    admin_client.post(f"{page}/streams/{public.id}/crawl", data={"csrf_token": token})
    assert "has expired: reconnect it first." in admin_client.get(page).get_data(as_text=True)
    admin_client.post(f"{page}/crawl-interval", data={"csrf_token": token, "crawl_interval": ""})
    assert Topic.get_by_id(topic.id).crawl_interval is None


def test_members_cannot_crawl_now(member_client, public, topic):
    token = csrf_token(member_client, "/topics")
    response = member_client.post(f"/account/topics/{topic.id}/streams/{public.id}/crawl", data={"csrf_token": token})
    assert response.status_code == 403


def test_streamdesk_crawl_in_the_foreground(environ, public, tmp_path):
    def cli(*args):
        return subprocess.run([STREAMDESK, "crawl", *args], cwd=tmp_path, capture_output=True, text=True,
                              env=subprocess_env(environ), timeout=120)

    out = cli("--stream", str(public.id))
    assert out.returncode == 0, out.stderr
    assert "Globex Coffee Company" in out.stdout and "active" in out.stdout
    assert Stream.get_by_id(public.id).last_crawled_at is not None
    out = cli()
    assert out.returncode == 2 and "Choose one of --stream ID, --topic ID or --all." in out.stderr
    out = cli("--topic", "999999")
    assert out.returncode == 1 and "No stream matches" in out.stderr and "Traceback" not in out.stderr
