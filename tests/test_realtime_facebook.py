"""Real time for Facebook: adding an authorized stream subscribes its page (a job, through
the plugin, against the emulator's subscribed_apps edge), removing the last one
unsubscribes it, a declined pages_manage_metadata leaves polling on and says so, and
healthy webhooks lengthen the crawl interval while silent or unverified ones do not."""
from __future__ import annotations

import datetime
import time

import pytest
import requests

from factories import new_stream
from test_streams import add, connect
from test_webhooks_facebook import VERIFY_TOKEN, comment_value, delivery, run_jobs, signed
from webapp import realtime
from webapp.crawl import interval_of
from webapp.jobs import record_heartbeat
from webapp.models import ConnectedProfile, Heartbeat, Stream, Topic, WebhookEvent, utcnow
from webapp.runtime import runtime
from webapp.streams import Runtime

BLUEBIRD = "104729384756102"  # a page the seed's person administers


pytestmark = pytest.mark.redis


@pytest.fixture
def environ(environ):
    environ.update(FACEBOOK_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN)
    return environ


@pytest.fixture
def worker_env(environ, db, monkeypatch):
    """This process configured as a worker is (jobs read the environment)."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    runtime.cache_clear()
    yield
    runtime.cache_clear()


def rt_of(app) -> Runtime:
    return Runtime(app.extensions["streamdesk"], app.extensions["streamdesk.plugins"])


def page_subscriptions(emulator) -> dict:
    return emulator("facebook", "GET", "/webhooks")["subscribed_pages"]


def remove(client, topic, stream):
    from conftest import csrf_token

    token = csrf_token(client, f"/account/topics/{topic.id}")
    return client.post(f"/account/topics/{topic.id}/streams/{stream.id}/delete",
                       data={"csrf_token": token, "confirmed": "1"})


def test_adding_an_authorized_stream_subscribes_its_page_and_removing_it_unsubscribes(
        admin_client, emulator, topic, environ, worker_env):
    connect(admin_client, "facebook")
    assert add(admin_client, topic, "facebook", "owned", BLUEBIRD).status_code == 200
    stream = Stream.get()
    # The request only queued the job: the page is not subscribed yet.
    assert stream.realtime == "subscribing" and page_subscriptions(emulator) == {}
    run_jobs(environ["REDIS_URL"])
    stream = Stream.get()
    assert stream.realtime == "on" and stream.realtime_at is not None, stream.realtime_message
    assert page_subscriptions(emulator) == {BLUEBIRD: ["feed", "messages"]}
    # The edge as Graph answers it, with the page's own token.
    token = stream.credentials.access_token
    listed = requests.get(f"{environ['FACEBOOK_API_URL']}/{BLUEBIRD}/subscribed_apps",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert listed["data"][0]["subscribed_fields"] == ["feed", "messages"]

    # Held by a second topic: removing it from one keeps the subscription.
    other = Topic.create(account=topic.account_id, name="Second")
    assert add(admin_client, other, "facebook", "owned", BLUEBIRD).status_code == 200
    run_jobs(environ["REDIS_URL"])
    assert remove(admin_client, other, stream).status_code == 303
    run_jobs(environ["REDIS_URL"])
    assert page_subscriptions(emulator) == {BLUEBIRD: ["feed", "messages"]}
    # The last one: unsubscribed.
    assert remove(admin_client, topic, stream).status_code == 303
    assert Stream.select().count() == 0
    assert run_jobs(environ["REDIS_URL"]) == 1
    assert page_subscriptions(emulator) == {}


def test_a_declined_pages_manage_metadata_leaves_polling_on_and_says_so(admin_client, emulator, topic, environ,
                                                                       worker_env):
    connect(admin_client, "facebook")
    assert add(admin_client, topic, "facebook", "owned", BLUEBIRD).status_code == 200
    person = ConnectedProfile.get().external_id
    emulator("facebook", "POST", "/permissions/revoke", user_id=person, permission="pages_manage_metadata")
    run_jobs(environ["REDIS_URL"])
    stream = Stream.get()
    assert stream.realtime == "permission"
    assert stream.realtime_message == "real-time off: permission missing (pages_manage_metadata)"
    assert page_subscriptions(emulator) == {}
    assert stream.status == "queued"  # the crawl is untouched: polling goes on
    html = admin_client.get(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "real-time off: permission missing" in html and "polling every 5 min" in html


def test_subscribed_apps_edge_checks_token_and_fields(admin_client, emulator, topic, environ, worker_env):
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", BLUEBIRD)
    token = Stream.get().credentials.access_token
    url = f"{environ['FACEBOOK_API_URL']}/{BLUEBIRD}/subscribed_apps"
    auth = {"Authorization": f"Bearer {token}"}
    missing = requests.post(url, headers=auth, timeout=10)
    assert missing.status_code == 400 and "subscribed_fields is required" in missing.json()["error"]["message"]
    wrong = requests.post(url, headers=auth, data={"subscribed_fields": "feed,nonsense"}, timeout=10)
    assert wrong.status_code == 400 and '"nonsense"' in wrong.json()["error"]["message"]
    person = ConnectedProfile.get().credentials.access_token
    as_person = requests.post(url, headers={"Authorization": f"Bearer {person}"},
                              data={"subscribed_fields": "feed"}, timeout=10)
    assert as_person.status_code == 403 and as_person.json()["error"]["code"] == 210
    assert page_subscriptions(emulator) == {}



def test_the_emulator_delivers_only_for_subscribed_pages(admin_client, emulator, topic, environ, worker_env, live_url):
    # The app's callback, with no page of its own listed: pages subscribe themselves.
    emulator("facebook", "POST", "/webhooks", callback_url=f"{live_url}/webhooks/facebook",
             verify_token=VERIFY_TOKEN, pages=[])
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", BLUEBIRD)
    post = emulator("facebook", "POST", "/posts", page_id=BLUEBIRD, message="Before subscribing")
    time.sleep(0.5)
    assert emulator("facebook", "GET", "/webhooks")["delivered"] == 0
    run_jobs(environ["REDIS_URL"])  # the subscription job (and nothing else on this queue)
    emulator("facebook", "POST", "/comments", post_id=post["id"], message="After subscribing")
    deadline = time.monotonic() + 10
    while emulator("facebook", "GET", "/webhooks")["delivered"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator("facebook", "GET", "/webhooks")["delivered"] == 1
    assert WebhookEvent.select().where(WebhookEvent.page_id == BLUEBIRD).count() == 1


# -- polling stays the net ------------------------------------------------------------

@pytest.fixture
def live_stream(topic):
    return new_stream(topic, service="facebook", page_id=BLUEBIRD, name="Bluebird", authorized=True,
                      realtime="on", realtime_at=utcnow())


def test_healthy_webhooks_lengthen_the_crawl_interval(app, live_stream, db):
    rt = rt_of(app)
    # Subscribed, but the endpoint never passed verification: normal polling.
    assert interval_of(rt, live_stream) == 300
    record_heartbeat("webhook-verified:facebook")
    assert interval_of(rt, live_stream) == 3600
    assert realtime.crawl_modes(rt, [live_stream])[live_stream.id].label == "real-time"


def test_silent_or_refused_webhooks_fall_back_to_polling(app, live_stream, db):
    rt = rt_of(app)
    record_heartbeat("webhook-verified:facebook")
    long_ago = utcnow() - datetime.timedelta(days=2)
    Stream.update(realtime_at=long_ago).where(Stream.id == live_stream.id).execute()
    silent = Stream.get_by_id(live_stream.id)
    assert interval_of(rt, silent) == 300
    mode = realtime.crawl_modes(rt, [silent])[silent.id]
    assert mode.label == "polling every 5 min" and "silent for over 24 h" in mode.why
    # An event for the page is a sign of life again.
    WebhookEvent.create(service="facebook", event_key="k1", page_id=BLUEBIRD, body="{}", received_at=utcnow())
    assert interval_of(rt, silent) == 3600
    # A refused verification after the last one that passed: back to polling.
    Heartbeat.update(ran_at=utcnow() - datetime.timedelta(minutes=5)).where(
        Heartbeat.name == "webhook-verified:facebook").execute()
    record_heartbeat("webhook-refused:facebook")
    assert interval_of(rt, silent) == 300
    assert "verification" in realtime.crawl_modes(rt, [silent])[silent.id].why


def test_a_wrong_verify_token_is_recorded_as_a_refusal(client, db):
    response = client.get("/webhooks/facebook", query_string={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                              "hub.challenge": "123"})
    assert response.status_code == 403
    assert Heartbeat.get(Heartbeat.name == "webhook-refused:facebook")


def test_a_topic_interval_above_the_realtime_one_is_kept(app, topic, live_stream, db):
    record_heartbeat("webhook-verified:facebook")
    Topic.update(crawl_interval=7200).where(Topic.id == topic.id).execute()
    assert interval_of(rt_of(app), live_stream) == 7200


def test_the_stream_list_says_how_each_stream_is_crawled(admin_client, topic, live_stream, environ):
    new_stream(topic, service="facebook", page_id="1", name="Rival", authorized=False)
    record_heartbeat("webhook-verified:facebook")
    html = admin_client.get(f"/account/topics/{topic.id}/streams", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-mode="realtime"' in html and "crawled every 1 h as a net" in html
    assert "polling every 5 min" in html and "public page: the provider sends no webhooks" in html


def test_realtime_crawl_interval_is_a_setting(environ):
    from webapp.config import ConfigError, load_settings

    assert load_settings({**environ, "REALTIME_CRAWL_INTERVAL": "1800"}).realtime_crawl_interval == 1800
    with pytest.raises(ConfigError, match="REALTIME_CRAWL_INTERVAL must be a whole number"):
        load_settings({**environ, "REALTIME_CRAWL_INTERVAL": "soon"})


# -- setup diagnostics ----------------------------------------------------------------

def status_html(client) -> str:
    return client.get("/account/status", headers={"HX-Request": "true"}).get_data(as_text=True)


def webhook_section(html: str, service: str) -> str:
    start = html.index(f'data-service="{service}"')
    return html[start:html.index("</div>", start)]


def test_status_says_the_endpoint_was_never_verified(admin_client, environ):
    section = webhook_section(status_html(admin_client), "facebook")
    assert "never verified by Facebook" in section and "/webhooks/facebook</code>" in section
    assert "Last event: none received for your pages" in section and "Subscribed pages: none" in section


def test_status_shows_verification_last_event_and_subscribed_pages(admin_client, topic, live_stream, account, environ):
    response = admin_client.get("/webhooks/facebook", query_string={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"})
    assert response.get_data(as_text=True) == "42"
    new_stream(topic, service="facebook", page_id="555", name="<b>Refused</b> page", authorized=True,
               realtime="permission", realtime_message="real-time off: permission missing (pages_manage_metadata)")
    body = delivery(BLUEBIRD, comment_value(f"{BLUEBIRD}_1", "c1"))
    assert admin_client.post("/webhooks/facebook", data=body, headers=signed(environ, body)).status_code == 200
    # Another account's page: its events are not this account's to see.
    from webapp.models import Account

    theirs = Topic.create(account=Account.create(name="Rival"), name="Theirs")
    new_stream(theirs, service="facebook", page_id="999", name="Their page", authorized=True, realtime="on")
    section = webhook_section(status_html(admin_client), "facebook")
    assert "verified by Facebook at" in section
    assert "Last event: <time" in section
    assert "Subscribed pages: Bluebird." in section and "Their page" not in section
    assert "&lt;b&gt;Refused&lt;/b&gt; page: real-time off: permission missing" in section
    # A refused verification afterwards is what the status shows.
    admin_client.get("/webhooks/facebook", query_string={"hub.mode": "subscribe", "hub.verify_token": "old",
                                                         "hub.challenge": "1"})
    assert "a verification was refused at" in webhook_section(status_html(admin_client), "facebook")


def test_status_last_event_is_only_the_accounts(admin_client, topic, live_stream, environ):
    WebhookEvent.create(service="facebook", event_key="x", page_id="999", body="{}", received_at=utcnow())
    assert "Last event: none received for your pages" in webhook_section(status_html(admin_client), "facebook")


def test_an_idle_subscription_is_confirmed_again_before_it_counts_as_silent(app, admin_client, emulator, topic,
                                                                             environ, worker_env):
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", BLUEBIRD)
    run_jobs(environ["REDIS_URL"])
    rt = rt_of(app)
    stream = Stream.get()
    assert stream.realtime == "on" and not realtime.renew_if_due(rt, stream)  # just subscribed
    aged = utcnow() - datetime.timedelta(hours=13)
    Stream.update(realtime_at=aged).where(Stream.id == stream.id).execute()
    emulator("facebook", "DELETE", "/calls")
    assert realtime.renew_if_due(rt, Stream.get())
    assert run_jobs(environ["REDIS_URL"]) == 1
    renewed = Stream.get()
    assert renewed.realtime == "on" and renewed.realtime_at > aged
    assert emulator("facebook", "GET", "/calls")["calls"] == {f"POST /v25.0/{BLUEBIRD}/subscribed_apps": 1}
