"""Real time for X: adding an authorized X stream registers the app's webhook (after the
emulator's CRC against the live receiver) and subscribes the account to the five Activity
API event types, through the plugin in a job; removing it deletes the subscriptions;
the stream list and Account settings → Status show X as they show Facebook."""
from __future__ import annotations

import pytest
import requests

from emulators.twitter import APP_TOKEN
from test_realtime_facebook import remove, status_html, webhook_section
from test_streams import add, connect
from test_webhooks_emulator import wait_for
from test_webhooks_facebook import run_jobs
from webapp import realtime
from webapp.models import Comment, Heartbeat, Stream
from webapp.runtime import runtime

EVENT_TYPES = ["dm.received", "oauth.revoke", "post.mention.create", "post.quote.create", "post.reply.create"]


pytestmark = pytest.mark.redis


@pytest.fixture
def served(live_url, worker_env, monkeypatch):
    """The jobs tell X the live receiver's address: PUBLIC_URL is where X calls back."""
    monkeypatch.setenv("PUBLIC_URL", live_url)
    runtime.cache_clear()
    return live_url


def activity(emulator) -> dict:
    return emulator("twitter", "GET", "/webhooks")


def subscribed(emulator, user_id: str) -> list[str]:
    return sorted(s["event_type"] for s in activity(emulator)["subscriptions"]
                  if s["filter"].get("user_id") == user_id)


def add_owned(admin_client, emulator, topic) -> str:
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    assert add(admin_client, topic, "twitter", "owned", owner).status_code == 200
    return owner


def test_adding_an_x_stream_registers_the_webhook_subscribes_the_account_and_removing_it_unsubscribes(
        admin_client, emulator, topic, environ, served):
    owner = add_owned(admin_client, emulator, topic)
    stream = Stream.get()
    # The request only queued the job: X was not called.
    assert stream.realtime == "subscribing" and activity(emulator)["webhooks"] == []
    assert run_jobs(environ["REDIS_URL"]) >= 1
    stream = Stream.get()
    assert stream.realtime == "on", stream.realtime_message
    hooks = activity(emulator)["webhooks"]
    assert [(h["url"], h["valid"]) for h in hooks] == [(f"{served}/webhooks/twitter", True)]
    assert Heartbeat.get(Heartbeat.name == "webhook-verified:twitter")  # X's CRC reached the receiver
    assert subscribed(emulator, owner) == EVENT_TYPES
    # Confirming it again (the renewal) registers and subscribes nothing twice.
    assert realtime.subscribe(runtime(), Stream.get()) == "on"
    assert len(activity(emulator)["webhooks"]) == 1 and subscribed(emulator, owner) == EVENT_TYPES

    # A reply to the account is delivered to the receiver and stored by a job.
    root = emulator("twitter", "POST", "/tweets", author="acmecoffee", text="Cold brew is back")
    reply = emulator("twitter", "POST", "/tweets", author="jane_doe", text="Finally!", in_reply_to=root["id"])
    wait_for(lambda: activity(emulator)["delivered"] >= 1)
    run_jobs(environ["REDIS_URL"])
    assert Comment.get(Comment.external_id == reply["id"]).stream_id == stream.id

    # Removed from its last topic: the account's subscriptions end, and X sends no more.
    assert remove(admin_client, topic, stream).status_code == 303
    assert run_jobs(environ["REDIS_URL"]) == 1
    assert subscribed(emulator, owner) == []
    delivered = activity(emulator)["delivered"]
    emulator("twitter", "POST", "/tweets", author="jane_doe", text="Hello?", in_reply_to=root["id"])
    assert activity(emulator)["pending"] == 0 and activity(emulator)["delivered"] == delivered


def test_the_stream_list_and_the_status_page_show_x_in_real_time(admin_client, emulator, topic, environ, served):
    add_owned(admin_client, emulator, topic)
    run_jobs(environ["REDIS_URL"])
    stream = Stream.get()
    html = admin_client.get(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-mode="realtime"' in html and "crawled every 1 h as a net" in html
    section = webhook_section(status_html(admin_client), "twitter")
    assert "verified by X (Twitter) at" in section
    assert f"Subscribed pages: {stream.name}." in section


def test_a_webhook_x_marked_invalid_is_checked_again_before_subscribing(admin_client, emulator, emulator_urls, topic,
                                                                         environ, served):
    base = emulator_urls["twitter"]
    app_auth = {"Authorization": f"Bearer {APP_TOKEN}"}
    hook = requests.post(f"{base}/2/webhooks", json={"url": f"{served}/webhooks/twitter"}, headers=app_auth,
                         timeout=30).json()["data"]
    emulator("twitter", "POST", "/webhooks/invalidate", webhook_id=hook["id"])
    assert activity(emulator)["webhooks"][0]["valid"] is False
    owner = add_owned(admin_client, emulator, topic)
    run_jobs(environ["REDIS_URL"])
    assert Stream.get().realtime == "on"
    assert [(h["id"], h["valid"]) for h in activity(emulator)["webhooks"]] == [(hook["id"], True)]
    assert subscribed(emulator, owner) == EVENT_TYPES


def test_a_receiver_failing_the_crc_leaves_x_polling_and_says_why(admin_client, emulator, topic, environ, served,
                                                                   monkeypatch):
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET", "not-the-apps-secret")  # the job's side only: the receiver is right
    monkeypatch.setenv("PUBLIC_URL", served + "/nowhere")  # X's CRC of this URL gets a 404
    runtime.cache_clear()
    add_owned(admin_client, emulator, topic)
    run_jobs(environ["REDIS_URL"])
    stream = Stream.get()
    assert stream.realtime == "error" and "CrcValidationFailed" in stream.realtime_message
    assert activity(emulator)["webhooks"] == [] and activity(emulator)["subscriptions"] == []
    html = admin_client.get(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "polling every 5 min" in html and "CrcValidationFailed" in html


def test_without_dm_read_the_account_is_subscribed_to_all_but_dms(admin_client, emulator, emulator_urls, topic,
                                                                  environ, served):
    import importlib

    import emulators
    from twitter.x_helpers import REDIRECT_URI, Emulator, authorize

    from plugins.twitter.link import SCOPES
    from webapp.models import ConnectedProfile

    owner = add_owned(admin_client, emulator, topic)
    # X granted the profile everything but dm.read (stored as granted).
    profile = ConnectedProfile.get()
    ConnectedProfile.update(scopes=",".join(s for s in profile.credentials.scopes if s != "dm.read")).execute()
    run_jobs(environ["REDIS_URL"])
    stream = Stream.get()
    assert stream.realtime == "on", stream.realtime_message
    assert subscribed(emulator, owner) == [t for t in EVENT_TYPES if t != "dm.received"]
    # X itself refuses dm.received to a token without dm.read (the emulator as X does).
    helper = Emulator(emulator_urls["twitter"])
    helper.control("PUT", "/app", redirect_uris=[*helper.control("GET", "/app")["redirect_uris"], REDIRECT_URI])
    config = importlib.import_module(emulators.EMULATORS["twitter"]).sandbox_config(emulator_urls["twitter"])
    token = authorize(helper, config, scopes=[s for s in SCOPES if s != "dm.read"], username="acmecoffee")
    hook = activity(emulator)["webhooks"][0]["id"]
    answer = requests.post(f"{emulator_urls['twitter']}/2/activity/subscriptions", timeout=30,
                           headers={"Authorization": f"Bearer {token['access_token']}"},
                           json={"event_type": "dm.received", "filter": {"user_id": owner}, "webhook_id": hook})
    assert answer.status_code == 403


def test_a_reply_posted_through_the_x_api_reaches_the_owned_stream_by_webhook(
        admin_client, emulator, emulator_urls, topic, environ, served, app):
    """Deliveries come for posts made through X's own API too: a fan, connected through
    the real consent page as @jane_doe, replies with POST /2/tweets; the owned account's
    subscription delivers it signed, and the job stores it."""
    from conftest import PASSWORD, login
    from webapp.accounts import create_account, create_user
    from webapp.models import ConnectedProfile, User

    owner = add_owned(admin_client, emulator, topic)
    assert run_jobs(environ["REDIS_URL"]) >= 1 and Stream.get().realtime == "on"
    jane = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "jane_doe")
    fan = create_user(create_account("Fans"), "jane@fans.test", PASSWORD, "admin")
    fan_client = app.test_client()
    assert login(fan_client, fan.email).status_code == 302
    connect(fan_client, "twitter", select={"user_id": jane})
    token = ConnectedProfile.get(ConnectedProfile.user == User.get_by_id(fan.id)).access_token
    root = emulator("twitter", "POST", "/tweets", author="acmecoffee", text="Pumpkin spice is back")
    delivered = activity(emulator)["delivered"]
    answer = requests.post(f"{emulator_urls['twitter']}/2/tweets", timeout=10, headers={
        "Authorization": f"Bearer {token}"}, json={"text": "Finally!", "reply": {"in_reply_to_tweet_id": root["id"]}})
    assert answer.status_code == 201, answer.text
    reply = answer.json()["data"]["id"]
    wait_for(lambda: activity(emulator)["delivered"] > delivered)
    run_jobs(environ["REDIS_URL"])
    comment = Comment.get(Comment.external_id == reply)
    assert (comment.stream_id, comment.story_external_id, comment.author_id) == (Stream.get().id, root["id"], jane)
    assert comment.text == "@acmecoffee Finally!" and owner != jane
