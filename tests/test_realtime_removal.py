"""Real time when streams go: deleting a topic unsubscribes the pages (Facebook and X) of
the streams that went with it, once no topic holds them any more; and a subscription
job that was lost (the stream stays "subscribing") is queued again by the cron."""
from __future__ import annotations

import datetime

import pytest
import redis
from rq import Queue

from conftest import csrf_token
from test_realtime_facebook import BLUEBIRD, page_subscriptions
from test_realtime_x import activity, served, subscribed  # noqa: F401  (fixtures)
from test_streams import add, connect
from test_webhooks_facebook import run_jobs
from webapp import realtime
from webapp.models import Stream, Topic, utcnow

pytestmark = pytest.mark.redis  # the app queues on the test's Redis (conftest's environ)


def delete_topic(client, topic):
    token = csrf_token(client, f"/account/topics/{topic.id}/delete")
    return client.post(f"/account/topics/{topic.id}/delete", data={"csrf_token": token})


def test_deleting_a_topic_unsubscribes_the_pages_no_other_topic_holds(admin_client, emulator, topic, environ,
                                                                       served):
    connect(admin_client, "facebook")
    connect(admin_client, "twitter")
    x_owner = emulator("twitter", "GET", "")["owner"]["id"]
    assert add(admin_client, topic, "facebook", "owned", BLUEBIRD).status_code == 200
    assert add(admin_client, topic, "twitter", "owned", x_owner).status_code == 200
    other = Topic.create(account=topic.account_id, name="Also Bluebird")
    assert add(admin_client, other, "facebook", "owned", BLUEBIRD).status_code == 200
    run_jobs(environ["REDIS_URL"])
    assert {s.service: s.realtime for s in Stream.select()} == {"facebook": "on", "twitter": "on"}
    assert page_subscriptions(emulator) == {BLUEBIRD: ["feed", "messages"]} and subscribed(emulator, x_owner)

    # The X stream went with the topic; the Facebook page is still held by the other topic.
    assert delete_topic(admin_client, topic).status_code == 303
    assert [s.service for s in Stream.select()] == ["facebook"]
    assert run_jobs(environ["REDIS_URL"]) == 1
    assert subscribed(emulator, x_owner) == []
    assert page_subscriptions(emulator) == {BLUEBIRD: ["feed", "messages"]}

    # Its last topic deleted: the page is unsubscribed too.
    assert delete_topic(admin_client, other).status_code == 303
    assert run_jobs(environ["REDIS_URL"]) == 1
    assert page_subscriptions(emulator) == {}


def test_a_page_another_account_still_holds_stays_subscribed(admin_client, emulator, topic, environ, served):
    from factories import new_stream
    from webapp.models import Account

    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", BLUEBIRD)
    run_jobs(environ["REDIS_URL"])
    theirs = Topic.create(account=Account.create(name="Agency"), name="Theirs")
    new_stream(theirs, service="facebook", page_id=BLUEBIRD, name="Bluebird", authorized=True, realtime="on")
    assert delete_topic(admin_client, topic).status_code == 303
    assert run_jobs(environ["REDIS_URL"]) == 0  # nothing to unsubscribe: Graph's subscription is the app's
    assert page_subscriptions(emulator) == {BLUEBIRD: ["feed", "messages"]}


def test_a_lost_subscription_job_is_queued_again_by_the_cron(admin_client, emulator, topic, environ, served):
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    add(admin_client, topic, "twitter", "owned", owner)
    stream = Stream.get()
    assert stream.realtime == "subscribing"
    # Still queued: the cron queues nothing more, even once it looks lost.
    Stream.update(realtime_at=utcnow() - datetime.timedelta(minutes=6)).execute()
    assert realtime.requeue_lost() == 0
    # The job is lost (a flushed queue, a worker gone with it).
    Queue("default", connection=redis.Redis.from_url(environ["REDIS_URL"])).empty()
    redis.Redis.from_url(environ["REDIS_URL"]).flushdb()
    assert realtime.requeue_lost() == 0  # marked a moment ago: not lost yet
    Stream.update(realtime_at=utcnow() - datetime.timedelta(minutes=6)).execute()
    assert realtime.requeue_lost() == 1
    assert run_jobs(environ["REDIS_URL"]) == 1
    assert Stream.get().realtime == "on" and subscribed(emulator, owner)
    assert realtime.requeue_lost() == 0
    assert activity(emulator)["webhooks"][0]["valid"] is True
