"""Inbox: the newest crawled comments and messages of the account, escaped."""
import datetime

from conftest import login
from test_streams import add, connect

from webapp.accounts import create_account
from webapp.models import Comment, Message, Stream, Topic
from factories import new_stream

T = datetime.datetime(2026, 11, 1, 12, 0)


def test_inbox_shows_the_accounts_comments_and_messages_escaped(client, admin, account):
    stream = new_stream(Topic.create(account=account, name="Brand"), service="facebook",
                           page_id="1", name="Bluebird Coffee", authorized=True, status="active")
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=T,
                   text='<img src=x onerror="alert(1)"> Love this!', author_name="Maria")
    Message.create(stream=stream, external_id="m1", conversation_id="t1", created_at=T,
                   text="Are you open tomorrow?", sender_name="James")
    other = new_stream(Topic.create(account=create_account("Rival"), name="T"), service="facebook",
                          page_id="2", name="Theirs")
    Comment.create(stream=other, external_id="c2", story_external_id="s2", created_at=T, text="Their secret comment")
    login(client, admin.email)
    html = client.get("/inbox").get_data(as_text=True)
    assert "Maria" in html and "Love this!" in html and "Are you open tomorrow?" in html
    assert '<img src=x onerror="alert(1)">' not in html and "&lt;img src=x" in html
    assert "Their secret comment" not in html


def test_empty_inbox(client, admin):
    login(client, admin.email)
    assert "appear here once a topic has streams" in client.get("/inbox").get_data(as_text=True)


def test_messages_show_who_wrote_to_whom(client, admin, account):
    """Sent by the page: "Page → person", the person named from the conversation's other
    messages; received: "person → Page". The page's own comments are not listed."""
    stream = new_stream(Topic.create(account=account, name="Brand"), service="facebook",
                           page_id="104", name="Bluebird Coffee", authorized=True, status="active")
    at = lambda minutes: T + datetime.timedelta(minutes=minutes)  # noqa: E731
    Message.create(stream=stream, external_id="m1", conversation_id="t1", created_at=at(1),
                   text="Do you roast decaf?", sender_id="psid-9", sender_name="Jane Doe")
    Message.create(stream=stream, external_id="m2", conversation_id="t1", created_at=at(2),
                   text="We do, every Tuesday.", sender_id="104", sender_name="Bluebird Coffee")
    Message.create(stream=stream, external_id="m3", conversation_id="t2", created_at=at(3),
                   text="Your order is ready.", sender_id="104", sender_name="Bluebird Coffee")
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=at(4),
                   text="When do you open?", author_id="p7", author_name="Maria")
    Comment.create(stream=stream, external_id="c2", story_external_id="s1", parent_external_id="c1",
                   created_at=at(5), text="At eight, Maria!", author_id="104", author_name="Bluebird Coffee")
    login(client, admin.email)
    html = client.get("/inbox").get_data(as_text=True)
    assert "Jane Doe → Bluebird Coffee" in html and "Bluebird Coffee → Jane Doe" in html
    assert "Bluebird Coffee → someone not yet known" in html  # nobody has answered in t2 yet
    assert "When do you open?" in html and "At eight, Maria!" not in html


def test_crawled_facebook_inbox_reads_sender_to_recipient(admin_client, emulator, account, environ):
    """Over real HTTP: Bluebird Coffee's crawled Messenger threads and comments."""
    from webapp.config import load_settings
    from webapp.crawl import crawl
    from webapp.plugins import Plugins
    from webapp.streams import Runtime

    topic = Topic.create(account=account, name="Brand")
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", "104729384756102")
    stream = Stream.get()
    assert crawl(Runtime(load_settings(environ), Plugins()), stream) == "active"
    sent = Message.select().where(Message.sender_id == stream.page_id)
    received = Message.select().where(Message.sender_id != stream.page_id)
    assert sent.count() and received.count()
    html = admin_client.get("/inbox").get_data(as_text=True)
    assert "Bluebird Coffee → Bluebird Coffee" not in html
    assert any(f"{m.sender_name} → Bluebird Coffee" in html for m in received)
    assert any(f"Bluebird Coffee → {m.sender_name}" in html for m in received)
    newest = Comment.select().order_by(Comment.created_at.desc()).limit(50)
    assert any(c.author_id == stream.page_id for c in newest)  # the page answers comments in the seed…
    assert "<strong>Bluebird Coffee</strong>" not in html.split('id="messages-title"')[0]  # …not listed as outsiders


def test_newest_comments_and_messages_across_busy_and_quiet_streams(db, account):
    """The newest 50 are read through each stream's own newest rows (see newest_floor):
    the same rows as a full sort, whichever stream is busy, page replies left out."""
    from webapp import inbox

    topic = Topic.create(account=account, name="Brand")
    busy = new_stream(topic, service="facebook", page_id="1", name="Busy", status="active")
    quiet = new_stream(topic, service="facebook", page_id="2", name="Quiet", status="active")
    late = new_stream(topic, service="facebook", page_id="3", name="Late", status="active")
    at = lambda minutes: T + datetime.timedelta(minutes=minutes)  # noqa: E731
    for n in range(120):  # busy: one every minute, every third by the page itself
        Comment.create(stream=busy, external_id=f"b{n}", story_external_id="s", created_at=at(n),
                       text="hi", author_id="1" if n % 3 == 0 else f"fan{n}")
        Message.create(stream=busy, external_id=f"bm{n}", conversation_id="t", created_at=at(n), text="hi")
    for n in range(3):  # quiet: old ones only
        Comment.create(stream=quiet, external_id=f"q{n}", story_external_id="s", created_at=at(-1000 + n), text="hi")
        Message.create(stream=quiet, external_id=f"qm{n}", conversation_id="t", created_at=at(-1000 + n), text="hi")
    for n in range(30):  # late: newer than the busy stream's, between them
        Comment.create(stream=late, external_id=f"l{n}", story_external_id="s", created_at=at(100.5 + 2 * n),
                       text="hi", author_id=None)
        Message.create(stream=late, external_id=f"lm{n}", conversation_id="t", created_at=at(100.5 + 2 * n), text="hi")
    streams = {s.id: s for s in (busy, quiet, late)}
    expected = [c.external_id for c in sorted(
        (c for c in Comment.select() if c.author_id != streams[c.stream_id].page_id),
        key=lambda c: c.created_at, reverse=True)][:50]
    assert [c.external_id for c in inbox.outsiders_comments(streams, 50)] == expected
    assert [c.external_id for c in inbox.outsiders_comments(streams, 500)] == [c.external_id for c in sorted(
        (c for c in Comment.select() if c.author_id != streams[c.stream_id].page_id),
        key=lambda c: c.created_at, reverse=True)]
    newest = sorted(Message.select(), key=lambda m: (m.created_at, m.id), reverse=True)
    got = [line.message.external_id for line in inbox.message_lines(streams, 50)]
    assert sorted(got) == sorted(m.external_id for m in newest[:50])
    assert len(inbox.message_lines(streams, 500)) == 153


def test_the_newest_comments_of_many_streams_are_merged_in_time_order(account, monkeypatch):
    """Each stream's newest rows come from its own index range; merged, they are the
    account's newest, the pages' own comments left out — across several compound
    queries too."""
    from webapp import inbox

    monkeypatch.setattr(inbox, "STREAMS_PER_QUERY", 2)  # five streams: three queries
    topic = Topic.create(account=account, name="Brand")
    streams = {}
    for n in range(5):
        stream = new_stream(topic, service="facebook", page_id=f"page{n}", name=f"P{n}")
        streams[stream.id] = stream
        for minute in range(n, 40, 5):  # the streams' comments interleave in time
            Comment.create(stream=stream, external_id=f"c{n}-{minute}", story_external_id="s",
                           created_at=T + datetime.timedelta(minutes=minute), author_id=f"fan{n}")
        Comment.create(stream=stream, external_id=f"own{n}", story_external_id="s",
                       created_at=T + datetime.timedelta(hours=1), author_id=f"page{n}")  # the page answering
    newest = inbox.outsiders_comments(streams, 7)
    assert [c.created_at for c in newest] == [T + datetime.timedelta(minutes=m) for m in range(39, 32, -1)]
    assert not any(c.external_id.startswith("own") for c in newest)
    assert inbox.outsiders_comments({}, 7) == []


def test_one_stream_holding_the_newest_comments_of_many_gives_them_all(account):
    """PostgreSQL reads a few of each stream's newest first and goes back for more only
    to the streams whose few all made the page: such a stream's rows are all there."""
    from webapp import inbox

    topic = Topic.create(account=account, name="Brand")
    streams = {}
    for n in range(30):
        stream = new_stream(topic, service="facebook", page_id=f"page{n}", name=f"P{n}")
        streams[stream.id] = stream
        Comment.create(stream=stream, external_id=f"old{n}", story_external_id="s",
                       created_at=T + datetime.timedelta(minutes=n), author_id="fan")
    loud = next(iter(streams.values()))
    for minute in range(20):  # the newest twenty, all of one stream
        Comment.create(stream=loud, external_id=f"loud{minute}", story_external_id="s",
                       created_at=T + datetime.timedelta(hours=1, minutes=minute), author_id="fan")
    expected = [c.external_id for c in sorted(Comment.select(), key=lambda c: c.created_at, reverse=True)]
    for limit in (1, 10, 25, 60):
        assert [c.external_id for c in inbox.outsiders_comments(streams, limit)] == expected[:limit], limit
