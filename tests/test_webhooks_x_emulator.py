"""The X emulator delivers Activity API webhooks as X does, end to end: a webhook is
registered only after the CRC (Streamdesk's real answer over real HTTP), subscriptions
pick the events, and a reply, mention or DM created on the emulator is POSTed, signed,
to the receiver, retried on failure, and stored by a real RQ worker."""
from __future__ import annotations


import pytest
import requests
from test_webhooks_emulator import wait_for
from test_webhooks_facebook import run_jobs

from emulators.twitter import APP_TOKEN
from factories import new_stream
from webapp.models import Comment, Message, Story, Topic, WebhookEvent


pytestmark = pytest.mark.redis



@pytest.fixture
def x(emulator, emulator_urls):
    """Calls to the X emulator: its v2 API with the app's bearer token, and its control API."""
    base = emulator_urls["twitter"]

    def api(method, path, token=APP_TOKEN, **body):
        return requests.request(method, base + path, json=body or None, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})

    api.control = lambda method, path, **body: emulator("twitter", method, path, **body)
    api.user_id = lambda name: next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == name)
    return api


@pytest.fixture
def acme(account, x):
    return new_stream(Topic.create(account=account, name="Ours"), service="twitter",
                      page_id=x.user_id("acmecoffee"), name="Acme Coffee", handle="acmecoffee", authorized=True,
                      status="active")


def test_registration_runs_the_crc_first(x, live_url):
    answer = x("POST", "/2/webhooks", url=f"{live_url}/webhooks/twitter")
    assert answer.status_code == 200, answer.text
    hook = answer.json()["data"]
    assert hook["url"] == f"{live_url}/webhooks/twitter" and hook["valid"] is True
    assert [w["id"] for w in x("GET", "/2/webhooks").json()["data"]] == [hook["id"]]


def test_a_url_failing_the_crc_is_not_registered(x, live_url, app, environ):
    from webapp.config import load_settings
    app.extensions["streamdesk"] = load_settings({**environ, "TWITTER_CONSUMER_SECRET": "another-apps-secret"})
    answer = x("POST", "/2/webhooks", url=f"{live_url}/webhooks/twitter")
    assert answer.status_code == 400 and "CrcValidationFailed" in answer.text
    answer = x("POST", "/2/webhooks", url=f"{live_url}/no-such-page")
    assert answer.status_code == 400
    assert x("GET", "/2/webhooks").json()["meta"]["result_count"] == 0


def test_subscriptions_need_a_webhook_and_private_events_the_accounts_token(x, live_url):
    hook = x("POST", "/2/webhooks", url=f"{live_url}/webhooks/twitter").json()["data"]["id"]
    me = x.user_id("acmecoffee")
    ok = x("POST", "/2/activity/subscriptions", event_type="post.reply.create", filter={"user_id": me},
           webhook_id=hook, tag="streamdesk")
    assert ok.status_code == 200 and ok.json()["data"]["filter"] == {"user_id": me}
    assert x("POST", "/2/activity/subscriptions", event_type="post.reply.create", filter={"user_id": me},
             webhook_id="123").status_code == 400
    assert x("POST", "/2/activity/subscriptions", event_type="like.create", filter={"user_id": me},
             webhook_id=hook).status_code == 400
    private = x("POST", "/2/activity/subscriptions", event_type="dm.received", filter={"user_id": me},
                webhook_id=hook)
    assert private.status_code == 403 and "private" in private.text


def test_a_reply_created_on_the_emulator_reaches_the_comments_table(x, live_url, acme, clean_redis, worker_env):
    hook = x("POST", "/2/webhooks", url=f"{live_url}/webhooks/twitter").json()["data"]["id"]
    for kind in ("post.reply.create", "post.mention.create"):
        x("POST", "/2/activity/subscriptions", event_type=kind, filter={"user_id": acme.page_id}, webhook_id=hook)
    root = x.control("POST", "/tweets", author="acmecoffee", text="Cold brew is back")
    reply = x.control("POST", "/tweets", author="jane_doe", text="Finally!", in_reply_to=root["id"])
    wait_for(lambda: x.control("GET", "/webhooks")["delivered"] >= 1)
    assert x.control("GET", "/webhooks")["delivered"] == 1  # a reply mentions too: one event, the reply
    run_jobs(clean_redis)
    event = WebhookEvent.get()
    assert event.status == "processed" and event.page_id == acme.page_id
    comment = Comment.get(Comment.external_id == reply["id"])
    assert (comment.stream_id, comment.story_external_id, comment.author_name) == (
        acme.id, root["id"], "Jane Doe (@jane_doe)")
    assert Story.get(Story.external_id == root["id"]).text == "Cold brew is back"


def test_sandbox_wiring_delivers_mentions_dms_and_revokes_and_retries_failures(
        x, live_url, acme, clean_redis, worker_env, app, environ):
    from webapp.config import load_settings
    from webapp.sandbox import subscribe_webhooks
    assert "twitter" in subscribe_webhooks(load_settings(environ), live_url)
    mention = x.control("POST", "/tweets", author="sam_eats", text="Best flat white in town @acmecoffee")
    x.control("POST", "/dms", sender="mia_reads", recipient="acmecoffee", text="Do you ship?")
    wait_for(lambda: x.control("GET", "/webhooks")["delivered"] >= 2)
    run_jobs(clean_redis)
    assert Story.get(Story.external_id == mention["id"]).raw_type == "mention"
    assert [m.text for m in Message.select()] == ["Do you ship?"]
    # the receiver is down (signature refused): X retries, then the event arrives
    app.extensions["streamdesk"] = load_settings({**environ, "TWITTER_CONSUMER_SECRET": "rotated"})
    x.control("POST", "/dms", sender="carla_m", recipient="acmecoffee", text="Still open?")
    wait_for(lambda: x.control("GET", "/webhooks")["failed_attempts"] >= 2)
    app.extensions["streamdesk"] = load_settings(environ)
    x.control("POST", "/clock", advance=60)
    wait_for(lambda: x.control("GET", "/webhooks")["delivered"] >= 3)
    run_jobs(clean_redis)
    assert sorted(m.text for m in Message.select()) == ["Do you ship?", "Still open?"]


def test_sandbox_mode_needs_no_configuration_for_x_webhooks(monkeypatch):
    import os

    import emulators.twitter
    from webapp.sandbox import start_emulators
    monkeypatch.setattr(os, "environ", {"PATH": os.environ.get("PATH", "")})  # nothing configured
    running = start_emulators(["twitter"], "http://localhost:5000")
    try:
        assert os.environ["TWITTER_CONSUMER_SECRET"] == emulators.twitter.CONSUMER_SECRET
        assert os.environ["TWITTER_CONSUMER_SECRET"] != os.environ["TWITTER_CLIENT_SECRET"]
        assert "TWITTER_WEBHOOK_VERIFY_TOKEN" not in os.environ  # X's CRC needs none
    finally:
        for emulator in running:
            emulator.stop()


def test_a_revoke_on_the_emulator_expires_the_stream(x, live_url, acme, clean_redis, worker_env, environ,
                                                      emulator_urls):
    import importlib

    import emulators
    from twitter.x_helpers import REDIRECT_URI, Emulator, authorize

    from webapp.config import load_settings
    from webapp.models import Stream
    from webapp.sandbox import subscribe_webhooks
    helper = Emulator(emulator_urls["twitter"])
    helper.control("PUT", "/app", redirect_uris=[*helper.control("GET", "/app")["redirect_uris"], REDIRECT_URI])
    authorize(helper, importlib.import_module(emulators.EMULATORS["twitter"]).sandbox_config(emulator_urls["twitter"]))
    assert "twitter" in subscribe_webhooks(load_settings(environ), live_url)
    assert x.control("POST", "/tokens/revoke", user="acmecoffee")["revoked"] == 1
    wait_for(lambda: x.control("GET", "/webhooks")["delivered"] >= 1)
    run_jobs(clean_redis)
    stream = Stream.get_by_id(acme.id)
    assert stream.status == "expired" and "revoked" in stream.status_message
