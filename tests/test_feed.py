"""The topic feed: newest first, keyset pages, filters, gaps, counts, query budget."""
from __future__ import annotations

import datetime
import logging
import re

import pytest

from webapp.db import database
from webapp.feed import PAGE_SIZE
from webapp.models import Comment, Figure, Story, StreamGap, Topic
from factories import new_stream

T = datetime.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def fb(topic):
    return new_stream(topic, service="facebook", page_id="page1", name="Acme Page", authorized=True, status="active")


@pytest.fixture
def tw(topic):
    return new_stream(topic, service="twitter", page_id="rival", name="Rival", authorized=False, status="active")


def story(stream, n, minutes, **fields):
    return Story.create(stream=stream, external_id=f"{stream.page_id}_{n}", created_at=T + datetime.timedelta(minutes=minutes),
                        text=fields.pop("text", f"story {stream.name} {n}"), **fields)


def ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="story-(\d+)"', html)]


def test_the_feed_lists_all_streams_newest_first_with_their_names(member_client, topic, fb, tw):
    a, b, c = story(fb, 1, 1), story(tw, 1, 2), story(fb, 2, 3, url="https://facebook.example/p/2")
    html = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    assert ids(html) == [c.id, b.id, a.id]
    assert "Acme Page" in html and "Rival" in html and "Facebook" in html
    assert 'href="https://facebook.example/p/2" rel="noopener noreferrer nofollow"' in html


def test_only_http_links_to_the_provider(member_client, topic, fb):
    story(fb, 1, 1, url="javascript:alert(1)")
    html = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    assert "javascript:" not in html and "Open on" not in html


def test_counts_come_from_figures_and_missing_ones_are_not_zero(member_client, topic, tw):
    s = story(tw, 1, 1)
    Figure.create(stream=tw, level="post", object_id=s.external_id, name="likes", value=1234)
    Figure.create(stream=tw, level="post", object_id=s.external_id, name="replies", value=None, note="not given")
    html = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    assert "1,234 likes" in html
    assert "replies</span>" not in html and "0 replies" not in html


def test_older_stories_page_by_keyset_without_gaps_or_repeats(member_client, topic, fb, tw):
    made = [story(fb if n % 2 else tw, n, n // 3) for n in range(2 * PAGE_SIZE + 5)]  # equal times too
    expected = [s.id for s in sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)]
    seen, url = [], f"/topics/{topic.id}"
    while url:
        html = member_client.get(url).get_data(as_text=True)
        seen += ids(html)
        more = re.search(r'<a href="([^"]*before=[^"]*)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == expected


def test_htmx_asks_for_the_next_rows_only(member_client, topic, fb):
    for n in range(PAGE_SIZE + 3):
        story(fb, n, n)
    first = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    older = re.search(r'hx-get="([^"]*before=[^"]*)"', first).group(1).replace("&amp;", "&")
    assert 'hx-trigger="revealed, click"' in first
    rows = member_client.get(older, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rows and "<form" not in rows and len(ids(rows)) == 3


def test_filters(member_client, topic, fb, tw):
    a = story(fb, 1, 0)
    b = story(tw, 1, 60 * 24 * 3)
    base = f"/topics/{topic.id}"
    assert ids(member_client.get(f"{base}?stream={tw.id}").get_data(as_text=True)) == [b.id]
    assert ids(member_client.get(f"{base}?service=facebook").get_data(as_text=True)) == [a.id]
    assert ids(member_client.get(f"{base}?connection=unauthorized").get_data(as_text=True)) == [b.id]
    assert ids(member_client.get(f"{base}?from=2026-03-02").get_data(as_text=True)) == [b.id]
    assert ids(member_client.get(f"{base}?to=2026-03-01").get_data(as_text=True)) == [a.id]


@pytest.mark.parametrize("query, message", [
    ("stream=999999", "not in this topic"), ("service=myspace", "no service called"),
    ("connection=maybe", "authorized or unauthorized"), ("from=yesterday", "use YYYY-MM-DD"),
    ("from=2026-03-05&to=2026-03-01", "swap the dates"), ("before=banana", "not one this page gave"),
    ("before=2026-01-01T00:00:00,0", "not one this page gave"),
])
def test_bad_filter_values_get_a_readable_message(member_client, topic, fb, query, message):
    response = member_client.get(f"/topics/{topic.id}?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_another_topics_stream_is_not_a_filter_value(member_client, account, topic, fb):
    other = Topic.create(account=account, name="Other")
    theirs = new_stream(other, service="facebook", page_id="x", name="X", authorized=False)
    assert member_client.get(f"/topics/{topic.id}?stream={theirs.id}").status_code == 400


def test_unanswered_comments_filter(member_client, topic, fb):
    answered, open_, own_only, quiet = (story(fb, n, n) for n in range(4))
    Comment.create(stream=fb, external_id="c1", story_external_id=answered.external_id, created_at=T, author_id="u1")
    Comment.create(stream=fb, external_id="r1", story_external_id=answered.external_id, parent_external_id="c1",
                   created_at=T, author_id=fb.page_id)
    Comment.create(stream=fb, external_id="c2", story_external_id=open_.external_id, created_at=T, author_id="u2")
    # A page's top-level comment answers nobody in particular.
    Comment.create(stream=fb, external_id="c3", story_external_id=open_.external_id, created_at=T, author_id=fb.page_id)
    Comment.create(stream=fb, external_id="c4", story_external_id=own_only.external_id, created_at=T, author_id=fb.page_id)
    html = member_client.get(f"/topics/{topic.id}?unanswered=1").get_data(as_text=True)
    assert ids(html) == [open_.id]


def test_a_gap_shows_where_it_lies(member_client, topic, fb):
    old, new = story(fb, 1, 0), story(fb, 2, 600)
    StreamGap.create(stream=fb, starts_at=T + datetime.timedelta(minutes=10), ends_at=T + datetime.timedelta(minutes=300),
                     reason="the token had expired")
    html = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    gap = html.index("No data from")
    assert html.index(f'id="story-{new.id}"') < gap < html.index(f'id="story-{old.id}"')
    assert "(Acme Page): the token had expired" in html


def statements(client, url, caplog) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert client.get(url).status_code == 200
    return [r.getMessage() for r in caplog.records if r.name == "peewee"]


def test_a_page_costs_the_same_queries_however_many_stories(member_client, topic, fb, tw, caplog):
    story(fb, 0, 0)
    few = statements(member_client, f"/topics/{topic.id}", caplog)
    for n in range(1, 3 * PAGE_SIZE):
        s = story(fb if n % 2 else tw, n, n)
        Figure.create(stream=s.stream, level="post", object_id=s.external_id, name="likes", value=n)
        Comment.create(stream=s.stream, external_id=f"c{n}", story_external_id=s.external_id, created_at=T)
    many = statements(member_client, f"/topics/{topic.id}", caplog)
    assert len(many) == len(few), many
    feed_queries = [s for s in many if '"story"' in s or '"figure"' in s or '"stream_gap"' in s]
    assert len(feed_queries) <= 4, feed_queries
    print(f"queries per feed page: {len(many)} in all, {len(feed_queries)} for the feed")


def test_the_feed_query_reads_the_time_index(db, topic, fb, tw):
    from webapp.feed import Cursor, Filters, newest_first, stories_query

    third = new_stream(topic, service="facebook", page_id="p3", name="Third", authorized=False)
    rows = [dict(stream=s.id, external_id=f"{s.id}_{n}", created_at=T + datetime.timedelta(minutes=n), text="x")
            for n in range(1500) for s in (fb, tw, third)]
    with database.atomic():
        for start in range(0, len(rows), 300):
            Story.insert_many(rows[start:start + 300]).execute()
    db.execute_sql("ANALYZE")
    postgres = "postgres" in type(db).__name__.lower()

    def plan(before=None) -> str:
        query = newest_first(stories_query([fb.id, tw.id], Filters()), before).limit(PAGE_SIZE + 1)
        sql, params = query.sql()
        rows = db.execute_sql(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params).fetchall()
        return " ".join(str(row) for row in rows)

    for text in (plan(), plan(Cursor(T + datetime.timedelta(minutes=700), 10**6))):
        print(text)
        assert "story_created_at_id" in text, text
        assert "TEMP B-TREE" not in text.upper() and "Sort " not in text, text
    # A later page seeks to its position instead of reading every newer row first.
    deep = plan(Cursor(T + datetime.timedelta(minutes=700), 10**6))
    assert ("Index Cond: (created_at <=" in deep) if postgres else ("SEARCH" in deep and "created_at<" in deep), deep


def test_a_dated_feed_pages_from_its_cursor_and_keeps_its_end(member_client, topic, fb, tw):
    """With a "to" date, later pages bound the time by their cursor alone (one upper bound:
    SQLite otherwise seeks to the date's end and reads every story above the cursor), and
    a cursor beyond the date still shows nothing after it."""
    from webapp.feed import Cursor, Filters, _implied_end

    made = [story(fb if n % 2 else tw, n, 60 * n) for n in range(2 * PAGE_SIZE + 5)]  # one an hour, 2+ days
    to = (T + datetime.timedelta(hours=40)).date()
    end = datetime.datetime.combine(to + datetime.timedelta(days=1), datetime.time())
    expected = [s.id for s in sorted(made, key=lambda s: (s.created_at, s.id), reverse=True) if s.created_at < end]
    seen, url = [], f"/topics/{topic.id}?to={to.isoformat()}"
    while url:
        html = member_client.get(url).get_data(as_text=True)
        seen += ids(html)
        more = re.search(r'<a href="([^"]*before=[^"]*)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == expected and len(seen) > PAGE_SIZE
    f = Filters(until=to)
    assert _implied_end(f, Cursor(end - datetime.timedelta(minutes=1), 1)).until is None
    assert _implied_end(f, Cursor(end + datetime.timedelta(days=3), 1)).until == to
    late = Cursor(end + datetime.timedelta(days=3), 10**6)
    html = member_client.get(f"/topics/{topic.id}?to={to.isoformat()}&before={late}").get_data(as_text=True)
    assert ids(html) == expected[:PAGE_SIZE]
