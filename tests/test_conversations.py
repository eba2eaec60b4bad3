"""The team inbox's conversations below the UI: the crawl's ingest makes and reopens
them (one statement per page), filters, assignment, unread counts per person."""
import datetime

import pytest
from streamdesk_contract.values import Comment as CommentValue
from streamdesk_contract.values import CrawlPage
from streamdesk_contract.values import Message as MessageValue

from conftest import PASSWORD
from factories import new_stream
from test_query_counts import counted
from webapp import conversations
from webapp.accounts import create_account, create_user
from webapp.conversations import Filters
from webapp.crawl import ingest
from webapp.db import database
from webapp.models import Conversation, Topic

T = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
PAGE = "104"


@pytest.fixture
def stream(topic):
    return new_stream(topic, service="facebook", page_id=PAGE, name="Bluebird Coffee", authorized=True,
                      status="active")


def message(n, minutes, sender="555", name="James", conversation="t1"):
    return MessageValue(external_id=f"m{n}", conversation_id=conversation, created_at=T + datetime.timedelta(
        minutes=minutes), text=f"message {n}", sender_id=sender, sender_name=name)


def comment(n, minutes, author="777", name="Maria", story="s1"):
    return CommentValue(external_id=f"c{n}", story_id=story, created_at=T + datetime.timedelta(minutes=minutes),
                        text=f"comment {n}", author_id=author, author_name=name)


def crawl_page(stream, messages=(), comments=()):
    with database.atomic():
        ingest(stream, CrawlPage(cursor=None, messages=tuple(messages), comments=tuple(comments)))


def test_a_page_of_rows_makes_one_conversation_per_thread_in_one_statement(stream):
    with counted(database.obj) as statements:
        crawl_page(stream, messages=[message(1, 0), message(2, 5), message(3, 6, sender=PAGE, name="Bluebird"),
                                     message(4, 1, conversation="t2", name="Ana")],
                   comments=[comment(1, 0), comment(2, 3, name="Lee"), comment(3, 9, author=PAGE),
                             comment(4, 2, story="s2", author=PAGE)])
    assert sum('INSERT INTO "conversation"' in s for s in statements) == 1
    rows = {(c.kind, c.external_id): c for c in Conversation.select()}
    # s2 has only the page's own comment: nothing to answer
    assert set(rows) == {("message", "t1"), ("message", "t2"), ("comments", "s1")}
    t1 = rows[("message", "t1")]
    assert t1.status == "open" and t1.preview == "message 2" and t1.who == "James"  # the page's reply is no news
    assert rows[("comments", "s1")].who == "Lee" and t1.account_id == stream.account_id


def test_a_public_page_of_others_makes_no_conversations(topic):
    rival = new_stream(topic, service="facebook", page_id="999", name="Rival Roasters", status="active")
    crawl_page(rival, comments=[comment(1, 0)])
    assert Conversation.select().count() == 0


def test_a_new_message_reopens_a_closed_conversation_and_a_recrawl_does_not(stream):
    crawl_page(stream, messages=[message(1, 0)])
    conversation = Conversation.get()
    conversations.set_status(conversation, "closed")
    crawl_page(stream, messages=[message(1, 0)])  # the same message crawled again
    assert Conversation.get().status == "closed"
    crawl_page(stream, messages=[message(2, 10)])
    reopened = Conversation.get()
    assert reopened.status == "open" and reopened.preview == "message 2"
    assert reopened.last_activity_at == datetime.datetime(2026, 11, 1, 12, 10)
    crawl_page(stream, comments=[comment(1, 20)])
    conversations.set_status(Conversation.get(Conversation.kind == "comments"), "closed")
    crawl_page(stream, comments=[comment(2, 30, author=PAGE)])  # the page answering keeps it closed
    assert Conversation.get(Conversation.kind == "comments").status == "closed"
    crawl_page(stream, comments=[comment(3, 40)])
    assert Conversation.get(Conversation.kind == "comments").status == "open"


def test_filters_assignment_and_unread_counts_per_person(stream, admin, member, account):
    crawl_page(stream, messages=[message(1, 0), message(2, 1, conversation="t2")],
               comments=[comment(1, 2)])
    other_topic = Topic.create(account=account, name="Other")
    x = new_stream(other_topic, service="twitter", page_id="9", name="Bluebird X", authorized=True)
    crawl_page(x, messages=[message(9, 3, conversation="dm9")])
    t1 = Conversation.get(Conversation.external_id == "t1")
    conversations.assign(admin, t1, member.id)
    conversations.set_status(Conversation.get(Conversation.external_id == "t2"), "closed")

    def ids(user, **filters):
        return [c.external_id for c in conversations.listed(user, Filters(**filters))]

    assert ids(admin) == ["dm9", "s1", "t1"]
    assert ids(member, who="mine") == ["t1"] and ids(admin, who="mine") == []
    assert ids(admin, who="unassigned") == ["dm9", "s1"]
    assert ids(admin, status="closed") == ["t2"] and ids(admin, status="all") == ["dm9", "s1", "t2", "t1"]
    assert ids(admin, service="twitter") == ["dm9"]
    assert ids(admin, topic=other_topic.id) == ["dm9"]
    listed = {c.external_id: c for c in conversations.listed(member, Filters(who="mine"))}
    assert listed["t1"].unread and listed["t1"].assignee.email == member.email
    assert conversations.unread_count(admin) == 3 and conversations.unread_count(member) == 3
    conversations.mark_read(member.id, t1)
    assert conversations.unread_count(member) == 2 and conversations.unread_count(admin) == 3
    assert not conversations.listed(member, Filters(who="mine"))[0].unread
    crawl_page(stream, messages=[message(3, 50)])  # news makes it unread again
    assert conversations.unread_count(member) == 3
    # another account's user sees none of it, and cannot be assigned
    stranger = create_user(create_account("Rival"), "x@rival.test", PASSWORD)
    assert ids(stranger, status="all") == [] and conversations.get(stranger, t1.id) is None
    with pytest.raises(conversations.InboxError):
        conversations.assign(admin, t1, stranger.id)
    assert ids(admin, topic=Topic.create(account=stranger.account_id, name="Theirs").id) == []


def test_filters_from_the_url_ignore_what_they_do_not_know():
    f = Filters.from_args({"who": "everyone'; drop", "status": "bogus", "topic": "12x", "service": "twitter"})
    assert f == Filters(who="", status="open", service="twitter", topic=None)
    assert Filters(who="mine", topic=3).args(status="closed") == {"who": "mine", "status": "closed", "topic": 3}
