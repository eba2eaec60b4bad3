"""The Facebook emulator delivers webhooks as Graph does, end to end: subscribe (the
callback URL is verified first), a comment created on the emulator is POSTed, signed,
to Streamdesk's receiver over real HTTP, and a real RQ worker stores it."""
from __future__ import annotations

import time

import pytest
import redis
import requests
from rq import Queue, SimpleWorker

from factories import new_stream
from webapp.models import Comment, Message, Story, Topic, WebhookEvent

VERIFY_TOKEN = "an-emulator-verify-token"
DELI = "113847562910384"  # a small public page of the emulator's seed
BLUEBIRD = "104729384756102"  # a page with Messenger conversations


pytestmark = pytest.mark.redis


@pytest.fixture
def environ(environ):
    environ.update(FACEBOOK_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN)
    return environ


@pytest.fixture
def subscribed(emulator, live_url):
    status = emulator("facebook", "POST", "/webhooks", callback_url=f"{live_url}/webhooks/facebook",
                      verify_token=VERIFY_TOKEN)
    assert status["subscription"]["callback_url"] == f"{live_url}/webhooks/facebook"
    yield emulator
    emulator("facebook", "DELETE", "/webhooks")


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")


def run_jobs(redis_url) -> None:
    connection = redis.Redis.from_url(redis_url)
    SimpleWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
    assert Queue("default", connection=connection).failed_job_registry.count == 0


def test_a_callback_that_does_not_echo_the_challenge_is_not_subscribed(emulator_urls, emulator, live_url):
    response = requests.post(f"{emulator_urls['facebook']}/_control/webhooks", timeout=30, json={
        "callback_url": f"{live_url}/webhooks/facebook", "verify_token": "not-ours"})
    assert response.status_code == 400 and "does not match challenge" in response.json()["error"]
    assert emulator("facebook", "GET", "/webhooks")["subscription"] is None


def test_a_comment_created_on_the_emulator_reaches_the_comments_table(subscribed, environ, clean_redis, account,
                                                                      worker_env):
    stream = new_stream(Topic.create(account=account, name="Delis"), service="facebook", page_id=DELI,
                        name="Corner Deli", authorized=False)
    post = subscribed("facebook", "POST", "/posts", page_id=DELI, message="Soup of the day")["id"]
    comment = subscribed("facebook", "POST", "/comments", post_id=post, message="Tomato please")["id"]

    def recorded():
        """both deliveries recorded by the receiver"""
        return WebhookEvent.select().count() == 2
    wait_for(recorded)
    run_jobs(clean_redis)
    row = Comment.get((Comment.stream == stream.id) & (Comment.external_id == comment))
    assert row.text == "Tomato please" and row.story_external_id == post and row.parent_external_id is None
    assert Story.get((Story.stream == stream.id) & (Story.external_id == post)).text == "Soup of the day"
    assert subscribed("facebook", "GET", "/webhooks")["delivered"] == 2


def test_a_message_to_the_page_reaches_its_authorized_stream(subscribed, environ, clean_redis, account, worker_env):
    stream = new_stream(Topic.create(account=account, name="Ours"), service="facebook", page_id=BLUEBIRD,
                        name="Bluebird Coffee", authorized=True)
    sent = subscribed("facebook", "POST", "/messages", page_id=BLUEBIRD, message="Do you roast decaf?")

    def recorded():
        """the message recorded by the receiver"""
        return WebhookEvent.select().count() == 1
    wait_for(recorded)
    run_jobs(clean_redis)
    message = Message.get(Message.stream == stream.id)
    assert message.external_id == sent["id"] and message.text == "Do you roast decaf?"


def test_a_failed_delivery_is_retried_with_backoff(emulator_urls, emulator, app, environ, live_url):
    emulator("facebook", "POST", "/webhooks", callback_url=f"{live_url}/webhooks/facebook", verify_token=VERIFY_TOKEN)
    # The receiver refuses while the app secret it checks with is wrong: Graph must retry.
    settings = app.extensions["streamdesk"]
    from webapp.config import load_settings
    app.extensions["streamdesk"] = load_settings({**environ, "FACEBOOK_CLIENT_SECRET": "rotated"})
    post = emulator("facebook", "POST", "/posts", page_id=DELI, message="Retry me")["id"]

    def retried():
        """at least two failed attempts (the first retry is at once)"""
        return emulator("facebook", "GET", "/webhooks")["failed_attempts"] >= 2
    wait_for(retried)
    status = emulator("facebook", "GET", "/webhooks")
    assert status["pending"] == 1 and status["delivered"] == 0 and WebhookEvent.select().count() == 0
    app.extensions["streamdesk"] = settings
    emulator("facebook", "POST", "/clock", advance=3600)  # past the backoff

    def delivered():
        """the delivery accepted once the receiver checks with the right secret"""
        return emulator("facebook", "GET", "/webhooks")["delivered"] == 1
    wait_for(delivered)
    assert WebhookEvent.get().page_id == DELI and post in WebhookEvent.get().body
    emulator("facebook", "DELETE", "/webhooks")


def test_graph_gives_up_after_36_hours(emulator, app, environ, live_url):
    from webapp.config import load_settings
    emulator("facebook", "POST", "/webhooks", callback_url=f"{live_url}/webhooks/facebook", verify_token=VERIFY_TOKEN)
    app.extensions["streamdesk"] = load_settings({**environ, "FACEBOOK_CLIENT_SECRET": "rotated"})
    emulator("facebook", "POST", "/posts", page_id=DELI, message="Never accepted")

    def failing():
        """the delivery failing"""
        return emulator("facebook", "GET", "/webhooks")["failed_attempts"] >= 1
    wait_for(failing)
    emulator("facebook", "POST", "/clock", advance=37 * 3600)

    def given_up():
        """the delivery dropped after 36 hours of failures"""
        return emulator("facebook", "GET", "/webhooks")["given_up"] == 1
    wait_for(given_up)
    assert emulator("facebook", "GET", "/webhooks")["pending"] == 0
    emulator("facebook", "DELETE", "/webhooks")


def test_sandbox_mode_subscribes_the_web_server_with_no_configuration(live_url):
    """`streamdesk run` in sandbox mode: the emulators start with a verify token of this
    run, and once the server answers they verify and subscribe its webhook URL."""
    import os

    from webapp import sandbox
    from webapp.config import load_settings

    saved = dict(os.environ)
    os.environ.pop("FACEBOOK_WEBHOOK_VERIFY_TOKEN", None)
    try:
        running = sandbox.start_emulators(["facebook"], "http://localhost")
        sandbox_environ = dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        token = sandbox_environ.get("FACEBOOK_WEBHOOK_VERIFY_TOKEN")
        assert token and len(token) >= 24
        # The live app checks with the test's token: the sandbox's own must match it.
        refused = sandbox.subscribe_webhooks(load_settings(sandbox_environ), live_url)
        assert refused == []
        matching = load_settings({**sandbox_environ, "FACEBOOK_WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN})
        assert sandbox.subscribe_webhooks(matching, live_url) == ["facebook"]
        status = requests.get(f"{running[0].url}/_control/webhooks", timeout=5).json()
        assert status["subscription"]["callback_url"] == f"{live_url}/webhooks/facebook"
    finally:
        for emulator in running:
            emulator.stop()


def test_a_reply_sent_through_the_graph_api_comes_back_by_webhook_as_the_same_row(
        subscribed, admin_client, topic, environ, emulator_urls, clean_redis, worker_env):
    """Deliveries come for items made through Graph's own API too: Streamdesk's reply
    (POST /{comment-id}/comments) comes back signed, and the webhook and the send job
    leave one row."""
    from faultkit import ALEX, authorized_stream, page_token
    from test_engage_views import form_of

    from webapp.config import load_settings
    from webapp.crawl import crawl
    from webapp.models import Action
    from webapp.plugins import Plugins
    from webapp.streams import Runtime

    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], subscribed, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(load_settings(environ), Plugins()), stream)
    fan = Comment.select().where(Comment.stream == stream.id, Comment.author_id != BLUEBIRD,
                                 Comment.parent_external_id.is_null()).order_by(Comment.created_at.desc()).first()
    story = Story.get(Story.stream == stream.id, Story.external_id == fan.story_external_id)
    thread = f"/topics/{topic.id}/stories/{story.id}"
    page_html = admin_client.get(thread).get_data(as_text=True)
    form = form_of(page_html, "reply")
    answer = admin_client.post("/actions", data={**form, "text": "Back in stock on Friday!"})
    assert answer.status_code == 303
    before = subscribed("facebook", "GET", "/webhooks")["delivered"]
    run_jobs(clean_redis)  # the send job: Graph's POST /{comment-id}/comments
    reply = Action.get().external_id
    assert reply and Comment.select().where(Comment.external_id == reply).count() == 1

    def recorded():
        """the reply's delivery recorded by the receiver"""
        return WebhookEvent.select().where(WebhookEvent.body.contains(reply)).exists()
    wait_for(recorded)
    assert subscribed("facebook", "GET", "/webhooks")["delivered"] == before + 1
    run_jobs(clean_redis)  # the webhook job
    assert WebhookEvent.get(WebhookEvent.body.contains(reply)).status == "processed"
    assert Comment.select().where(Comment.external_id == reply).count() == 1
    assert admin_client.get(thread).get_data(as_text=True).count("Back in stock on Friday!") == 1
