"""The emulator's feed at scale: 100,000 stories read page by page over real HTTP with the
plugin's own paging parameters, every story seen exactly once, newest first.

The feed is indexed (emulators/sortedfeed.py) so a page costs the same at any size;
bench/emulators.py measures that. These tests check the index pages exactly as the
whole-list paging did: no story skipped or repeated across ties within a second,
deletions and both of Graph's paging styles.
"""
from __future__ import annotations

from emulators.facebook.paging import cursor_of
from plugins.facebook.crawl import story_fields
from plugins.facebook.cursor import FEED_LIMIT

from .conftest import BLUEBIRD

BULK = 100_000
SEEDED = 230  # Bluebird's seeded stories


def _walk(fb, path: str, token: str, **params) -> list[dict]:
    """Every story of the feed, following Graph's ``next`` links as the plugin does."""
    body = fb.get(path, token, **params).json()
    stories = []
    while True:
        assert "error" not in body, body
        stories.extend(body["data"])
        link = body.get("paging", {}).get("next")
        if not link:
            return stories
        body = fb.http.get(link).json()


def _newest_first_once(stories: list[dict]) -> None:
    ids = [s["id"] for s in stories]
    assert len(ids) == len(set(ids)), "a story came twice"
    # Same layout and zone, ids of one length: string order is (time, id) order.
    keys = [(s["created_time"], s["id"]) for s in stories]
    assert all(a > b for a, b in zip(keys, keys[1:])), "not newest first"


def _load(fb) -> None:
    # Half a day: two or three stories a second, so a page boundary often splits a second.
    fb.control("posts/bulk", page_id=BLUEBIRD, count=BULK, spacing=43200 / BULK)


def test_plugin_paging_sees_every_story_of_a_100k_feed_once_newest_first(fb):
    _load(fb)
    token = fb.page_token()
    stories = _walk(fb, f"{BLUEBIRD}/feed", token, fields=story_fields(True), limit=FEED_LIMIT)
    _newest_first_once(stories)
    assert len(stories) == BULK + SEEDED
    archive = [s["message"] for s in stories if s.get("message", "").startswith("Bulk story ")]
    assert sorted(archive) == sorted(f"Bulk story {n}" for n in range(BULK))
    assert archive[0] == "Bulk story 0"  # the bulk load's newest comes first


def test_cursor_paging_and_deletions_on_a_100k_feed(fb):
    _load(fb)
    token = fb.page_token()
    first = fb.get(f"{BLUEBIRD}/feed", token, fields="id", limit=3).json()["data"]
    for story in first[1:]:  # deleted through Graph, as a moderator would
        assert fb.http.delete(f"{fb.graph}/{story['id']}", params={"access_token": token}).json() == {"success": True}
    fb.control("paging", feed="cursor")
    stories = _walk(fb, f"{BLUEBIRD}/feed", token, fields="id,created_time", limit=FEED_LIMIT)
    _newest_first_once(stories)
    assert len(stories) == BULK + SEEDED - 2
    assert {s["id"] for s in first[1:]}.isdisjoint(s["id"] for s in stories)
    # Back from the middle with ``before``: the page just newer than the cursor, in order.
    middle = fb.get(f"{BLUEBIRD}/feed", token, fields="id", limit=10, after=cursor_of(stories[5000]["id"])).json()
    assert [s["id"] for s in middle["data"]] == [s["id"] for s in stories[5001:5011]]
    back = fb.http.get(middle["paging"]["previous"]).json()
    assert [s["id"] for s in back["data"]] == [s["id"] for s in stories[4991:5001]]
