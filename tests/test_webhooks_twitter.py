"""X webhooks (X Activity API): the CRC answer, the signed receiver (signature, size,
JSON, dedup by event_uuid) over the app's real HTTP stack, and the job run by a real RQ
worker on real Redis/Valkey turning mentions, replies, quotes and DMs into the rows the
crawl stores, and oauth.revoke into expired streams with the admins e-mailed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import logging
from email.header import decode_header, make_header

import emulators
import pytest
import redis
from conftest import login, mail_part
from rq import Queue
from test_engage_x import x  # noqa: F401  (the X emulator fixture)
from test_webhooks_facebook import run_jobs
from twitter.x_helpers import authorize

from factories import new_stream
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import Comment, ConnectedProfile, Message, Story, Stream, Topic, WebhookEvent
from webapp.plugins import Plugins
from webapp.streams import Runtime

OWNER = "1700000000000000001"  # an X account id no emulator seed uses


#: The app queues on the test's Redis.
pytestmark = pytest.mark.redis


def secret(environ) -> str:
    return environ["TWITTER_CONSUMER_SECRET"]  # the app's API Key Secret (the emulator's in sandbox mode)


def signed(environ, body: bytes, key: str | None = None) -> dict:
    digest = hmac.new((key or secret(environ)).encode(), body, hashlib.sha256).digest()
    return {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}


def event(event_type: str, payload: dict, owner: str = OWNER, uuid: str = "1", includes=None) -> bytes:
    return json.dumps({"data": {"event_uuid": uuid, "filter": {"user_id": owner}, "event_type": event_type,
                                "tag": "streamdesk", "payload": payload, **({"includes": includes} if includes else {})
                                }}).encode()


def post(client, environ, body: bytes):
    return client.post("/webhooks/twitter", data=body, headers=signed(environ, body))


def reply_payload(reply_id="1800000000000000010", root="1800000000000000001", parent=None, text="@acme hi"):
    return {"id": reply_id, "text": text, "author_id": "1600000000000000002", "conversation_id": root,
            "created_at": "2026-12-01T10:00:00.000Z",
            "referenced_tweets": [{"type": "replied_to", "id": parent or root}]}


@pytest.fixture
def own_stream(account):
    return new_stream(Topic.create(account=account, name="Ours"), service="twitter", page_id=OWNER,
                      name="Acme", handle="acme", authorized=True, status="active")


# -- CRC ---------------------------------------------------------------------------------

def test_the_crc_answers_the_base64_hmac_of_the_token(client, environ):
    response = client.get("/webhooks/twitter", query_string={"crc_token": "abc123"})
    assert response.status_code == 200
    expected = base64.b64encode(hmac.new(secret(environ).encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert response.get_json() == {"response_token": f"sha256={expected}"}


def test_without_a_consumer_secret_the_crc_signs_with_the_client_secret(app, environ):
    app.extensions["streamdesk"] = load_settings({**environ, "TWITTER_CONSUMER_SECRET": ""})
    token = app.test_client().get("/webhooks/twitter?crc_token=xyz").get_json()["response_token"]
    right = base64.b64encode(hmac.new(environ["TWITTER_CLIENT_SECRET"].encode(), b"xyz", hashlib.sha256).digest())
    assert token == f"sha256={right.decode()}" and environ["TWITTER_CLIENT_SECRET"] != secret(environ)


@pytest.mark.parametrize("query", [{}, {"crc_token": ""}, {"crc_token": "x" * 300}])
def test_a_crc_without_a_usable_token_gets_a_readable_400(client, query):
    response = client.get("/webhooks/twitter", query_string=query)
    assert response.status_code == 400 and "crc_token" in response.get_data(as_text=True)


def test_a_crc_without_any_secret_configured_is_refused(app, environ):
    app.extensions["streamdesk"] = load_settings({**environ, "TWITTER_CLIENT_SECRET": "", "TWITTER_CONSUMER_SECRET": ""})
    assert app.test_client().get("/webhooks/twitter?crc_token=abc").status_code == 403


# -- the receiver refuses ----------------------------------------------------------------

def test_a_forged_signature_is_refused_and_stores_nothing(client, environ, clean_redis, own_stream):
    body = event("post.reply.create", reply_payload())
    response = client.post("/webhooks/twitter", data=body, headers=signed(environ, body, key="not-the-secret"))
    assert response.status_code == 403 and "signature" in response.get_data(as_text=True)
    tampered = body.replace(b"@acme hi", b"@acme no")  # changed after signing
    assert client.post("/webhooks/twitter", data=tampered, headers=signed(environ, body)).status_code == 403
    hexed = {"x-twitter-webhooks-signature": "sha256=" + hmac.new(secret(environ).encode(), body,
                                                                   hashlib.sha256).hexdigest()}
    assert client.post("/webhooks/twitter", data=body, headers=hexed).status_code == 403  # Graph's form is not X's
    garbage = b'{"data": {'  # the signature is checked before the JSON is read
    assert client.post("/webhooks/twitter", data=garbage, headers=signed(environ, garbage, key="x")).status_code == 403
    assert WebhookEvent.select().count() == 0 and Queue("default", connection=redis.Redis.from_url(clean_redis)).count == 0


def test_a_missing_signature_is_refused_and_stores_nothing(client, own_stream):
    body = event("post.reply.create", reply_payload())
    assert client.post("/webhooks/twitter", data=body, headers={"Content-Type": "application/json"}).status_code == 403
    assert WebhookEvent.select().count() == 0


def test_malformed_json_gets_a_readable_400(client, environ):
    for body in (b'{"data": {', b'{"object": "page", "entry": []}', b'{"data": {"event_type": "dm.received"}}',
                 b'{"data": {"event_uuid": "1"}}', b'[]', b"\xff\xfe"):
        response = post(client, environ, body)
        assert response.status_code == 400, body
        assert "not an X Activity API event" in response.get_data(as_text=True)
    assert WebhookEvent.select().count() == 0


def test_a_body_over_one_megabyte_is_refused_before_it_is_read(client, environ):
    body = event("post.reply.create", reply_payload(text="x" * (1024 * 1024)))
    response = post(client, environ, body)
    assert response.status_code == 413 and "over 1 MB" in response.get_data(as_text=True)
    assert WebhookEvent.select().count() == 0


def test_the_routes_need_no_login_and_no_csrf_token(app, environ, own_stream):
    app.config["WTF_CSRF_ENABLED"] = True
    body = event("post.reply.create", reply_payload())
    assert app.test_client().post("/webhooks/twitter", data=body, headers=signed(environ, body)).status_code == 200


# -- recorded, deduplicated, processed ----------------------------------------------------

def test_an_event_is_recorded_once_and_a_replay_stores_nothing_new(client, environ, clean_redis, own_stream,
                                                                   worker_env):
    body = event("post.reply.create", reply_payload(), uuid="77", includes={"users": [
        {"id": "1600000000000000002", "name": "Ann Fan", "username": "annfan"}]})
    assert post(client, environ, body).status_code == 200
    assert run_jobs(clean_redis) == 1
    assert post(client, environ, body).status_code == 200  # X retried, or someone replays it
    assert WebhookEvent.select().count() == 1 and run_jobs(clean_redis) == 0
    event_row = WebhookEvent.get()
    assert (event_row.event_key, event_row.page_id, event_row.status) == ("uuid:77", OWNER, "processed")
    comment = Comment.get()
    assert (comment.external_id, comment.story_external_id, comment.parent_external_id) == (
        "1800000000000000010", "1800000000000000001", None)
    assert comment.author_name == "Ann Fan (@annfan)" and comment.stream_id == own_stream.id


def test_mentions_quotes_nested_replies_and_dms_become_rows(client, environ, clean_redis, own_stream, worker_env):
    mention = {"id": "1800000000000000020", "text": "@acme where are you?", "author_id": "1600000000000000002",
               "conversation_id": "1800000000000000020", "created_at": "2026-12-01T10:00:00.000Z"}
    quote = {**mention, "id": "1800000000000000021", "conversation_id": "1800000000000000021", "text": "so true",
             "referenced_tweets": [{"type": "quoted", "id": "1800000000000000001"}]}
    nested = reply_payload("1800000000000000022", parent="1800000000000000010")
    dm = {"id": "1900000000000000001", "event_type": "MessageCreate", "text": "Open today?",
          "sender_id": "1600000000000000002", "dm_conversation_id": f"1600000000000000002-{OWNER}",
          "created_at": "2026-12-01T10:00:00.000Z"}
    echo = {**dm, "id": "1900000000000000002", "sender_id": OWNER, "text": "Yes!"}
    for n, (kind, payload) in enumerate([("post.mention.create", mention), ("post.quote.create", quote),
                                         ("post.reply.create", nested), ("dm.received", dm), ("dm.received", echo),
                                         ("profile.update.bio", {"before": "", "after": "x"})]):
        assert post(client, environ, event(kind, payload, uuid=f"e{n}")).status_code == 200
    run_jobs(clean_redis)
    assert {e.status for e in WebhookEvent.select()} == {"processed"}
    stories = {s.external_id: s.raw_type for s in Story.select()}
    assert stories == {"1800000000000000020": "mention", "1800000000000000021": "quote"}
    comment = Comment.get()
    assert (comment.story_external_id, comment.parent_external_id) == ("1800000000000000001", "1800000000000000010")
    assert [(m.external_id, m.conversation_id, m.text) for m in Message.select()] == [
        ("1900000000000000001", f"1600000000000000002-{OWNER}", "Open today?")]


def test_an_event_for_an_unknown_user_is_dropped_with_a_log_line(client, environ, clean_redis, worker_env, caplog):
    body = event("post.reply.create", reply_payload(), owner="1700000000000000999")
    assert post(client, environ, body).status_code == 200
    with caplog.at_level(logging.INFO, logger="webapp.webhooks"):
        run_jobs(clean_redis)
    assert WebhookEvent.get().status == "dropped"
    assert "no stream holds page 1700000000000000999" in caplog.text
    assert Comment.select().count() == 0


def test_an_event_the_plugin_cannot_read_is_marked_failed(client, environ, clean_redis, own_stream, worker_env):
    body = event("post.reply.create", {"text": "no id"})
    assert post(client, environ, body).status_code == 200
    run_jobs(clean_redis)  # asserts the job itself did not fail
    row = WebhookEvent.get()
    assert row.status == "failed" and "could not read" in row.message
    assert Comment.select().count() == 0


def test_oauth_revoke_expires_the_streams_at_once_and_emails_the_admins(
        client, environ, clean_redis, account, admin, own_stream, worker_env, smtp_server, monkeypatch):
    from webapp.runtime import runtime
    monkeypatch.setenv("SMTP_URL", smtp_server.url)
    runtime.cache_clear()
    public = new_stream(Topic.create(account=account, name="Watch"), service="twitter", page_id=OWNER,
                        name="Acme (public)", handle="acme", authorized=False, status="active")
    body = event("oauth.revoke", {"user_id": OWNER}, uuid="rev-1")
    assert post(client, environ, body).status_code == 200
    run_jobs(clean_redis)
    assert WebhookEvent.get().status == "processed"
    stream = Stream.get_by_id(own_stream.id)
    assert stream.status == "expired" and "revoked" in stream.status_message
    assert Stream.get_by_id(public.id).status == "active"  # the app's token still reads public accounts
    assert [m.recipients for m in smtp_server.messages] == [[admin.email]]
    subject = str(make_header(decode_header(smtp_server.messages[0]["Subject"])))
    assert subject == "Streamdesk: X (Twitter) stream “Acme” expired"
    assert "revoked" in mail_part(smtp_server.messages[0])
    assert "Acme" in admin_topics_banner(client, admin)


def admin_topics_banner(client, admin) -> str:
    login(client, admin.email)
    return client.get("/topics").get_data(as_text=True)


# -- a webhook and a crawl of the same reply ----------------------------------------------

def test_a_webhook_then_a_crawl_of_the_same_reply_leave_one_row(client, environ, clean_redis, x, emulator_urls,
                                                               admin, topic, worker_env):
    config = importlib.import_module(emulators.EMULATORS["twitter"]).sandbox_config(emulator_urls["twitter"])
    token = authorize(x, config)
    me = x.user_id("acmecoffee")
    profile = ConnectedProfile.create(user=admin, service="twitter", external_id=me, name="Acme Coffee",
                                      access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                                      scopes=token.get("scope", "").replace(" ", ","))
    stream = new_stream(topic, service="twitter", page_id=me, name="Acme Coffee", handle="acmecoffee",
                        authorized=True, connected_profile=profile, status="active")
    root = x.control("POST", "/tweets", author="acmecoffee", text="New roast today")
    reply = x.control("POST", "/tweets", author="beanwire", text="Saving me a cup?", in_reply_to=root["id"])
    users = [u for u in x.overview()["users"] if u["username"] in ("acmecoffee", "beanwire")]
    body = event("post.reply.create", reply, owner=me, uuid="r1", includes={"users": users, "tweets": [root]})
    assert post(client, environ, body).status_code == 200
    run_jobs(clean_redis)
    webhook_row = Comment.get(Comment.external_id == reply["id"])
    webhook_story = Story.get(Story.external_id == root["id"])
    assert crawl(Runtime(load_settings(environ), Plugins()), Stream.get_by_id(stream.id)) == "active"
    rows = list(Comment.select().where(Comment.external_id == reply["id"]))
    assert len(rows) == 1 and Story.select().where(Story.external_id == root["id"]).count() == 1
    crawled, story = rows[0], Story.get(Story.external_id == root["id"])
    fields = ("story_external_id", "parent_external_id", "text", "author_id", "author_name", "created_at")
    assert {f: getattr(crawled, f) for f in fields} == {f: getattr(webhook_row, f) for f in fields}
    assert (story.url, story.raw_type, story.author_name) == (webhook_story.url, webhook_story.raw_type,
                                                              webhook_story.author_name)
