"""SQL statements per request of the pages that list an account's streams: a fixed
number, whatever the number of streams, topics, stories, comments and messages.

Statements are counted where every query passes (the database's ``execute_sql``), on
SQLite or PostgreSQL as configured; an N+1 (a template reading a relation per row)
makes the count grow with the rows and fails here.
"""
from __future__ import annotations

import contextlib
import datetime
import os

import pytest
from factories import figure_days, new_stream

from webapp.models import (Comment, ConnectedProfile, Conversation, ConversationRead, Message, Story, Stream, Topic,
                           TopicStream, User)

#: The pages whose statement counts are kept fixed.
PAGES = ("/topics", "/inbox", "/account/topics/", "/account/topics/{topic}", "/analytics", "/analytics/topics/{topic}",
         "/analytics/topics/{topic}/competitors", "/analytics/streams/{stream}")
#: Statements per page. Every page: the login with its user and account (one query),
#: and the nav's expired streams (with their topic names: one more, as some expired).
#: Then /topics: topics, streams by topic, expiring profiles; /inbox: streams, newest
#: comments (with their topics and stories: thread links), newest messages (with their
#: other participants), the team inbox's conversations (with their assignees, answerers and the
#: person's read markers, one query), the person's unread count, and the topics to filter
#: by; /account/topics/: topics, their sizes; the topic page: the topic, its
#: streams, their gaps, their crawl intervals, and for the subscribed ones the endpoint's
#: verification and their pages' last events; /analytics: topics, streams by topic; a topic's dashboard:
#: the topic, its streams, the roll-up's values and their sources, top posts; competitors:
#: the topic, its streams, the roll-up's values and sources; a stream's dashboard: the stream with its
#: first topic, the roll-up's values and sources, top posts. Top posts are one statement on
#: PostgreSQL and two on SQLite, which first counts each stream's stories in the range to
#: choose its index (webapp/analytics.py top_posts).
TOP_POSTS = 1 if os.environ.get("TEST_DATABASE_URL") else 2
EXPECTED = {"/topics": 6, "/inbox": 9, "/account/topics/": 5, "/account/topics/{topic}": 9, "/analytics": 5,
            "/analytics/topics/{topic}": 7 + TOP_POSTS, "/analytics/topics/{topic}/competitors": 7,
            "/analytics/streams/{stream}": 6 + TOP_POSTS}


@contextlib.contextmanager
def counted(db):
    """Every SQL statement run on ``db`` while inside, in order."""
    statements: list[str] = []
    run = db.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return run(sql, params, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del db.execute_sql  # back to the class's method


def populate(account, streams: int) -> Topic:
    """``streams`` streams in two topics (each stream in both), half authorized through a
    connected profile, the first expired, each with stories, comments and messages; returns the
    first topic."""
    admin = User.get(User.account == account)
    profile = ConnectedProfile.get_or_none(ConnectedProfile.user == admin) or ConnectedProfile.create(
        user=admin, service="facebook", external_id="10158372947561023", name="Alex Admin", access_token="user-token")
    first = Topic.create(account=account, name="Ours")
    second = Topic.create(account=account, name="Rivals")
    at = datetime.datetime(2026, 1, 1)
    for n in range(streams):
        authorized = n % 2 == 0
        stream = new_stream(first, service="facebook" if n % 3 else "twitter", page_id=f"page-{n}-{streams}",
                            name=f"Page {n}", authorized=authorized, status="expired" if n == 0 else "active",
                            connected_profile=profile if authorized else None,
                            access_token=f"page-token-{n}" if authorized else None, story_count=3,
                            realtime="on" if authorized else None)  # subscribed to webhooks
        TopicStream.create(topic=second, stream=stream)
        for i in range(3):
            Story.create(stream=stream, external_id=f"{streams}_{n}_{i}", created_at=at, text=f"story {i}",
                         views=10 * i, engagements=i)
            Comment.create(stream=stream, external_id=f"{n}_{i}_c", story_external_id=f"{n}_{i}",
                           created_at=at + datetime.timedelta(minutes=n * 3 + i), text="Nice!",
                           author_id=f"fan-{i}", author_name=f"Fan {i}")
            Message.create(stream=stream, external_id=f"m{n}_{i}", conversation_id=f"t_{n}",
                           created_at=at + datetime.timedelta(minutes=n * 3 + i), text="Hello",
                           sender_id=f"page-{n}-{streams}" if i % 2 else f"fan-{i}", sender_name=f"Fan {i}")
        # the team inbox's conversations: assigned, answered and read ones among them
        for kind, external_id in (("message", f"t_{n}"), ("comments", f"{n}_0")):
            conversation = Conversation.create(account=account, stream=stream, kind=kind, external_id=external_id,
                                               last_activity_at=at, who="Fan 0", preview="Hello",
                                               assignee=admin if n % 2 else None,
                                               answered_by=admin if n % 3 == 0 else None,
                                               answered_at=at if n % 3 == 0 else None)
            if n % 4 == 0:
                ConversationRead.create(user=admin, conversation=conversation, read_at=at)
        figure_days(stream, "followers", at.date(), [100 + n] * 3)  # read by the analytics pages
    return first


def counts(app, client, account, streams: int) -> dict[str, int]:
    """Statements per page with ``streams`` streams."""
    topic = populate(account, streams)
    stream_id = TopicStream.get(TopicStream.topic == topic).stream_id
    db = app.extensions["streamdesk.db"]
    result = {}
    for page in PAGES:
        path = page.format(topic=topic.id, stream=stream_id)
        client.get(path)  # warm: the first request of a session may store it
        with counted(db) as statements:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        result[page] = len(statements)
    return result


@pytest.fixture
def one_stream(app, admin_client, account):
    return counts(app, admin_client, account, 1)


def test_statements_per_page_do_not_grow_with_streams(one_stream, app, admin_client, account):
    # The same account again, 50 more streams (and a second pair of topics).
    Topic.update(name=Topic.name.concat(" (old)")).execute()
    many = counts(app, admin_client, account, 50)
    assert Stream.select().count() == 51
    assert many == one_stream, f"statements per page with 1 stream: {one_stream}, with 51: {many}"
    # And the exact numbers: an N+1 on a single stream would hide above, and a page that
    # gains a statement should say why here.
    assert many == EXPECTED, many


def test_topic_names_are_never_read_one_stream_at_a_time(db, topic):
    """``Stream.topic_names`` without ``with_topic_names`` would be a query per stream of
    a list: it refuses loudly (a template would swallow an AttributeError)."""
    from webapp.models import TopicNamesNotLoaded, with_topic_names

    stream = new_stream(topic, service="facebook", page_id="1", name="Ours")
    with pytest.raises(TopicNamesNotLoaded, match="with_topic_names"):
        Stream.get_by_id(stream.id).topic_names
    assert with_topic_names([Stream.get_by_id(stream.id)])[0].topic_names == [topic.name]
