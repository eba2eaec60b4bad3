"""After a reconnect, the first crawl catches up on what was posted while the stream
was expired, as far as the provider lets it; what lies beyond is a visible gap."""
import datetime

import pytest
from test_streams import add, connect

from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import Stream, StreamGap, Topic, utcnow
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream


@pytest.fixture
def rt(environ):
    return Runtime(load_settings(environ), Plugins())


@pytest.fixture
def x_stream(admin_client, emulator, account, rt):
    """@acmecoffee, crawled, then expired (its token revoked) and crawled into expiry."""
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    topic = Topic.create(account=account, name="Brand")
    add(admin_client, topic, "twitter", "owned", owner)
    assert crawl(rt, Stream.get()) == "active"
    emulator("twitter", "POST", "/tokens/revoke", user=owner)
    assert crawl(rt, Stream.get()) == "expired"
    stream = Stream.get()
    assert stream.expired_at is not None and (utcnow() - stream.expired_at).total_seconds() < 60
    return topic, stream


def reconnect_and_crawl(admin_client, rt, expired_days_ago: float) -> Stream:
    Stream.update(expired_at=utcnow() - datetime.timedelta(days=expired_days_ago)).execute()
    assert "Reconnected 1 expired stream." in connect(admin_client, "twitter")
    assert crawl(rt, Stream.get()) == "active"
    return Stream.get()


def test_what_x_cannot_reach_back_to_is_a_gap(admin_client, rt, x_stream):
    topic, stream = x_stream
    fresh = reconnect_and_crawl(admin_client, rt, expired_days_ago=10)
    assert fresh.expired_at is None  # caught up: the next expiry starts afresh
    gap = StreamGap.get()
    assert gap.stream_id == stream.id
    assert abs((gap.ends_at - (utcnow() - datetime.timedelta(days=7))).total_seconds()) < 60
    assert abs((gap.starts_at - (utcnow() - datetime.timedelta(days=10))).total_seconds()) < 60
    html = admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    assert f"No data from {gap.starts_at:%Y-%m-%d %H:%M} to {gap.ends_at:%Y-%m-%d %H:%M} UTC" in html
    assert "reach back only 7 days" in html
    assert crawl(rt, Stream.get()) == "active" and StreamGap.select().count() == 1  # recorded once


def test_a_short_expiry_is_caught_up_without_a_gap(admin_client, rt, x_stream):
    reconnect_and_crawl(admin_client, rt, expired_days_ago=2)
    assert StreamGap.select().count() == 0


def test_a_service_without_a_window_never_records_a_gap(rt, account):
    stream = new_stream(Topic.create(account=account, name="T"), service="facebook", page_id="1",
                           name="P", expired_at=utcnow() - datetime.timedelta(days=400))
    from webapp.crawl import record_gap

    assert record_gap(rt, stream) is None
