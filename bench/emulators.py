"""The emulators keep up: one page of a feed at 1,000,000 items against one page of the
same feed at 100 items, over real HTTP, with the plugins' own parameters.

Benchmarks of the crawler must measure Streamdesk, not the emulator: a page must cost
the same whatever the size of the feed. Each emulator runs twice side by side, a small
world and a big one loaded through the control API's bulk calls; the same kind of page
(bulk-loaded items only, so the same JSON per item) is asked of both in interleaved
rounds, at random depths of the big feed, and the line gives the median of each side:
the 100-item page is the raw limit the big one is held to.

* Facebook: a public page's ``/feed`` (25 stories, the plugin's story fields, app
  token), deep pages through the ``until``/``__paging_token`` its ``next`` links carry.
* X: a user's timeline (``/2/users/:id/tweets``, 25 tweets, the plugin's fields and
  expansions, within the 3,200 it reaches) and recent search
  (``from:… OR @…``), deep pages through ``pagination_token``/``next_token``.
"""
from __future__ import annotations

import logging
import random
import statistics
import time
from pathlib import Path

import requests

SMALL, BIG = 100, 1_000_000
LIMIT = 25
ROUNDS = 200
FB_PAGE = "109283746501827"  # Blue Bottle Bakery: a public page with 20 seeded stories
X_USER = "mia_reads"  # 7 seeded tweets


def _timed(session: requests.Session, url: str, params: dict, headers: dict | None = None) -> float:
    start = time.perf_counter()
    response = session.get(url, params=params, headers=headers, timeout=60)
    elapsed = time.perf_counter() - start
    if response.status_code != 200 or "error" in response.json() or "errors" in response.json():
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return elapsed


def _compare(small, big) -> tuple[float, float]:
    """Medians (seconds) of ``small()`` and ``big()``, called in interleaved rounds so that
    a neighbour's burst on the shared machine lands on both sides."""
    for _ in range(10):  # warm both: connections, caches
        small(), big()
    smalls, bigs = [], []
    for _ in range(ROUNDS):
        smalls.append(small())
        bigs.append(big())
    return statistics.median(smalls), statistics.median(bigs)


def _line(name: str, small: float, big: float, loaded: float, unit: str) -> str:
    return (f"{name}: {big * 1000:.1f} ms at {BIG:,} {unit} — ratio {big / small:.2f} of "
            f"{small * 1000:.1f} ms at {SMALL:,} {unit} (bulk load {loaded:.0f} s)")


def _post(url: str, **body) -> dict:
    response = requests.post(url, json=body, timeout=600)
    response.raise_for_status()
    return response.json()


def facebook() -> str:
    """The Facebook line: ``/feed`` pages at 100 and 1,000,000 stories."""
    import emulators
    from emulators.facebook.paging import _paging_token
    from emulators.facebook.seed import APP_ID, APP_SECRET
    from plugins.facebook.crawl import story_fields

    small, big = emulators.start("facebook"), emulators.start("facebook")
    try:
        # Bulk stories are newer than the seed's: every page measured holds only them.
        _post(f"{small.url}/_control/posts/bulk", page_id=FB_PAGE, count=SMALL - 20, spacing=86400 / SMALL)
        start = time.perf_counter()
        _post(f"{big.url}/_control/posts/bulk", page_id=FB_PAGE, count=BIG - 20, spacing=365 * 86400 / BIG)
        loaded = time.perf_counter() - start
        params = {"fields": story_fields(False), "limit": LIMIT, "access_token": f"{APP_ID}|{APP_SECRET}"}
        feed = big.app.config["FB_STATE"].world.feed(FB_PAGE)
        bulk = [feed[i] for i in range(20, len(feed), 997)]  # past the seeded 20 (the oldest)
        session = requests.Session()

        def deep() -> float:
            post = random.choice(bulk)  # where a ``next`` link from any page would lead
            at = int(post.created.timestamp())
            return _timed(session, f"{big.url}/v25.0/{FB_PAGE}/feed",
                          {**params, "until": at, "__paging_token": _paging_token(at, post.local_id)})

        ms = _compare(lambda: _timed(session, f"{small.url}/v25.0/{FB_PAGE}/feed", params), deep)
        return _line("emulator page (Facebook /feed)", *ms, loaded, "stories")
    finally:
        small.stop()
        big.stop()


def twitter() -> str:
    """The X lines: timeline and search pages at 100 and 1,000,000 tweets."""
    import emulators
    from emulators.twitter import sandbox_config
    from emulators.twitter.params import encode_token
    from plugins.twitter.client import app_token
    from plugins.twitter.crawl import _tweet_params

    small, big = emulators.start("twitter"), emulators.start("twitter")
    try:
        _post(f"{small.url}/_control/tweets/bulk", author=X_USER, count=SMALL - 7, oldest_days=0.5, newest_days=0)
        start = time.perf_counter()
        # Six days: all of them inside recent search's seven.
        _post(f"{big.url}/_control/tweets/bulk", author=X_USER, count=BIG - 7, oldest_days=6, newest_days=0)
        loaded = time.perf_counter() - start
        user_id = next(u.id for u in big.app.config["TWITTER_STATE"].users.values() if u.username == X_USER)
        headers = {"Authorization": f"Bearer {app_token(sandbox_config(big.url))}"}
        for running in (small, big):  # ROUNDS pages each: more than a 15-minute window allows
            for endpoint in ("GET /2/users/:id/tweets", "GET /2/tweets/search/recent"):
                _post(f"{running.url}/_control/rate_limit", endpoint=endpoint, remaining=10**6)
        state = big.app.config["TWITTER_STATE"]
        timeline, everything = state.tweets_of(user_id), state.everything
        recent = [int(timeline[i].id) for i in range(len(timeline) - 3200, len(timeline))]  # what the cap lets in
        anywhere = [int(everything[i].id) for i in range(len(everything) // 2, len(everything), 499)]
        tweets = {**_tweet_params(None, None), "max_results": LIMIT}
        search = {**_tweet_params(None, None, query=f"from:{user_id} OR @{X_USER}"), "max_results": LIMIT}
        session = requests.Session()
        lines = []
        for name, path, params, token_name, ids in (
                ("emulator page (X timeline)", f"/2/users/{user_id}/tweets", tweets, "pagination_token", recent),
                ("emulator page (X search)", "/2/tweets/search/recent", search, "next_token", anywhere)):
            def shallow(path=path, params=params) -> float:
                return _timed(session, small.url + path, params, headers)

            def deep(path=path, params=params, token_name=token_name, ids=ids) -> float:
                token = encode_token("next", random.choice(ids))
                return _timed(session, big.url + path, {**params, token_name: token}, headers)

            lines.append(_line(name, *_compare(shallow, deep), loaded, "tweets"))
        return "\n".join(lines)
    finally:
        small.stop()
        big.stop()


def run(tmp: Path) -> str:
    """Both emulators' lines."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return "\n".join((facebook(), twitter()))
