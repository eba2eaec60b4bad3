"""Metric history: what a metrics refresh keeps besides the latest figures.

At each refresh of a stream (:func:`record`, inside the refresh's transaction):

* a :class:`~webapp.models.FigureSnapshot` for each figure whose value changed since
  the stored one (a quiet page adds no rows);
* each refreshed story's ``views`` and ``engagements`` copied onto its row, so top
  posts rank from one table;
* the daily roll-up :class:`~webapp.models.FigureDay` that dashboards read: the
  provider's daily figures at their day, stock figures (followers) at today's UTC day,
  and the figures Streamdesk derives from what it crawled (:data:`DERIVED`) for every
  day from the oldest refreshed story's day to today.

:func:`history_since` tells the plugin how far back to read daily figures, and
:func:`prune_snapshots` (a cron job) drops snapshots older than :data:`SNAPSHOT_DAYS`.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from peewee import Case, fn

from streamdesk_contract.values import Figure as Reading

from .db import database, upsert
from .jobs import with_database
from .models import Comment, Figure, FigureDay, FigureSnapshot, Story, Stream, utcnow

#: Snapshots older than this many days are pruned (the daily roll-up keeps the history).
SNAPSHOT_DAYS = 90
#: Daily figures read on a stream's first refresh (Graph's most per call).
BACKFILL_DAYS = 90
#: Later refreshes read again from this many days before the last stored day: a
#: provider may still correct the latest days.
OVERLAP_DAYS = 2
#: Page figures that are stocks (a level, not a day's amount): kept per day as the last
#: value read that UTC day.
STOCK = ("followers",)
#: Post figures that add up to a story's engagements, across services (Facebook:
#: reactions, comments, shares; X: likes, replies, reposts, quotes).
ENGAGEMENT = ("reactions", "likes", "comments", "replies", "shares", "reposts", "quotes")
#: The post figure copied to ``Story.views``.
VIEWS = "impressions"
#: Day figures Streamdesk counts itself from the stories and comments it stored.
DERIVED = ("posts_published", "comments_received", "post_engagements", "post_views")
COUNTED = "Counted by Streamdesk from the stories and comments it stored (UTC days)."
NO_VIEWS = "No story published that day has views."
NO_ENGAGEMENTS = "No story published that day has engagement counts."
#: Snapshot rows removed per statement when pruning, so no delete holds locks for long.
PRUNE_BATCH = 5000


def history_since(stream: Stream, today: datetime.date | None = None) -> datetime.date:
    """The first day whose daily figures the next refresh of ``stream`` asks for:
    :data:`BACKFILL_DAYS` back when nothing is stored yet, else the last stored
    provider day minus :data:`OVERLAP_DAYS` (never further back than the backfill).
    Stock figures (:data:`STOCK`) do not count: they are stored at today's UTC day,
    which would leave the provider's latest days no overlap at all."""
    today = today or utcnow().date()
    last = (FigureDay.select(fn.MAX(FigureDay.day))
            .where(FigureDay.stream == stream, FigureDay.provider_metric.is_null(False),
                   FigureDay.name.not_in(STOCK)).scalar())
    earliest = today - datetime.timedelta(days=BACKFILL_DAYS)
    if last is None:
        return earliest
    return max(earliest, _as_date(last) - datetime.timedelta(days=OVERLAP_DAYS))


def record(stream: Stream, figures: Iterable[Reading], oldest_story: datetime.datetime | None,
           now: datetime.datetime) -> None:
    """Store one refresh's ``figures`` of ``stream``: latest figures, snapshots of the
    changed ones, story views and engagements, and the daily roll-up from the day of
    ``oldest_story`` (the oldest story refreshed; None: no stories) to today. Call it
    inside a transaction."""
    readings = [f for f in figures if f.day is None]
    daily = [f for f in figures if f.day is not None]
    _latest(stream, readings, now)
    _stories(stream, readings)
    today = now.date()
    rows = [_day_row(stream, f, f.day, now) for f in daily]
    rows += [_day_row(stream, f, today, now) for f in readings if f.level == "page" and f.name in STOCK]
    if oldest_story is not None:
        rows += derived_days(stream, oldest_story.date(), today, now)
    upsert(FigureDay, ("stream_id", "name", "day"), rows,
           ("value", "provider_metric", "api_version", "replaces", "note", "updated_at"))


def _latest(stream: Stream, readings: list[Reading], now: datetime.datetime) -> None:
    """Upsert the latest figures, and snapshot those whose value differs from what the
    figure table held (one query for all the previous values)."""
    before = {(level, object_id, name): value for level, object_id, name, value in
              Figure.select(Figure.level, Figure.object_id, Figure.name, Figure.value)
              .where(Figure.stream == stream).tuples()}
    upsert(Figure, ("stream_id", "level", "object_id", "name"),
           [dict(stream=stream.id, level=f.level, object_id=f.object_id, name=f.name, value=f.value,
                 provider_metric=f.provider_metric, note=f.note, updated_at=now, api_version=f.api_version,
                 replaces=f.replaces) for f in readings],
           ("value", "provider_metric", "note", "updated_at", "api_version", "replaces"))
    changed = {}
    for f in readings:
        key = (f.level, f.object_id, f.name)
        # A figure seen for the first time is a change only when it has a value: a
        # "not provided" figure has no history to keep.
        if (before[key] != f.value) if key in before else f.value is not None:
            changed[key] = dict(stream=stream.id, level=f.level, object_id=f.object_id, name=f.name,
                                value=f.value, provider_metric=f.provider_metric, api_version=f.api_version,
                                taken_at=now)
    rows = list(changed.values())
    for start in range(0, len(rows), 500):
        FigureSnapshot.insert_many(rows[start:start + 500]).execute()


def story_figures(readings: Iterable[Reading]) -> dict[str, tuple[int | None, int | None]]:
    """Per story id, its (views, engagements) from its post figures: engagements add up
    the :data:`ENGAGEMENT` figures present (None when none has a value)."""
    out: dict[str, list] = {}
    for f in readings:
        if f.level != "post" or (f.name != VIEWS and f.name not in ENGAGEMENT):
            continue
        pair = out.setdefault(f.object_id, [None, None])
        if f.value is None:
            continue
        if f.name == VIEWS:
            pair[0] = f.value
        else:
            pair[1] = (pair[1] or 0) + f.value
    return {story_id: (views, engagements) for story_id, (views, engagements) in out.items()}


def _stories(stream: Stream, readings: list[Reading], batch: int = 200) -> None:
    """Copy views and engagements onto the stories: one UPDATE per ``batch`` stories."""
    pairs = list(story_figures(readings).items())
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        ids = [story_id for story_id, _ in chunk]
        (Story.update(views=Case(Story.external_id, [(sid, views) for sid, (views, _) in chunk], Story.views),
                      engagements=Case(Story.external_id, [(sid, e) for sid, (_, e) in chunk], Story.engagements))
         .where(Story.stream == stream, Story.external_id.in_(ids)).execute())


def _day_row(stream: Stream, f: Reading, day: datetime.date, now: datetime.datetime) -> dict:
    return dict(stream=stream.id, name=f.name, day=day, value=f.value, provider_metric=f.provider_metric,
                api_version=f.api_version, replaces=f.replaces, note=f.note, updated_at=now)


def derived_days(stream: Stream, first: datetime.date, last: datetime.date, now: datetime.datetime) -> list[dict]:
    """The :data:`DERIVED` figures of ``stream`` for every UTC day from ``first`` to
    ``last``, as FigureDay rows: one GROUP BY query over stories, one over comments."""
    start = datetime.datetime.combine(first, datetime.time())
    story_day = fn.DATE(Story.created_at)
    stories = {_as_date(day): (count, engagements, views) for day, count, engagements, views in
               Story.select(story_day, fn.COUNT(Story.id), fn.SUM(Story.engagements), fn.SUM(Story.views))
               .where(Story.stream == stream, Story.created_at >= start).group_by(story_day).tuples()}
    comment_day = fn.DATE(Comment.created_at)
    comments = {_as_date(day): count for day, count in
                Comment.select(comment_day, fn.COUNT(Comment.id))
                .where(Comment.stream == stream, Comment.created_at >= start).group_by(comment_day).tuples()}
    rows = []
    for n in range((last - first).days + 1):
        day = first + datetime.timedelta(days=n)
        count, engagements, views = stories.get(day, (0, None, None))
        values = {"posts_published": (count, COUNTED), "comments_received": (comments.get(day, 0), COUNTED),
                  "post_engagements": (engagements, COUNTED if engagements is not None else NO_ENGAGEMENTS),
                  "post_views": (views, COUNTED if views is not None else NO_VIEWS)}
        rows += [dict(stream=stream.id, name=name, day=day, value=None if value is None else int(value),
                      provider_metric=None, api_version=None, replaces=None, note=note, updated_at=now)
                 for name, (value, note) in values.items()]
    return rows


def _as_date(value) -> datetime.date:
    """A day as the database hands it back: SQLite's ``DATE()`` gives text."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


@with_database
def prune_snapshots(days: int = SNAPSHOT_DAYS, batch: int = PRUNE_BATCH) -> int:
    """Cron: remove snapshots taken more than ``days`` days ago, ``batch`` rows per
    statement; returns how many were removed."""
    return prune(utcnow() - datetime.timedelta(days=days), batch)


def prune(before: datetime.datetime, batch: int = PRUNE_BATCH) -> int:
    """Remove the snapshots taken before ``before``, ``batch`` at a time (each in its
    own transaction, so writers are never held up for long); returns how many."""
    removed = 0
    while True:
        with database.atomic():
            ids = FigureSnapshot.select(FigureSnapshot.id).where(FigureSnapshot.taken_at < before).limit(batch)
            gone = FigureSnapshot.delete().where(FigureSnapshot.id.in_(ids)).execute()
        removed += gone
        if gone < batch:
            return removed
