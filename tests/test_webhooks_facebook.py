"""Facebook webhooks: the receiver (verification, signature, size, JSON, dedup) over the
app's real HTTP stack, and the job run by a real RQ worker on real Redis/Valkey."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import subprocess

import pytest
import redis
from rq import Queue, SimpleWorker

from conftest import STREAMDESK, subprocess_env
from factories import new_stream
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import Comment, Message, Story, Stream, Topic, WebhookEvent
from webapp.plugins import Plugins
from webapp.streams import Runtime

VERIFY_TOKEN = "a-verify-token-for-tests"
DELI = "113847562910384"  # a small public page of the emulator's seed


#: The app queues on the test's Redis.
pytestmark = pytest.mark.redis


@pytest.fixture
def environ(environ):
    """The app knows its verify token."""
    environ.update(FACEBOOK_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN)
    return environ


def signed(environ, body: bytes, secret: str | None = None) -> dict:
    key = (secret or environ["FACEBOOK_CLIENT_SECRET"]).encode()
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def delivery(page_id: str, *values, messaging=()) -> bytes:
    return json.dumps({"object": "page", "entry": [{
        "id": page_id, "time": 1764700000,
        "changes": [{"field": "feed", "value": v} for v in values],
        **({"messaging": list(messaging)} if messaging else {})}]}).encode()


def comment_value(post_id, comment_id, message="Love it", verb="add", parent_id=None):
    return {"item": "comment", "verb": verb, "post_id": post_id, "comment_id": comment_id,
            "parent_id": parent_id or post_id, "from": {"id": "777", "name": "Ann Fan"},
            "message": message, "created_time": 1764700000}


class BurstWorker(SimpleWorker):
    """RQ's in-process worker without its command channel: a burst run takes no
    commands, and stopping the channel's thread (RQ polls it every 60 s; redis-py's
    stop() waits for the poll) made a run last up to a minute."""

    def subscribe(self):
        self.pubsub_thread = None


def run_jobs(redis_url) -> int:
    """Run every queued default-queue job in a real RQ worker; returns how many ran."""
    connection = redis.Redis.from_url(redis_url)
    count = Queue("default", connection=connection).count
    BurstWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    assert Queue("default", connection=connection).failed_job_registry.count == 0
    return count


@pytest.fixture
def deli_stream(account):
    return new_stream(Topic.create(account=account, name="Delis"), service="facebook", page_id=DELI,
                      name="Corner Deli", authorized=False)


# -- verification -------------------------------------------------------------------

def test_verification_echoes_the_challenge_for_the_right_token(client):
    response = client.get("/webhooks/facebook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and response.get_data(as_text=True) == "1158201444"


@pytest.mark.parametrize("token", ["wrong", "", VERIFY_TOKEN + "x"])
def test_verification_with_a_wrong_token_is_refused(client, token):
    response = client.get("/webhooks/facebook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    assert response.status_code == 403 and "1158201444" not in response.get_data(as_text=True)


def test_verification_without_a_configured_token_is_refused(app, client, environ):
    app.extensions["streamdesk"] = load_settings({**environ, "FACEBOOK_WEBHOOK_VERIFY_TOKEN": ""})
    response = client.get("/webhooks/facebook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


# -- the receiver refuses ----------------------------------------------------------------

def test_a_forged_signature_is_refused_and_stores_nothing(client, environ, clean_redis, deli_stream):
    body = delivery(DELI, comment_value(f"{DELI}_1", "1_2"))
    response = client.post("/webhooks/facebook", data=body, headers=signed(environ, body, secret="not-the-secret"))
    assert response.status_code == 403 and "signature" in response.get_data(as_text=True)
    # a body changed after signing is forged too
    tampered = body.replace(b"Love it", b"Hate it")
    response = client.post("/webhooks/facebook", data=tampered, headers=signed(environ, body))
    assert response.status_code == 403
    assert WebhookEvent.select().count() == 0 and Queue("default", connection=redis.Redis.from_url(clean_redis)).count == 0


def test_a_missing_signature_is_refused_and_stores_nothing(client, deli_stream):
    body = delivery(DELI, comment_value(f"{DELI}_1", "1_2"))
    response = client.post("/webhooks/facebook", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    assert WebhookEvent.select().count() == 0


def test_malformed_json_gets_a_readable_400(client, environ):
    for body in (b'{"object": "page", "entry": [', b'{"object": "user", "entry": []}',
                 b'{"object": "page", "entry": [{"changes": []}]}', b"\xff\xfe"):
        response = client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
        assert response.status_code == 400, body
        assert "not a Graph webhook payload" in response.get_data(as_text=True)
    assert WebhookEvent.select().count() == 0


def test_a_body_over_one_megabyte_is_refused_before_it_is_read(client, environ):
    body = delivery(DELI, comment_value(f"{DELI}_1", "1_2", message="x" * (1024 * 1024)))
    response = client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
    assert response.status_code == 413 and "over 1 MB" in response.get_data(as_text=True)
    assert WebhookEvent.select().count() == 0


def test_the_routes_need_no_login_and_no_csrf_token(app, environ, deli_stream):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production (TESTING leaves it on too)
    body = delivery(DELI, comment_value(f"{DELI}_1", "1_2"))
    response = app.test_client().post("/webhooks/facebook", data=body, headers=signed(environ, body))
    assert response.status_code == 200


# -- recorded, deduplicated, processed ----------------------------------------------------

def test_a_delivery_is_recorded_and_a_replay_stores_nothing_new(client, environ, clean_redis, deli_stream,
                                                                 worker_env):
    post = f"{DELI}_5001"
    body = delivery(DELI, comment_value(post, "5001_1"), comment_value(post, "5001_2", message="Me too",
                                                                       parent_id="5001_1"))
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    assert WebhookEvent.select().count() == 2
    assert run_jobs(clean_redis) == 1  # one job per delivery
    replay = client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
    assert replay.status_code == 200
    assert WebhookEvent.select().count() == 2 and run_jobs(clean_redis) == 0  # nothing new, nothing queued
    assert {e.status for e in WebhookEvent.select()} == {"processed"}
    rows = {c.external_id: c for c in Comment.select().where(Comment.stream == deli_stream.id)}
    assert set(rows) == {"5001_1", "5001_2"}
    assert rows["5001_1"].parent_external_id is None and rows["5001_2"].parent_external_id == "5001_1"
    assert rows["5001_1"].story_external_id == post and rows["5001_1"].author_name == "Ann Fan"


def test_an_edit_updates_and_a_removal_deletes_the_comment(client, environ, clean_redis, deli_stream, worker_env):
    post = f"{DELI}_5002"
    for value in (comment_value(post, "5002_1"), comment_value(post, "5002_1", message="Edited", verb="edited")):
        body = delivery(DELI, value)
        client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
        run_jobs(clean_redis)
    assert [c.text for c in Comment.select()] == ["Edited"]
    body = delivery(DELI, {"item": "comment", "verb": "remove", "post_id": post, "comment_id": "5002_1",
                           "parent_id": post, "created_time": 1764700100})
    client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
    run_jobs(clean_redis)
    assert Comment.select().count() == 0


def test_every_stream_of_the_page_gets_the_update_and_messages_only_the_authorized(
        client, environ, clean_redis, account, deli_stream, worker_env):
    from webapp.models import Account
    other = Account.create(name="Other team")
    owned = new_stream(Topic.create(account=other, name="Ours"), service="facebook", page_id=DELI,
                       name="Corner Deli", authorized=True)
    body = delivery(DELI, {"item": "status", "verb": "add", "post_id": f"{DELI}_6001", "message": "Open late",
                           "from": {"id": DELI, "name": "Corner Deli"}, "created_time": 1764700000},
                    messaging=[{"sender": {"id": "2001"}, "recipient": {"id": DELI}, "timestamp": 1764700000123,
                                "message": {"mid": "m_abc", "text": "Are you open?"}}])
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    run_jobs(clean_redis)
    assert {s.stream_id for s in Story.select().where(Story.external_id == f"{DELI}_6001")} == {deli_stream.id,
                                                                                                 owned.id}
    assert [(m.stream_id, m.text) for m in Message.select()] == [(owned.id, "Are you open?")]
    assert Stream.get_by_id(deli_stream.id).story_count == 1


def test_an_event_for_an_unknown_page_is_dropped_with_a_log_line(client, environ, clean_redis, worker_env, caplog):
    body = delivery("999000111", comment_value("999000111_1", "1_1"))
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    with caplog.at_level(logging.INFO, logger="webapp.webhooks"):
        run_jobs(clean_redis)
    event = WebhookEvent.get()
    assert event.status == "dropped" and "999000111" in event.message
    assert "no stream holds page 999000111" in caplog.text
    assert Comment.select().count() == 0


def test_an_event_the_plugin_cannot_read_is_marked_failed_not_crashing_the_worker(
        client, environ, clean_redis, deli_stream, worker_env):
    body = delivery(DELI, {"item": "comment", "verb": "add", "post_id": f"{DELI}_1"})  # no comment_id
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    run_jobs(clean_redis)  # asserts the job itself did not fail
    event = WebhookEvent.get()
    assert event.status == "failed" and event.message
    assert Comment.select().count() == 0


def test_a_webhook_then_a_crawl_of_the_same_comment_leave_one_row(client, environ, clean_redis, emulator,
                                                                    deli_stream, worker_env):
    post = emulator("facebook", "POST", "/posts", page_id=DELI, message="Soup of the day")["id"]
    comment = emulator("facebook", "POST", "/comments", post_id=post, message="Tomato please")["id"]
    body = delivery(DELI, comment_value(post, comment, message="Tomato please"))
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    run_jobs(clean_redis)
    assert Comment.select().where(Comment.external_id == comment).count() == 1
    outcome = crawl(Runtime(load_settings(environ), Plugins()), Stream.get_by_id(deli_stream.id))
    assert outcome == "active"
    rows = list(Comment.select().where(Comment.external_id == comment))
    assert len(rows) == 1 and rows[0].text == "Tomato please" and rows[0].story_external_id == post
    assert Story.select().where(Story.external_id == post).count() == 1


def test_the_sweep_processes_events_whose_job_was_lost_and_purges_after_seven_days(
        app, client, environ, clean_redis, deli_stream, worker_env):
    import datetime

    from webapp import webhooks
    from webapp.models import utcnow
    app.extensions["streamdesk"] = load_settings({**environ, "REDIS_URL": "redis://127.0.0.1:1/0"})  # queue down
    body = delivery(DELI, comment_value(f"{DELI}_7001", "7001_1"))
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    old = delivery(DELI, comment_value(f"{DELI}_7002", "7002_1"))
    client.post("/webhooks/facebook", data=old, headers=signed(environ, old))
    assert webhooks.sweep() == {"processed": 0, "purged": 0}  # not stuck yet: its job may still come
    WebhookEvent.update(received_at=utcnow() - datetime.timedelta(minutes=5)).execute()
    WebhookEvent.update(received_at=utcnow() - datetime.timedelta(days=8)).where(
        WebhookEvent.event_key.contains("7002") | (WebhookEvent.body.contains("7002_1"))).execute()
    assert webhooks.sweep() == {"processed": 2, "purged": 1}
    assert [e.body.count("7001_1") for e in WebhookEvent.select()] == [1]
    assert WebhookEvent.get().status == "processed"
    assert {c.external_id for c in Comment.select()} == {"7001_1", "7002_1"}


def test_webhook_messages_join_the_conversation_the_crawl_named(client, environ, clean_redis, account, worker_env):
    import datetime

    from streamdesk_contract.values import CrawlPage
    from streamdesk_contract.values import Message as MessageValue
    from webapp.crawl import ingest
    owned = new_stream(Topic.create(account=account, name="Ours"), service="facebook", page_id=DELI,
                       name="Corner Deli", authorized=True)
    at = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)

    def message_from(sender, mid, text):
        return {"sender": {"id": sender}, "recipient": {"id": DELI}, "timestamp": 1764700000000 + len(mid),
                "message": {"mid": mid, "text": text}}
    # a person the crawl knows: the webhook's message joins their conversation
    ingest(owned, CrawlPage(None, messages=(MessageValue("m_old", "t_1", at, "Hi", sender_id="2001"),)))
    # a person the crawl does not know yet: filed under the sender until the crawl names it
    body = delivery(DELI, messaging=[message_from("2001", "m_new", "Still there?"),
                                     message_from("2002", "m_first", "Hello")])
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    run_jobs(clean_redis)
    conversations = {m.external_id: m.conversation_id for m in Message.select()}
    assert conversations == {"m_old": "t_1", "m_new": "t_1", "m_first": "psid:2002"}
    ingest(owned, CrawlPage(None, messages=(MessageValue("m_first", "t_2", at, "Hello", sender_id="2002"),)))
    assert Message.get(Message.external_id == "m_first").conversation_id == "t_2"
    assert Message.select().count() == 3


def test_deliveries_while_a_job_waits_queue_no_other_and_that_job_takes_them_all(
        client, environ, clean_redis, deli_stream, worker_env):
    for n in range(3):
        body = delivery(DELI, comment_value(f"{DELI}_8001", f"8001_{n}"))
        assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    assert run_jobs(clean_redis) == 1
    assert Comment.select().count() == 3 and {e.status for e in WebhookEvent.select()} == {"processed"}
    # once that job started, the next delivery queues a new one
    body = delivery(DELI, comment_value(f"{DELI}_8001", "8001_9"))
    client.post("/webhooks/facebook", data=body, headers=signed(environ, body))
    assert run_jobs(clean_redis) == 1 and Comment.select().count() == 4


def test_replay_stores_what_was_dropped_once_the_page_has_a_stream(client, environ, clean_redis, account,
                                                                    worker_env, tmp_path):
    def replay(*args):
        return subprocess.run([STREAMDESK, "webhooks", "replay", *args], cwd=tmp_path, capture_output=True,
                              text=True, env=subprocess_env(environ), timeout=120)

    body = delivery(DELI, comment_value(f"{DELI}_1", f"{DELI}_1_7", message="Still open?"))
    assert client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    run_jobs(clean_redis)
    assert WebhookEvent.get().status == "dropped" and Comment.select().count() == 0  # no stream held the page
    out = replay("--service", "twitter")
    assert out.returncode == 1 and "No kept event matches: nothing to replay." in out.stderr
    new_stream(Topic.create(account=account, name="Delis"), service="facebook", page_id=DELI, name="Corner Deli",
               authorized=False)
    out = replay("--service", "facebook", "--hours", "1")
    assert out.returncode == 0 and "1 processed" in out.stdout, out.stderr
    assert [c.text for c in Comment.select()] == ["Still open?"] and WebhookEvent.get().status == "processed"
    out = replay("--all", "--page", DELI)  # processed events again: harmless
    assert out.returncode == 0 and "1 processed" in out.stdout and Comment.select().count() == 1
    out = replay("--service", "myspace")  # services come from the plugins, not a list in the core
    assert out.returncode == 2 and "no plugin provides 'myspace'; the services are: facebook, twitter." in out.stderr
    out = replay("--hours", "0")
    assert out.returncode == 2 and "Invalid value for '--hours'" in out.stderr and "Traceback" not in out.stderr
