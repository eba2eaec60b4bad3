"""Analytics exports: a stream's or a topic's stories with their figures, and its metric
history (the daily roll-up), as CSV rows for a range of days.

Rows are read in keyset batches (:func:`csvexport.keyset_batches`) of plain tuples, not
model instances: an export of a million stories is two hundred queries of five thousand
rows each (and their figures), written and sent one batch at a time (:mod:`webapp.csvexport`).
"""
from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import NamedTuple

from peewee import Tuple

from . import csvexport
from .analytics import DateRange
from .db import database, id_list
from .feed import COUNTS, Cursor, Filters, figures_of, newest_first, stories_query
from .models import FigureDay, Story, Stream
from .streams import web_url

#: Rows per query (and per chunk sent): about a megabyte of CSV. Each batch costs a
#: figures query too, which PostgreSQL may answer by scanning the figure table rather
#: than probing it a thousand times: fewer, larger batches keep that cost small.
BATCH = 5000
STORY_COLUMNS = ("time", "stream", "service", "story_id", "author", "text", "url", "views", "engagements",
                 *COUNTS)
HISTORY_COLUMNS = ("day", "stream", "service", "figure", "value", "provider_metric", "api_version", "replaces",
                   "note")


def filename(subject: str, kind: str, days: DateRange) -> str:
    """``streamdesk-<subject>-<kind>-<from>_<to>.csv``."""
    return f"streamdesk-{csvexport.slug(subject)}-{kind}-{days.start.isoformat()}_{days.end.isoformat()}.csv"


class StoryRow(NamedTuple):
    """A story as an export reads it (the columns of :func:`story_batches`' query)."""

    id: int
    stream_id: int
    external_id: str
    created_at: datetime.datetime
    author_name: str | None
    text: str
    url: str | None
    views: int | None
    engagements: int | None


def _time(value) -> datetime.datetime:
    return value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)


def story_batches(streams: list[Stream], days: DateRange, size: int | None = None) -> Iterator[list[tuple]]:
    """The stories of ``streams`` created in ``days``, newest first, as rows of
    :data:`STORY_COLUMNS`, a batch at a time (one query for the stories and one for
    their count figures per batch)."""
    size = size or BATCH
    by_id = {s.id: s for s in streams}
    if not by_id:
        return
    columns = (Story.id, Story.stream.alias("stream_id"), Story.external_id, Story.created_at, Story.author_name,
               Story.text, Story.url, Story.views, Story.engagements)
    first = stories_query(list(by_id), Filters(since=days.start, until=days.end)).select(*columns)
    # After the first batch the cursor is the upper bound (its story is in the range):
    # with "before the end of the range" too, SQLite seeks to the range's end and walks
    # down to the cursor on every batch, which makes a long export quadratic.
    rest = stories_query(list(by_id), Filters(since=days.start)).select(*columns)

    def read(before: Cursor | None, limit: int) -> list[StoryRow]:
        # The driver's rows as they come: peewee's conversion per value cost more than
        # the query; only the time needs one (SQLite answers text).
        rows = database.execute(newest_first(first if before is None else rest, before).limit(limit)).fetchall()
        return [StoryRow(r[0], r[1], r[2], _time(r[3]), *r[4:]) for r in rows]

    for batch in csvexport.keyset_batches(read, lambda s: Cursor(s.created_at, s.id), size):
        figures = figures_of(batch)
        rows = []
        for s in batch:
            stream, counts = by_id[s.stream_id], figures.get((s.stream_id, s.external_id), {})
            rows.append((s.created_at, stream.name, stream.service, s.external_id, s.author_name, s.text,
                         web_url(s.url), s.views, s.engagements, *(counts.get(name) for name in COUNTS)))
        yield rows


def history_batches(streams: list[Stream], days: DateRange, size: int | None = None) -> Iterator[list[tuple]]:
    """The daily roll-up of ``streams`` over ``days`` as rows of :data:`HISTORY_COLUMNS`,
    each stream's figures in turn, each figure oldest day first (the order of the roll-up's
    unique index, which the keyset ``(stream, name, day) >`` the last row seeks in).
    A value the service did not provide stays empty, with its note."""
    size = size or BATCH
    by_id = {s.id: s for s in streams}
    if not by_id:
        return
    key = Tuple(FigureDay.stream, FigureDay.name, FigureDay.day)
    query = (FigureDay.select(FigureDay.stream.alias("stream_id"), FigureDay.name, FigureDay.day, FigureDay.value,
                              FigureDay.provider_metric, FigureDay.api_version, FigureDay.replaces, FigureDay.note)
             .where(FigureDay.stream.in_(id_list(list(by_id))), FigureDay.day >= days.start,
                    FigureDay.day <= days.end)
             .order_by(FigureDay.stream, FigureDay.name, FigureDay.day))

    def read(after: tuple | None, limit: int) -> list:
        page = query if after is None else query.where(key > Tuple(*after))
        return list(page.limit(limit).namedtuples())

    for batch in csvexport.keyset_batches(read, lambda d: (d.stream_id, d.name, d.day), size):
        yield [(d.day, by_id[d.stream_id].name, by_id[d.stream_id].service, d.name, d.value, d.provider_metric,
                d.api_version, d.replaces, d.note) for d in batch]
