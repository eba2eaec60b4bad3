"""One rate limit, honoured by every job: while crawls wait for a provider's reset, the
metrics job (and any other stream on the same token) does not call it either (issue 8,
item 10). Real emulator, real Valkey/Redis."""
import datetime
import time

import pytest
from test_streams import add, connect

from streamdesk_contract.errors import RateLimited
from streamdesk_contract.values import Credentials
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.metrics import refresh
from webapp.models import Stream, Topic, utcnow
from webapp.pauses import scopes
from webapp.plugins import Plugins
from webapp.runtime import shared_pauses
from webapp.streams import Runtime


@pytest.fixture
def rt(environ, clean_redis):
    return Runtime(load_settings({**environ, "REDIS_URL": clean_redis}), Plugins())


def test_metrics_wait_while_the_crawl_is_rate_limited(admin_client, emulator, account, rt):
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    add(admin_client, Topic.create(account=account, name="Brand"), "twitter", "owned", owner)
    assert crawl(rt, Stream.get()) == "active"
    for endpoint in ("GET /2/users/:id/tweets", "GET /2/tweets/search/recent"):  # first crawl, re-crawls
        emulator("twitter", "POST", "/rate_limit", endpoint=endpoint, remaining=0, user=owner)
    assert crawl(rt, Stream.get()) == "rate limited"
    emulator("twitter", "DELETE", "/requests")

    assert refresh(rt, Stream.get()) == "rate limited"
    assert emulator("twitter", "GET", "/requests")["total"] == 0  # not one call while paused
    fresh = Stream.get()
    assert fresh.next_metrics_at > utcnow() + datetime.timedelta(minutes=1)
    assert crawl(rt, fresh) == "rate limited"
    assert emulator("twitter", "GET", "/requests")["total"] == 0
    assert "rate limit until" in Stream.get().status_message


def test_a_pause_covers_its_token_or_the_whole_service(clean_redis):
    pauses = shared_pauses(clean_redis)
    mine, theirs = Credentials("token-a"), Credentials("token-b")
    pauses.record(scopes("facebook", mine), RateLimited(300))
    with pytest.raises(RateLimited, match="Waiting for Facebook's rate limit until"):
        pauses.check(scopes("facebook", mine), "Facebook")
    pauses.check(scopes("facebook", theirs), "Facebook")  # another token goes on
    pauses.check(scopes("twitter", mine), "X")
    pauses.record(scopes("facebook", theirs), RateLimited(60, scope="service"))  # the app's own limit
    with pytest.raises(RateLimited):
        pauses.check(scopes("facebook", None), "Facebook")
    pauses.record(scopes("twitter", mine), RateLimited(3600, scope="posting"))  # not a limit on reading
    pauses.check(scopes("twitter", mine), "X")
    assert not any(b"token-a" in key for key in pauses.client.keys("*"))  # tokens never in clear


def test_a_shorter_pause_never_shortens_a_longer_one_even_from_many_workers_at_once(clean_redis):
    """Set on the server in one step: of many limits met at the same moment, the
    longest pause wins, whatever order their records arrive in."""
    import threading

    pauses = shared_pauses(clean_redis)
    keys = scopes("facebook", Credentials("token-c"))
    start = threading.Barrier(8)

    def meet(seconds):
        start.wait()
        for _ in range(50):
            pauses.record(keys, RateLimited(seconds))

    threads = [threading.Thread(target=meet, args=(60 * (i + 1),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    until = float(pauses.client.get(keys["token"]))
    assert until > time.time() + 470  # the 480 s pause, not one of the shorter ones
    assert pauses.client.ttl(keys["token"]) > 470
    pauses.record(keys, RateLimited(30))
    assert float(pauses.client.get(keys["token"])) == until
