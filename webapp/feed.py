"""A topic's feed: the stories of all its streams, newest first, filtered and paged.

Paging is by keyset, never OFFSET: a page ends at a story, and the next page asks for
the stories "before" it, ``(created_at, id)`` strictly smaller. That reads the index on
``story (created_at, id)`` from where the last page stopped, so page 1,000 costs what
page 1 costs, and a story crawled meanwhile never shifts a page.

A page costs a fixed number of queries, however many stories it shows: the topic's
streams, the stories, their figures and the streams' gaps (:func:`feed_page`).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

from peewee import SQL, Select, Value, fn

from .db import database, id_list
from .models import Comment, Figure, Story, Stream, StreamGap, TopicStream
from .prepared import Prepared, PreparedShapes, ids_slot, slot, values_slot
from .search import RANKED, RankCursor, matching_comments, matching_stories, window_full
from .streams import in_topic

#: Stories per page.
PAGE_SIZE = 25
#: Post figures shown on a story when the plugin stored them, in this order: counts of
#: what people did with it. Others (impressions, reach, …) are on the Metrics page.
COUNTS = ("comments", "replies", "reactions", "likes", "shares", "reposts", "quotes")
CONNECTIONS = ("authorized", "unauthorized")
#: The query-string arguments that narrow the feed to some of its streams or stories
#: (a search does not: the notice counts the newest stories, unranked).
NARROWING = ("stream", "service", "connection", "from", "to", "unanswered")


class FeedError(ValueError):
    """A filter value cannot be used; the message says which and why."""


def parse_more(value: str) -> RankCursor:
    """The "more results" position of a search page; FeedError when it is not one."""
    try:
        return RankCursor.parse(value)
    except ValueError:
        raise FeedError(f"The “more results” position “{value[:60]}” is not one this page gave; "
                        "search again.") from None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last story's time and id."""

    created_at: datetime.datetime
    id: int

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()},{self.id}"

    @classmethod
    def parse(cls, value: str, what: str) -> "Cursor":
        """``<ISO time>,<id>`` as written by :meth:`__str__`; FeedError otherwise."""
        stamp, _, ident = (value or "").partition(",")
        try:
            created_at = datetime.datetime.fromisoformat(stamp)
            number = int(ident)
        except ValueError:
            raise FeedError(f"The “{what}” position “{value[:60]}” is not one this page gave; "
                            "start again from the newest stories.") from None
        if created_at.tzinfo is not None or not 0 < number < 2**63:
            raise FeedError(f"The “{what}” position “{value[:60]}” is not one this page gave.")
        return cls(created_at, number)


@dataclass
class Filters:
    """What the feed's form asks for; every field optional. Built by :func:`parse_filters`."""

    stream: int | None = None
    service: str | None = None
    connection: str | None = None
    since: datetime.date | None = None
    until: datetime.date | None = None
    unanswered: bool = False
    q: str = ""

    def args(self) -> dict:
        """The filters as query-string arguments (for the Older and New links)."""
        out = {"stream": self.stream, "service": self.service, "connection": self.connection,
               "from": self.since and self.since.isoformat(), "to": self.until and self.until.isoformat(),
               "unanswered": "1" if self.unanswered else None, "q": self.q or None}
        return {k: v for k, v in out.items() if v is not None}

    @property
    def active(self) -> bool:
        return bool(self.args())


def _date(value: str, label: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise FeedError(f"“{value[:40]}” is not a date for “{label}”: use YYYY-MM-DD.") from None


def parse_filters(args, streams: list[Stream], services: set[str]) -> Filters:
    """The feed's filters from query-string ``args``; FeedError names a bad value.

    ``streams`` are the topic's streams and ``services`` the loaded ones: a stream id of
    another topic or account is refused like any other unknown value.
    """
    f = Filters()
    stream = (args.get("stream") or "").strip()
    if stream:
        ids = {str(s.id): s.id for s in streams}
        if stream not in ids:
            raise FeedError("That stream is not in this topic: choose one from the list.")
        f.stream = ids[stream]
    service = (args.get("service") or "").strip()
    if service:
        if service not in services:
            raise FeedError(f"There is no service called “{service[:40]}”.")
        f.service = service
    connection = (args.get("connection") or "").strip()
    if connection:
        if connection not in CONNECTIONS:
            raise FeedError("Choose authorized or unauthorized streams (or both).")
        f.connection = connection
    f.since, f.until = _date(args.get("from", "").strip(), "From"), _date(args.get("to", "").strip(), "To")
    if f.since and f.until and f.since > f.until:
        raise FeedError("“From” is after “To”: swap the dates.")
    f.unanswered = args.get("unanswered") in ("1", "on", "true")
    f.q = " ".join((args.get("q") or "").split())
    if len(f.q) > 200:
        raise FeedError(f"A search can be at most 200 characters long (this one has {len(f.q)}).")
    return f


#: The stream columns the feed and its poll read: a topic can hold hundreds of streams,
#: and building each whole row (tokens decrypted, crawl state) costs more than the page.
FEED_STREAM_COLUMNS = (Stream.id, Stream.account, Stream.service, Stream.page_id, Stream.name, Stream.authorized,
                       Stream.status)


_FEED_STREAMS = Prepared(lambda: in_topic(slot("topic_id")).select(*FEED_STREAM_COLUMNS)
                         .order_by(Stream.service, Stream.name))


def feed_streams(topic) -> list[Stream]:
    """The topic's streams as the feed shows them (:data:`FEED_STREAM_COLUMNS` only),
    ordered like the Topics page."""
    return list(_FEED_STREAMS.rows(topic_id=topic.id))


def poll_streams(topic) -> list:
    """The topic's streams as the new-stories poll needs them: id, service and
    connection as plain rows (it runs every few seconds in every open feed)."""
    return list(in_topic(topic).select(Stream.id, Stream.service, Stream.authorized).namedtuples())


def chosen_streams(streams: list[Stream], f: Filters) -> list[Stream]:
    """The topic's streams that the stream, service and connection filters keep."""
    return [s for s in streams
            if (f.stream is None or s.id == f.stream) and (f.service is None or s.service == f.service)
            and (f.connection is None or s.authorized == (f.connection == "authorized"))]


def unanswered_comment():
    """The condition "this story has a comment from someone other than its page that the
    page has not replied to": a comment whose author is not the stream's page, with no
    comment *by the page* whose parent is that comment. A page's reply anywhere else (a
    new top-level comment) does not count as an answer: it answers nobody in particular."""
    Reply = Comment.alias("reply")
    answered = (Reply.select(Reply.id)
                .where(Reply.stream == Comment.stream, Reply.parent_external_id == Comment.external_id,
                       Reply.author_id == Stream.page_id))
    others = (Comment.select(Comment.id)
              .where(Comment.stream == Story.stream, Comment.story_external_id == Story.external_id,
                     Comment.author_id.is_null() | (Comment.author_id != Stream.page_id),
                     ~fn.EXISTS(answered)))
    return fn.EXISTS(others)


def stories_query(stream_ids: list[int], f: Filters):
    """The stories of ``stream_ids`` that ``f`` keeps, newest first (not yet paged)."""
    return _stories(id_list(stream_ids), *_time_bounds(f), f.unanswered)


def _time_bounds(f: Filters) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The feed's dates as times: from the start of ``since`` to before the day after ``until``."""
    since = datetime.datetime.combine(f.since, datetime.time()) if f.since else None
    until = datetime.datetime.combine(f.until + datetime.timedelta(days=1), datetime.time()) if f.until else None
    return since, until


def _stories(streams, since, until, unanswered: bool):
    """:func:`stories_query` of ``streams`` (an SQL list of stream ids), with its time
    bounds and its unanswered filter given as values or as prepared slots."""
    query = Story.select(Story).where(Story.stream.in_(streams))
    if since is not None:
        query = query.where(Story.created_at >= since)
    if until is not None:
        query = query.where(Story.created_at < until)
    if unanswered:  # the page's id decides who answered: join its stream
        query = query.join(Stream, on=(Story.stream == Stream.id)).where(unanswered_comment())
    return query


def newest_first(query, before: Cursor | None = None, after: Cursor | None = None):
    """``query`` ordered newest first, keyset-bounded by ``before`` / ``after``."""
    # The first condition alone bounds the index range (both databases seek to it); the
    # OR-form "(a < x) OR (a = x AND id < y)" alone would make SQLite walk the index
    # from the newest story down, reading every row it skips.
    if before is not None:
        query = query.where(Story.created_at <= before.created_at,
                            (Story.created_at < before.created_at) | (Story.id < before.id))
    if after is not None:
        query = query.where(Story.created_at >= after.created_at,
                            (Story.created_at > after.created_at) | (Story.id > after.id))
    return query.order_by(Story.created_at.desc(), Story.id.desc())


def _page_of_stories(since: bool, until: bool, unanswered: bool, before: bool):
    """The feed page's story query of one shape, with slots for its values."""
    return newest_first(_stories(ids_slot("streams"), slot("since") if since else None,
                                 slot("until") if until else None, unanswered),
                        Cursor(slot("before_at"), slot("before_id")) if before else None).limit(slot("limit"))


#: A feed page's stories, by shape (which filters it has): building the SQL of a
#: filtered page took longer than running it (1 ms of 1.5 at 1,000,000 stories).
_PAGES_OF_STORIES = PreparedShapes(_page_of_stories)


def page_of_stories(stream_ids: list[int], f: Filters, before: Cursor | None, limit: int) -> list[Story]:
    """At most ``limit`` stories of ``stream_ids`` that ``f`` keeps (without its search),
    newest first, older than ``before``: :func:`newest_first` of :func:`stories_query`."""
    since, until = _time_bounds(f)
    prepared = _PAGES_OF_STORIES.of(since=since is not None, until=until is not None, unanswered=f.unanswered,
                                    before=before is not None)
    return list(prepared.rows(streams=stream_ids, since=since, until=until, limit=limit,
                              before_at=before and before.created_at, before_id=before and before.id))


@dataclass
class FeedPage:
    """One page of a feed: its rows (stories and gaps, in order) and where it ends."""

    rows: list = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    older: Cursor | None = None
    newest: Cursor | None = None
    #: With a search: where the next page of results starts, if there is one.
    more: RankCursor | None = None
    figures: dict = field(default_factory=dict)
    #: With a search: per story id, the comments that match (why a story was found).
    comment_hits: dict = field(default_factory=dict)
    #: With a search whose matches are more than it ranks: how many it ranks (else 0).
    ranked_at_most: int = 0


@dataclass(frozen=True)
class GapRow:
    """A period a stream of the feed has no data for, shown where it lies in time."""

    gap: StreamGap
    stream: Stream


#: The count figures of a page's stories (their streams' ids and their provider ids).
_FIGURES = Prepared(lambda: Figure.select(Figure.stream, Figure.object_id, Figure.name, Figure.value)
                    .where(Figure.level == "post", Figure.stream.in_(ids_slot("streams")),
                           Figure.object_id.in_(values_slot("objects")), Figure.name.in_(COUNTS),
                           Figure.value.is_null(False)).tuples())


def figures_of(stories: list[Story]) -> dict[tuple[int, str], dict[str, int]]:
    """The count figures (:data:`COUNTS`) the plugins stored for ``stories``, by
    ``(stream id, story external id)``; a figure without a value is left out."""
    if not stories:
        return {}
    out: dict[tuple[int, str], dict[str, int]] = {}
    rows = _FIGURES.rows(streams=list({s.stream_id for s in stories}), objects={s.external_id for s in stories})
    for stream_id, object_id, name, value in rows:
        out.setdefault((stream_id, object_id), {})[name] = value
    for counts in out.values():  # in COUNTS order
        ordered = {name: counts[name] for name in COUNTS if name in counts}
        counts.clear()
        counts.update(ordered)
    return out


def feed_page(streams: list[Stream], f: Filters, before: Cursor | None = None, size: int = PAGE_SIZE,
              more: RankCursor | None = None) -> FeedPage:
    """A page of the feed of ``streams`` (a topic's): at most ``size`` stories older
    than ``before`` (with a search: ranked after ``more``), with the gaps that fall
    between them and their count figures."""
    chosen = chosen_streams(streams, f)
    page = FeedPage()
    if not chosen:
        return page
    ids = [s.id for s in chosen]
    if f.q:
        # Ranked: the best matches first, a page at a time (see webapp/search.py).
        page.stories = list(matching_stories(stories_query(ids, f), f.q, size + 1, after=more))
        if len(page.stories) > size:
            page.stories = page.stories[:size]
            last = page.stories[-1]
            page.more = RankCursor(last.search_score, last.created_at, last.id)
        page.comment_hits = matching_comments(page.stories, f.q)
        # Asked on a first page that is full only (or holds the whole window): only then
        # can the window be full.
        if more is None and (page.more is not None or len(page.stories) >= RANKED) \
                and window_full(stories_query(ids, f), f.q):
            page.ranked_at_most = RANKED
    else:
        page.stories = page_of_stories(ids, _implied_end(f, before), before, size + 1)
        if len(page.stories) > size:
            page.stories = page.stories[:size]
            last = page.stories[-1]
            page.older = Cursor(last.created_at, last.id)
    by_id = {s.id: s for s in chosen}
    for story in page.stories:
        story.stream = by_id[story.stream_id]
    page.figures = figures_of(page.stories)
    if page.stories and not f.q:
        first = page.stories[0]
        page.newest = Cursor(first.created_at, first.id)
    page.rows = _with_gaps(page, chosen, before, f)
    return page


def _implied_end(f: Filters, before: Cursor | None) -> Filters:
    """``f`` without its "to" date when the page's cursor lies before that date's end
    anyway. Two upper bounds on the time make SQLite seek to the range's end and walk
    down to the cursor, so a page deep in a dated feed read every story above it
    (75 ms instead of 7.5 ms 300,000 stories down, at 1,000,000)."""
    if before is not None and f.until is not None and \
            before.created_at < datetime.datetime.combine(f.until + datetime.timedelta(days=1), datetime.time()):
        return replace(f, until=None)
    return f


def _gaps(upper: bool, lower: bool, since: bool, until: bool):
    """The gaps of a feed page's streams of one shape (which bounds it has), newest first."""
    query = StreamGap.select().where(StreamGap.stream.in_(ids_slot("streams")))
    if upper:
        query = query.where(StreamGap.ends_at <= slot("upper"))
    if lower:
        query = query.where(StreamGap.ends_at > slot("lower"))
    if since:
        query = query.where(StreamGap.ends_at >= slot("since"))
    if until:
        query = query.where(StreamGap.starts_at < slot("until"))
    return query.order_by(StreamGap.ends_at.desc())


_GAPS = PreparedShapes(_gaps)


def _with_gaps(page: FeedPage, streams: list[Stream], before: Cursor | None, f: Filters) -> list:
    """The page's stories with a :class:`GapRow` placed where each gap of its streams
    ends (newest first): a gap shows on the page whose time range it overlaps."""
    if f.q:
        return list(page.stories)
    upper = before.created_at if before else None
    lower = page.stories[-1].created_at if page.older else None
    since, until = _time_bounds(f)
    query = _GAPS.of(upper=upper is not None, lower=lower is not None, since=since is not None,
                     until=until is not None)
    found = query.rows(streams=[s.id for s in streams], upper=upper, lower=lower, since=since, until=until)
    by_id = {s.id: s for s in streams}
    gaps = [GapRow(gap, by_id[gap.stream_id]) for gap in found]
    rows, g = [], 0
    for story in page.stories:
        while g < len(gaps) and gaps[g].gap.ends_at > story.created_at:
            rows.append(gaps[g])
            g += 1
        rows.append(story)
    rows.extend(gaps[g:])
    return rows


def new_since(streams: list[Stream], f: Filters, after: Cursor, limit: int = 100) -> list[Story]:
    """Stories newer than ``after`` that ``f`` keeps (for the "N new stories" notice)."""
    chosen = chosen_streams(streams, f)
    if not chosen:
        return []
    by_id = {s.id: s for s in chosen}
    stories = list(newest_first(stories_query(list(by_id), f), after=after).limit(limit))
    for story in stories:
        story.stream = by_id[story.stream_id]
    return stories


def _new_in_topic():
    newer = (Story.select(Value(1))
             .where(Story.stream.in_(TopicStream.select(TopicStream.stream)
                                     .where(TopicStream.topic == slot("topic_id"))),
                    Story.created_at >= slot("at"),
                    (Story.created_at > slot("at")) | (Story.id > slot("id")))
             .limit(slot("limit")))
    # Bound: a bare Select would write its SQL in the default dialect (``?`` marks).
    return Select([newer.alias("newer")], [fn.COUNT(SQL("*"))]).bind(database)


#: The unfiltered poll's count, built once: it runs every few seconds in every open feed.
_NEW_IN_TOPIC = Prepared(_new_in_topic)


def count_new_in_topic(topic_id: int, after: Cursor, limit: int = 100) -> int:
    """How many stories of the topic's streams are newer than ``after`` (at most
    ``limit``), for a feed without filters: one query, no stream rows read."""
    return _NEW_IN_TOPIC.scalar(topic_id=topic_id, at=after.created_at, id=after.id, limit=limit) or 0


def count_new(streams: list[Stream], f: Filters, after: Cursor, limit: int = 100) -> int:
    """How many stories are newer than ``after`` (at most ``limit``: the poll stays cheap)."""
    chosen = chosen_streams(streams, f)
    if not chosen:
        return 0
    inner = newest_first(stories_query([s.id for s in chosen], f), after=after).limit(limit)
    return inner.count()
