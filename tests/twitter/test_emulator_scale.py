"""The emulator's timelines and search at scale: 100,000 tweets read page by page over
real HTTP with the plugin's own parameters, every tweet seen exactly once, newest first.

Tweets are indexed as they are posted (emulators/sortedfeed.py) so a page costs the
same at any size; bench/emulators.py measures that. These tests check that the index
pages as the whole-list paging did, caps (3,200 tweets, 800 mentions) and the search
window included.
"""
from __future__ import annotations

import requests

from plugins.twitter.crawl import _tweet_params

BULK = 100_000
MENTIONING = 1_000


def _walk(emulator, token: str, path: str, params: dict, token_name: str = "pagination_token") -> list[dict]:
    """Every tweet of a paged endpoint, following ``next_token`` as the plugin does."""
    tweets, params = [], dict(params)
    while True:
        response = requests.get(f"{emulator.url}{path}", params=params, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        body = response.json()
        tweets.extend(body.get("data", []))
        if "next_token" not in body["meta"]:
            return tweets
        params[token_name] = body["meta"]["next_token"]


def _newest_first_once(tweets: list[dict]) -> list[int]:
    ids = [int(t["id"]) for t in tweets]
    assert all(a > b for a, b in zip(ids, ids[1:])), "not newest first, or a tweet came twice"
    return ids


def _numbers(tweets: list[dict], prefix: str) -> list[int]:
    return [int(t["text"].rsplit("#", 1)[1]) for t in tweets if t["text"].startswith(prefix)]


def _load(emulator) -> None:
    emulator.control("POST", "/tweets/bulk", author="acmecoffee", count=BULK, oldest_days=6, newest_days=0.01,
                     text="Roast log #{n}")
    emulator.control("POST", "/tweets/bulk", author="jane_doe", count=MENTIONING, oldest_days=5, newest_days=0.02,
                     text="@acmecoffee where is order #{n}")


def test_plugin_search_sees_every_tweet_of_a_100k_account_once_newest_first(emulator, owner_token):
    _load(emulator)
    owner = emulator.user_id("acmecoffee")
    emulator.control("POST", "/rate_limit", endpoint="GET /2/tweets/search/recent", remaining=10**6,
                     user="acmecoffee")  # 1,000 pages: more than one 15-minute window allows
    params = _tweet_params(None, None, query=f"from:{owner} OR @acmecoffee")
    tweets = _walk(emulator, owner_token["access_token"], "/2/tweets/search/recent", params, "next_token")
    _newest_first_once(tweets)
    assert sorted(_numbers(tweets, "Roast log #")) == list(range(1, BULK + 1))
    assert sorted(_numbers(tweets, "@acmecoffee where is order #")) == list(range(1, MENTIONING + 1))
    assert all(t["author_id"] == owner or "@acmecoffee" in t["text"].lower() for t in tweets)


def test_timeline_and_mentions_page_their_capped_newest_tweets_of_a_100k_account(emulator, owner_token):
    _load(emulator)
    owner = emulator.user_id("acmecoffee")
    token = owner_token["access_token"]
    timeline = _walk(emulator, token, f"/2/users/{owner}/tweets", _tweet_params(None, None))
    assert _newest_first_once(timeline) == [int(i) for i in emulator.tweet_ids("acmecoffee")[:3200]]
    logs = _numbers(timeline, "Roast log #")
    assert logs == list(range(BULK, BULK - len(logs), -1)) and len(logs) > 3000  # the newest, none skipped
    mentions = _walk(emulator, token, f"/2/users/{owner}/mentions", _tweet_params(None, None))
    _newest_first_once(mentions)
    assert len(mentions) == 800
    orders = _numbers(mentions, "@acmecoffee where is order #")
    assert orders == list(range(MENTIONING, MENTIONING - len(orders), -1)) and len(orders) > 700
    # A deleted tweet leaves the timeline; the one below it moves up into the 3,200.
    newest = timeline[0]["id"]
    emulator.control("DELETE", f"/tweets/{newest}")
    again = _walk(emulator, token, f"/2/users/{owner}/tweets", _tweet_params(None, None))
    assert [t["id"] for t in again[:-1]] == [t["id"] for t in timeline[1:]] and len(again) == 3200
    # since_id: only what is newer, as the plugin's next crawl asks.
    newer = _walk(emulator, token, f"/2/users/{owner}/tweets", _tweet_params(timeline[150]["id"], None))
    assert [t["id"] for t in newer] == [t["id"] for t in timeline[1:150]]
