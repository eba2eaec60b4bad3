"""Crawling beyond the newest feed page: changes on old posts (the sweep), smaller pages
when Graph asks for less data, and replaying Graph's own paging links (time or cursor)."""
import json

import pytest

from plugins.facebook.guard import MALFORMED_MESSAGE
from plugins.facebook.revisit import BANDS
from plugins.facebook.rules import SCOPES
from streamdesk_contract.errors import PermissionMissing, ProviderUnavailable

from .conftest import ACME, BLUEBIRD, authorized, public
from .test_plugin_crawl import Drained, crawl, drain

PAGE_NODE = f"GET /v25.0/{BLUEBIRD}"
FEED = f"GET /v25.0/{BLUEBIRD}/feed"
OLDER = BANDS[-1]  # every seeded post is over 30 days old


def until_gap(pages):
    """Drain like a worker killed right after the first page whose cursor holds a gap."""
    got = Drained()
    for page in pages:
        drain([page], into=got)
        if json.loads(page.cursor)["g"]:
            return got
    raise AssertionError("no gap")


@pytest.fixture
def crawled(fb, fb_plugins, config, page_credentials):
    """Bluebird Coffee (230 stories) crawled once in full; returns (credentials, cursor)."""
    credentials = page_credentials()
    return credentials, drain(crawl(fb_plugins, config, authorized(), credentials)).cursor


def test_a_comment_on_the_150th_post_shows_up_in_the_next_crawl(fb, fb_plugins, config, crawled):
    credentials, cursor = crawled
    old = fb.state.world.posts(BLUEBIRD)[149]  # on the second feed page
    comment = fb.control("comments", post_id=old.id, message="Is this still on?")["id"]
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
    assert set(got.stories) == {old.id} and set(got.comments) == {comment}
    assert got.stories[old.id].updated_at > got.stories[old.id].created_at
    # The newest page with the inbox, the swept page (ids and times only), the changed post.
    assert fb.calls() == {PAGE_NODE: 1, FEED: 1, "GET /v25.0/": 1}
    swept = fb.requests(f"/v25.0/{BLUEBIRD}/feed")[0]["query"]
    assert swept["fields"] == "id,created_time,updated_time" and "until" in swept
    # Idle again: the round ends on the third page, the next starts a period later; the
    # change is not read twice.
    cursor = got.cursor
    for n, calls in enumerate((2, 1, 1, 2, 2, 1)):
        if n == 3:
            fb.control("clock", advance=OLDER.period)  # the next round is due
        fb.clear_calls()
        idle = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
        assert (idle.stories, idle.comments, idle.messages) == ({}, {}, {}) and fb.total_calls() == calls
        cursor = idle.cursor or cursor  # no page: the core keeps the stored cursor


def test_every_older_page_is_swept_within_a_round(fb, fb_plugins, config, crawled):
    credentials, cursor = crawled
    posts = fb.state.world.posts(BLUEBIRD)
    last = posts[220]  # on the third (last) feed page
    reply_to = next(c for p in posts[100:200] for c in fb.state.world.comments(p.id) if not c.parent_id)
    first = fb.control("comments", post_id=last.id, message="Late to the party")["id"]
    second = fb.control("comments", parent_id=reply_to.id, message="Me too")["id"]
    seen, crawls = {}, 0
    while len(seen) < 2:
        got = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
        seen.update(got.comments)
        cursor, crawls = got.cursor, crawls + 1
        assert crawls <= 2  # 230 stories: two older pages, one per crawl
    assert set(seen) == {first, second} and seen[second].parent_id == reply_to.id


def test_a_change_on_a_page_the_round_has_passed_is_found_in_the_next_round(fb, fb_plugins, config, crawled):
    credentials, cursor = crawled
    cursor = drain(crawl(fb_plugins, config, authorized(), credentials, cursor)).cursor  # sweeps page 2
    old = fb.state.world.posts(BLUEBIRD)[150]
    comment = fb.control("comments", post_id=old.id, message="Anyone?")["id"]
    third_page = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
    assert third_page.comments == {}
    between = drain(crawl(fb_plugins, config, authorized(), credentials, third_page.cursor))
    assert between.comments == {}  # the posts over 30 days old are revisited once a period
    fb.control("clock", advance=OLDER.period)
    next_round = drain(crawl(fb_plugins, config, authorized(), credentials, between.cursor or third_page.cursor))
    assert set(next_round.comments) == {comment}


def test_an_edited_old_post_is_read_again(fb, fb_plugins, config, crawled):
    credentials, cursor = crawled
    old = fb.state.world.posts(BLUEBIRD)[130]
    assert fb.post(old.id, credentials.access_token, message="Edited: new opening hours").ok
    got = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
    assert got.stories[old.id].text == "Edited: new opening hours" and got.comments == {}


def test_a_burst_of_new_posts_is_not_read_twice_by_the_sweep(fb, fb_plugins, config, crawled):
    credentials, cursor = crawled
    added = {fb.control("posts", page_id=BLUEBIRD, message=f"Flash sale #{n}")["id"] for n in range(130)}
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
    assert set(got.stories) == added
    assert fb.calls() == {PAGE_NODE: 1, FEED: 2}  # newest page, the gap, the swept page


def test_messages_permission_off_still_crawls_the_stories_first(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials(permissions=[p for p in SCOPES if p != "pages_messaging"])
    stories = {}
    with pytest.raises(PermissionMissing) as caught:
        for page in crawl(fb_plugins, config, authorized(), credentials):
            stories.update({s.external_id: s for s in page.stories})
    assert len(stories) == len(fb.state.world.posts(BLUEBIRD))
    assert caught.value.permission == "pages_messaging"


# --- "Please reduce the amount of data you're asking for" (code 1) ----------------------

def test_reduce_data_halves_the_page_size_and_keeps_it(fb, fb_plugins, config):
    fb.fault("reduce_data", path=f"/v25.0/{ACME}/feed", count=1)
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, public(ACME), None))
    assert len(got.stories) == 100  # still the 100 most recent, in pages of 50
    assert [r["query"]["limit"] for r in fb.requests(f"/v25.0/{ACME}/feed")] == ["100", "50", "50"]
    assert json.loads(got.cursor)["l"] == 50
    fb.clear_calls()
    idle = drain(crawl(fb_plugins, config, public(ACME), None, got.cursor))
    assert idle.stories == {} and [r["query"]["limit"] for r in fb.requests()] == ["50", "50"]


def test_reduce_data_on_an_owned_page_reads_everything_in_smaller_pages(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.fault("reduce_data", path=f"/v25.0/{BLUEBIRD}", count=2)  # the first call, twice
    got = drain(crawl(fb_plugins, config, authorized(), credentials))
    assert len(got.stories) == len(fb.state.world.posts(BLUEBIRD))
    assert json.loads(got.cursor)["l"] == 25
    head = fb.requests(f"/v25.0/{BLUEBIRD}")
    assert [r["query"]["fields"].split("{")[0] for r in head] == ["feed.limit(100)", "feed.limit(50)", "feed.limit(25)"]
    assert {r["query"]["limit"] for r in fb.requests(f"/v25.0/{BLUEBIRD}/feed")} == {"25"}


def test_reduce_data_at_the_smallest_page_is_a_readable_retry_later(fb, fb_plugins, config):
    fb.fault("reduce_data", path=f"/v25.0/{ACME}/feed", count=10)
    seen = []
    with pytest.raises(ProviderUnavailable) as caught:
        for page in crawl(fb_plugins, config, public(ACME), None):
            seen.append(page.cursor)
    assert "smaller pages" in caught.value.message
    assert [r["query"]["limit"] for r in fb.requests()] == ["100", "50", "25", "12", "6", "5"]
    assert json.loads(seen[-1])["l"] == 5  # the core keeps the smallest size for next time


def test_transient_code_1_is_retried_later_with_the_same_page_size(fb, fb_plugins, config):
    fb.fault("transient", code=1, count=1)
    seen = []
    with pytest.raises(ProviderUnavailable) as caught:
        for page in crawl(fb_plugins, config, public(ACME), None):
            seen.append(page)
    assert "temporary problem" in caught.value.message and seen == [] and fb.total_calls() == 1
    got = drain(crawl(fb_plugins, config, public(ACME), None))
    assert json.loads(got.cursor)["l"] == 100


# --- replaying Graph's paging links ---------------------------------------------------

def test_cursor_paged_feed_is_followed_and_resumed(fb, fb_plugins, config, page_credentials):
    fb.control("paging", feed="cursor")  # Graph answers with after= links instead of until=
    credentials = page_credentials()
    complete = drain(crawl(fb_plugins, config, authorized(), credentials))
    assert len(complete.stories) == len(fb.state.world.posts(BLUEBIRD))
    assert all("after" in r["query"] and "until" not in r["query"] for r in fb.requests(f"/v25.0/{BLUEBIRD}/feed"))
    partial = until_gap(crawl(fb_plugins, config, authorized(), credentials))
    assert json.loads(partial.cursor)["g"]["q"].keys() == {"after"}
    resumed = drain(crawl(fb_plugins, config, authorized(), credentials, partial.cursor), into=partial)
    assert set(resumed.stories) == set(complete.stories) and set(resumed.comments) == set(complete.comments)
    # The sweep replays after= links too.
    old = fb.state.world.posts(BLUEBIRD)[150]
    comment = fb.control("comments", post_id=old.id, message="Any news?")["id"]
    got = drain(crawl(fb_plugins, config, authorized(), credentials, complete.cursor))
    assert set(got.comments) == {comment}


def test_time_paged_gap_keeps_the_query_graph_gave(fb, fb_plugins, config, page_credentials):
    partial = until_gap(crawl(fb_plugins, config, authorized(), page_credentials()))
    query = json.loads(partial.cursor)["g"]["q"]
    assert set(query) == {"until", "__paging_token"}  # never a token, fields or limit


def test_version_1_cursors_are_carried_over(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    complete = drain(crawl(fb_plugins, config, authorized(), credentials))
    partial = until_gap(crawl(fb_plugins, config, authorized(), credentials))
    doc = json.loads(partial.cursor)
    gap = doc["g"]["q"]
    v1 = json.dumps({"v": 1, "s": doc["s"], "si": doc["si"], "m": doc["m"], "mi": doc["mi"],
                     "g": {"u": int(gap["until"]), "t": gap["__paging_token"], "f": doc["g"]["f"]}})
    resumed = drain(crawl(fb_plugins, config, authorized(), credentials, v1), into=partial)
    assert set(resumed.stories) == set(complete.stories)


def test_a_next_link_without_its_position_is_unreadable(fb, fb_plugins, config, page_credentials):
    fb.fault("malformed", path=f"/v25.0/{BLUEBIRD}", within="feed", next_drop=["until", "__paging_token"])
    with pytest.raises(ProviderUnavailable) as caught:
        drain(crawl(fb_plugins, config, authorized(), page_credentials()))
    assert caught.value.message == MALFORMED_MESSAGE


def test_a_version_2_cursor_keeps_its_sweep_floor_in_every_band():
    from plugins.facebook.cursor import CrawlCursor

    old = ('{"v":2,"s":200,"si":["p_1"],"g":null,"w":{"q":{"until":"50"},"f":120,"fi":["p_9"],"n":150,'
           '"ni":[],"k":{"p_3":130}},"m":null,"mi":[],"l":100}')
    cursor = CrawlCursor.load(old)
    assert cursor.stories_at == 200 and set(cursor.sweeps) == {band.name for band in BANDS}
    assert all(s.floor == 120 and s.query is None and s.known == {"p_3": 130} for s in cursor.sweeps.values())
