"""Topics: named groups of streams, owned by an account. Views and jobs call these."""
from __future__ import annotations

from dataclasses import dataclass

from peewee import IntegrityError, fn

from .config import MIN_CRAWL_INTERVAL, ConfigError, crawl_interval
from .db import database
from .models import Account, Stream, Topic, TopicStream
from .prepared import Prepared, slot
from .streams import remove_unheld

MAX_NAME = 80


class TopicError(ValueError):
    """A topic request cannot be done; the message says why."""


def check_name(account: Account, name: str, exclude: Topic | None = None) -> str:
    """The cleaned topic name, or TopicError (empty, too long, taken in this account)."""
    name = " ".join((name or "").split())
    if not name:
        raise TopicError("Enter a topic name.")
    if len(name) > MAX_NAME:
        raise TopicError(f"A topic name can be at most {MAX_NAME} characters long (this one has {len(name)}).")
    taken = Topic.select().where(Topic.account == account, fn.LOWER(Topic.name) == name.lower())
    if exclude is not None:
        taken = taken.where(Topic.id != exclude.id)
    if taken.exists():
        raise TopicError(f"A topic named “{name}” already exists.")
    return name


def topics_of(account: Account | int) -> list[Topic]:
    """The account's topics by name (every topic page and the Inbox list them)."""
    return list(_TOPICS.rows(account_id=account if isinstance(account, int) else account.id))


_TOPICS = Prepared(lambda: Topic.select().where(Topic.account == slot("account_id")).order_by(fn.LOWER(Topic.name)))


#: Every page of a topic (its feed polls every few seconds) starts with this lookup.
_TOPIC = Prepared(lambda: Topic.select().where((Topic.id == slot("topic_id")) & (Topic.account == slot("account_id"))))


def get_topic(account: Account, topic_id) -> Topic:
    """A topic of ``account``; TopicError for ids of other accounts or unknown ids."""
    if isinstance(topic_id, int) and 0 < topic_id < 2**63:  # a route's id: the prepared SQL takes it as is
        topic = _TOPIC.first(topic_id=topic_id, account_id=account.id if isinstance(account, Account) else account)
    else:
        topic = Topic.get_or_none((Topic.id == topic_id) & (Topic.account == account))
    if topic is None:
        raise TopicError("There is no such topic in your account.")
    return topic


def create_topic(account: Account, name: str) -> Topic:
    name = " ".join((name or "").split())
    try:
        with database.atomic():
            return Topic.create(account=account, name=check_name(account, name))
    except IntegrityError:  # created by a concurrent request a moment ago
        raise TopicError(f"A topic named “{name}” already exists.") from None


def rename_topic(account: Account, topic_id, name: str) -> Topic:
    with database.atomic():
        topic = get_topic(account, topic_id)
        topic.name = check_name(account, name, exclude=topic)
        topic.save()
    return topic


def set_crawl_interval(account: Account, topic_id, value: str) -> Topic:
    """Give a topic a crawl interval of its own (seconds; empty: the installation's
    CRAWL_INTERVAL again)."""
    try:
        seconds = crawl_interval(value, default=0) or None
    except ConfigError:
        raise TopicError(f"Enter a whole number of seconds, at least {MIN_CRAWL_INTERVAL}, or leave it empty "
                         "for the default.") from None
    with database.atomic():
        topic = get_topic(account, topic_id)
        topic.crawl_interval = seconds
        topic.save()
    return topic


@dataclass(frozen=True)
class TopicSize:
    """What deleting a topic takes with it."""

    streams: int
    stories: int

    def describe(self) -> str:
        def plural(n, word):
            return f"{n:,} {word}{'' if n == 1 else 's'}"

        return f"{plural(self.streams, 'stream')} and {plural(self.stories, 'story').replace('storys', 'stories')}"


def topic_size(topic: Topic) -> TopicSize:
    """What one topic holds (the delete confirmation says it)."""
    return sizes_of(Topic.select(Topic.id).where(Topic.id == topic.id)).get(topic.id, TopicSize(0, 0))


def sizes_of(topics) -> dict[int, TopicSize]:
    """Streams and stories per topic of the ``topics`` query, in one grouped query that
    reads the streams' kept story counts (never counts stories)."""
    rows = (TopicStream.select(TopicStream.topic, fn.COUNT(Stream.id), fn.SUM(Stream.story_count))
            .join(Stream).where(TopicStream.topic.in_(topics)).group_by(TopicStream.topic).tuples())
    return {topic_id: TopicSize(count, int(stories or 0)) for topic_id, count, stories in rows}


def streams_only_in(topic: Topic) -> list[Stream]:
    """The streams of ``topic`` that no other topic holds: those deleting it removes."""
    elsewhere = TopicStream.select(TopicStream.stream).where(TopicStream.topic != topic)
    return list(Stream.select().join(TopicStream, on=(TopicStream.stream == Stream.id))
                .where((TopicStream.topic == topic) & Stream.id.not_in(elsewhere)))


def delete_topic(account: Account, topic_id) -> tuple[str, TopicSize]:
    """Delete a topic, and the streams no other topic holds with what they crawled;
    returns its name and size."""
    with database.atomic():
        topic = get_topic(account, topic_id)
        size = topic_size(topic)
        name = topic.name
        held = [stream_id for (stream_id,) in
                TopicStream.select(TopicStream.stream).where(TopicStream.topic == topic).tuples()]
        # Its holds go by ON DELETE CASCADE; then the streams no other topic holds.
        Topic.delete().where(Topic.id == topic.id).execute()
        remove_unheld(held)
    return name, size
