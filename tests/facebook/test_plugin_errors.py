"""Graph errors become the shared typed errors; usage headers slow the plugin down."""
import socket
import time

import pytest

from emulators.facebook import sandbox_config
from plugins.facebook import usage
from plugins.facebook.client import GraphClient
from plugins.facebook.graph_errors import ReduceData
from streamdesk_contract.errors import NotFound, PermissionMissing, ProviderUnavailable, RateLimited, TokenExpired
from streamdesk_contract.values import Interaction

from .conftest import ACME, ALEX, BLUEBIRD, authorized, public


def crawl_all(plugins, config, stream, credentials, cursor=None):
    return list(plugins.call("streamdesk_crawl", "facebook", config, stream=stream, credentials=credentials,
                             cursor=cursor))


def test_expired_page_token(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.control("tokens/expire", token=credentials.access_token)
    with pytest.raises(TokenExpired) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert not caught.value.revoked and "expired" in caught.value.message


def test_password_changed_and_app_removed_are_revocations(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.control(f"people/{ALEX}/password")
    with pytest.raises(TokenExpired) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert caught.value.revoked and "password" in caught.value.message
    credentials = page_credentials()
    fb.control("tokens/revoke", user_id=ALEX)
    with pytest.raises(TokenExpired) as caught:
        fb_plugins.call("streamdesk_metrics", "facebook", config, stream=authorized(), credentials=credentials,
                        story_ids=[], history_since=None)
    assert caught.value.revoked


@pytest.mark.parametrize("permission", ["pages_read_user_content", "pages_messaging"])
def test_permission_switched_off_is_named(fb, fb_plugins, config, page_credentials, permission):
    credentials = page_credentials()
    fb.control("permissions/revoke", user_id=ALEX, permission=permission)
    with pytest.raises(PermissionMissing) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert caught.value.permission == permission and "Business integrations" in caught.value.message


def test_unknown_page_is_not_found(fb, fb_plugins, config, page_credentials):
    with pytest.raises(NotFound):
        crawl_all(fb_plugins, config, public("99999999999"), None)
    with pytest.raises(NotFound):
        fb_plugins.call("streamdesk_interact", "facebook", config, stream=authorized(),
                        credentials=page_credentials(), interaction=Interaction("like", f"{BLUEBIRD}_1"))


@pytest.mark.parametrize("code,wait", [(4, 600), (17, 600), (32, 900), (613, 60)])
def test_rate_limits_with_their_retry_time(fb, fb_plugins, config, code, wait):
    fb.control("faults", kind="rate_limit", code=code, count=1)
    with pytest.raises(RateLimited) as caught:
        crawl_all(fb_plugins, config, public(), None)
    assert caught.value.retry_after == wait
    fb.clear_calls()
    with pytest.raises(RateLimited):  # remembered: the next crawl does not even call
        crawl_all(fb_plugins, config, public(), None)
    assert fb.total_calls() == 0


def test_page_rate_limit_uses_the_regain_time_of_the_usage_header(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.control("faults", kind="rate_limit", code=32, count=1, regain_minutes=3)
    with pytest.raises(RateLimited) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert caught.value.retry_after == 180
    usage.forget()
    assert crawl_all(fb_plugins, config, authorized(), credentials)  # the fault was one call only


@pytest.mark.parametrize("fault", [{"kind": "transient", "code": 1}, {"kind": "transient", "code": 2},
                                   {"kind": "server", "status": 502}, {"kind": "server", "status": 503}])
def test_transient_errors_and_outages(fb, fb_plugins, config, fault):
    fb.control("faults", count=1, **fault)
    with pytest.raises(ProviderUnavailable) as caught:
        crawl_all(fb_plugins, config, public(), None)
    assert "Facebook" in caught.value.message


def test_unreachable_provider(fb_plugins):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = sandbox_config(f"http://127.0.0.1:{port}")  # nothing listens there
    with pytest.raises(ProviderUnavailable):
        fb_plugins.call("streamdesk_search", "facebook", config, query="@acmeoutdoor", credentials=None)


def test_high_usage_stops_before_facebook_blocks(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.control("usage", bucket=BLUEBIRD, call_count=96)
    fb.clear_calls()
    with pytest.raises(RateLimited) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert fb.total_calls() == 1  # the first answer said 96 %: no second call
    assert 0 < caught.value.retry_after <= usage.HOLD and "96%" in caught.value.message


def test_rising_usage_slows_down(fb, fb_plugins, config, monkeypatch):
    monkeypatch.setattr(usage, "MAX_PAUSE", 0.2)
    fb.control("usage", bucket="app", call_count=94)
    started = time.monotonic()
    pages = crawl_all(fb_plugins, config, public(ACME), None)
    elapsed = time.monotonic() - started
    calls = fb.total_calls()
    assert pages and calls >= 3
    assert elapsed >= 0.2 * (calls - 1) * 0.9  # every call after the first waited
    assert usage.pause_for(50) == 0 and usage.pause_for(80) < usage.pause_for(94) <= 0.2


def test_paging_links_to_other_hosts_are_not_followed(fb, config):
    client = GraphClient(config)
    with pytest.raises(ProviderUnavailable):
        client.follow("https://attacker.example/v25.0/1/feed?after=x")
    assert client.calls == 0


@pytest.mark.parametrize("code", range(80001, 80010))
def test_business_use_case_limits_wait_for_the_regain_time_of_the_header(fb, fb_plugins, config, page_credentials,
                                                                        code):
    credentials = page_credentials()
    fb.fault("rate_limit", code=code, regain_minutes=7, path=f"/v25.0/{BLUEBIRD}")
    with pytest.raises(RateLimited) as caught:
        crawl_all(fb_plugins, config, authorized(), credentials)
    # x-business-use-case-usage: {"<page>": [{…, "estimated_time_to_regain_access": 7}]} (minutes)
    assert caught.value.retry_after == 7 * 60 and "too many calls" in caught.value.message
    fb.clear_calls()
    with pytest.raises(RateLimited):  # the page's quota is remembered: no call until then
        crawl_all(fb_plugins, config, authorized(), credentials)
    assert fb.total_calls() == 0
    assert crawl_all(fb_plugins, config, public(), None)  # the app's own quota is another bucket


def test_business_use_case_limit_without_regain_time(fb, fb_plugins, config, page_credentials):
    fb.fault("rate_limit", code=80001, path=f"/v25.0/{BLUEBIRD}")
    with pytest.raises(RateLimited) as caught:
        crawl_all(fb_plugins, config, authorized(), page_credentials())
    assert caught.value.retry_after == 600


def test_posting_too_fast_is_a_readable_wait_that_does_not_stop_reading(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.fault("posting_too_fast", path=f"/v25.0/{BLUEBIRD}/feed")
    with pytest.raises(RateLimited) as caught:
        fb_plugins.call("streamdesk_interact", "facebook", config, stream=authorized(), credentials=credentials,
                        interaction=Interaction("publish", text="Third post this minute"))
    assert "posted too fast" in caught.value.message and caught.value.retry_after == 3600
    assert "(#368)" not in caught.value.message  # words for the person, not Graph's code
    assert crawl_all(fb_plugins, config, authorized(), credentials)  # reading the page goes on
    result = fb_plugins.call("streamdesk_interact", "facebook", config, stream=authorized(), credentials=credentials,
                             interaction=Interaction("publish", text="Later, once allowed"))
    assert result.ok and result.external_id.startswith(f"{BLUEBIRD}_")


def test_code_1_transient_and_reduce_data_are_told_apart(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    story = fb.state.world.posts(BLUEBIRD)[0].id
    fb.fault("transient", code=1, path=f"/v25.0/{story}/comments")
    with pytest.raises(ProviderUnavailable) as transient:
        fb_plugins.call("streamdesk_interact", "facebook", config, stream=authorized(), credentials=credentials,
                        interaction=Interaction("comment", story, "Thanks!"))
    assert not isinstance(transient.value, ReduceData) and "temporary problem" in transient.value.message
    fb.fault("reduce_data", path="/v25.0/")
    with pytest.raises(ReduceData) as reduce:
        fb_plugins.call("streamdesk_metrics", "facebook", config, stream=authorized(), credentials=credentials,
                        story_ids=[story], history_since=None)
    assert isinstance(reduce.value, ProviderUnavailable) and "smaller pages" in reduce.value.message
