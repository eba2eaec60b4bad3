"""Analytics: the figures of a stream or topic over a date range, compared with the
period before it, per day, against competitors, and its top posts.

Everything here reads the daily roll-up (:class:`~webapp.models.FigureDay`, written by
the metrics refresh) and, for top posts, :class:`~webapp.models.Story`: never a
provider. A dashboard costs a fixed number of queries whatever its range or number of
streams: the topic's streams (one), the roll-up's values for the range and the period
before it (one) and where those values came from (one).

Definitions (docs: the analytics spec, "Dashboard definitions"):

- Views: the ``impressions`` days summed (Streamdesk's "impressions" are the provider's
  *views*, see :data:`webapp.metrics.MEANINGS`); a stream whose service gives none
  counts the ``post_views`` of the posts published in the range instead (and says so);
  with neither, "not provided by <service>".
- Reach: ``reach`` days summed — daily unique viewers, summed (not unique over the range).
- Engagements: ``post_engagements`` summed; engagement rate = engagements ÷ views, only
  when both exist.
- Followers: the last ``followers`` reading of the range; net growth = that − the last
  reading before the range.
- Posts published, comments received: sums.

A figure that is not provided is ``None`` — drawn as a gap and labelled, never 0.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from peewee import fn

from .db import database, id_list, on_postgres
from .models import FigureDay, Story, Stream, TopicStream
from .prepared import Prepared, slot

#: The ranges the selector offers, in days, ending today: followers and views then match
#: what the service shows now (today is still moving; the period before is whole days).
PRESETS = (7, 28, 90)
DEFAULT_DAYS = 28
#: The longest custom range: two years of roll-up per stream is what a page reads at most.
MAX_DAYS = 366
#: The earliest day a custom range may start on (the roll-up holds nothing older).
EARLIEST = datetime.date(2000, 1, 1)
#: The roll-up's names a dashboard reads.
NAMES = ("impressions", "reach", "followers", "post_views", "post_engagements", "posts_published",
         "comments_received")
#: What top posts can be ranked by.
RANK_BY = ("engagements", "views")
#: The dashboard's figures, in the order they are shown, with their labels.
LABELS = {
    "views": "Views",
    "reach": "Reach",
    "engagements": "Engagements",
    "engagement_rate": "Engagement rate",
    "followers": "Followers",
    "net_followers": "Net follower growth",
    "posts_published": "Posts published",
    "comments_received": "Comments received",
}
#: Where a figure comes from when the stream's service provides it (the roll-up name).
SOURCES = {"views": "impressions", "reach": "reach", "engagements": "post_engagements",
           "followers": "followers", "net_followers": "followers", "posts_published": "posts_published",
           "comments_received": "comments_received"}
FROM_POSTS = "from posts published in the range"


class RangeError(ValueError):
    """A range the selector cannot use; the message says which value and why."""


def _date(value: str, label: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise RangeError(f"“{value[:40]}” is not a date for “{label}”: use YYYY-MM-DD.") from None
    if day < EARLIEST:
        raise RangeError(f"“{label}” is before {EARLIEST.isoformat()}: there are no figures that old.")
    return day


@dataclass(frozen=True)
class DateRange:
    """Whole days from ``start`` to ``end``, both included; ``preset`` is the number of
    days of a preset range (None: a custom one)."""

    start: datetime.date
    end: datetime.date
    preset: int | None = None

    @property
    def days(self) -> int:
        """How many days the range holds."""
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "DateRange":
        """The period of the same length that ends the day before this one starts."""
        end = self.start - datetime.timedelta(days=1)
        return DateRange(end - datetime.timedelta(days=self.days - 1), end, self.preset)

    def each_day(self) -> list[datetime.date]:
        """Every day of the range, oldest first."""
        return [self.start + datetime.timedelta(days=n) for n in range(self.days)]

    def args(self) -> dict[str, str]:
        """The range as the selector's query-string arguments (links keep it)."""
        if self.preset is not None:
            return {"range": str(self.preset)}
        return {"range": "custom", "from": self.start.isoformat(), "to": self.end.isoformat()}

    @property
    def label(self) -> str:
        """How the range reads on a page: "Last 28 days" or "2026-01-01 – 2026-01-31"."""
        if self.preset is not None:
            return f"Last {self.preset} days"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    @classmethod
    def last(cls, days: int, today: datetime.date | None = None) -> "DateRange":
        """The ``days`` days that end today (UTC)."""
        end = today or datetime.datetime.now(datetime.timezone.utc).date()
        return cls(end - datetime.timedelta(days=days - 1), end, days)

    @classmethod
    def parse(cls, args: Mapping[str, str], today: datetime.date | None = None) -> "DateRange":
        """The range of the query-string ``args``: ``range`` = 7, 28 or 90 (the last
        days, today included), or ``custom`` with ``from`` and ``to`` (YYYY-MM-DD, both
        included); no ``range`` but dates means custom, nothing at all the last 28 days.
        RangeError says what is wrong."""
        today = today or datetime.datetime.now(datetime.timezone.utc).date()
        chosen = (args.get("range") or "").strip()
        since, until = (args.get("from") or "").strip(), (args.get("to") or "").strip()
        if not chosen:
            chosen = "custom" if since or until else str(DEFAULT_DAYS)
        if chosen != "custom":
            if chosen not in {str(days) for days in PRESETS}:
                raise RangeError(f"“{chosen[:40]}” is not a range: choose the last "
                                 f"{', '.join(map(str, PRESETS[:-1]))} or {PRESETS[-1]} days, or custom dates.")
            return cls.last(int(chosen), today)
        if not since or not until:
            raise RangeError("A custom range needs both “From” and “To” dates.")
        start, end = _date(since, "From"), _date(until, "To")
        if start > end:
            raise RangeError("“From” is after “To”: swap the dates.")
        if end > today:
            raise RangeError(f"“To” ({end.isoformat()}) is in the future: the last day with figures is today.")
        if (end - start).days + 1 > MAX_DAYS:
            raise RangeError(f"A range can be at most {MAX_DAYS} days long "
                             f"(this one has {(end - start).days + 1}).")
        return cls(start, end, None)


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: the difference and the difference in
    percent of the previous value (None when the previous is missing or 0: "—")."""

    absolute: float | None = None
    percent: float | None = None

    @classmethod
    def between(cls, current, previous) -> "Change":
        """From ``current`` and ``previous`` (either may be None)."""
        if current is None or previous is None:
            return cls()
        absolute = current - previous
        return cls(absolute, absolute / previous * 100 if previous else None)


@dataclass
class Source:
    """Where a figure's values came from, for its footnote."""

    provider_metric: str | None = None
    api_version: str | None = None
    replaces: str | None = None


@dataclass
class DashFigure:
    """One figure of a dashboard for its range.

    ``current``/``previous`` are None when not provided (``note`` says by whom); ``series``
    holds one value per day of the range (None: no value that day, a gap in a chart);
    ``basis`` says how it was computed when that matters ("from posts published in the
    range"); ``sources`` the provider metrics behind it.
    """

    name: str
    label: str
    current: float | None = None
    previous: float | None = None
    change: Change = field(default_factory=Change)
    series: list[float | None] = field(default_factory=list)
    #: The per-day values of each stream (by stream id) that provides the figure.
    by_stream: dict[int, list[float | None]] = field(default_factory=dict)
    basis: str | None = None
    note: str | None = None
    sources: list[Source] = field(default_factory=list)
    percent: bool = False

    @property
    def provided(self) -> bool:
        """True when the figure has a value for the range."""
        return self.current is not None


@dataclass
class Dashboard:
    """A stream's or topic's figures over ``range``, in :data:`LABELS` order."""

    range: DateRange
    streams: list[Stream]
    figures: dict[str, DashFigure]
    days: list[datetime.date]

    def __getitem__(self, name: str) -> DashFigure:
        return self.figures[name]


@dataclass
class Competitor:
    """One stream of a topic in the competitor comparison, over the range: figures
    every service has (None: not provided; ``notes`` say by whom)."""

    stream: Stream
    followers: int | None
    net_followers: int | None
    growth_percent: float | None
    posts: int | None
    engagements: int | None
    engagements_per_post: float | None
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Competitors:
    """A topic's authorized streams (its own) beside its unauthorized ones."""

    range: DateRange
    own: list[Competitor]
    others: list[Competitor]


@dataclass
class TopPost:
    """A story of the range with its latest figures (None: not provided)."""

    story: Story
    stream: Stream
    views: int | None
    engagements: int | None


# --- reading the roll-up ------------------------------------------------------------------

#: The stream columns dashboards show: not the tokens (decrypted per row) nor crawl state.
STREAM_COLUMNS = (Stream.id, Stream.account, Stream.service, Stream.page_id, Stream.name, Stream.handle,
                  Stream.authorized, Stream.status, Stream.picture_url)


_TOPIC_STREAMS = Prepared(lambda: Stream.select(*STREAM_COLUMNS)
                          .join(TopicStream, on=(TopicStream.stream == Stream.id))
                          .where((TopicStream.topic == slot("topic_id")) & (Stream.account == slot("account_id")))
                          .order_by(Stream.authorized.desc(), Stream.service, Stream.name))
#: A stream of an account with the first topic that holds it (where its stories are read).
_ACCOUNT_STREAM = Prepared(lambda: Stream.select(
    *STREAM_COLUMNS, TopicStream.select(fn.MIN(TopicStream.topic)).where(TopicStream.stream == Stream.id)
    .alias("topic_id")).where((Stream.id == slot("stream_id")) & (Stream.account == slot("account_id"))))


def topic_streams(topic) -> list[Stream]:
    """The topic's streams (its own account's only), authorized first, then by name."""
    return list(_TOPIC_STREAMS.rows(topic_id=topic.id, account_id=topic.account_id))


def account_stream(account_id: int, stream_id: int) -> Stream | None:
    """The account's stream ``stream_id`` with ``topic_id``, the first topic holding it
    (None for another account's or an unknown id). One query."""
    return _ACCOUNT_STREAM.first(stream_id=stream_id, account_id=account_id)


@dataclass
class _Days:
    """The roll-up of some streams: values[stream][name][day] (None kept: not provided),
    the sources and notes per stream and name."""

    values: dict[int, dict[str, dict[datetime.date, int | None]]]
    sources: dict[tuple[int, str], list[Source]]
    notes: dict[tuple[int, str], str]


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _read_days(stream_ids: list[int], date_range: DateRange) -> _Days:
    """Two queries: the values of the range, the period before it and the day before
    that (the follower baseline); then the sources and notes of the range."""
    first = date_range.previous.start - datetime.timedelta(days=1)
    values: dict[int, dict[str, dict[datetime.date, int | None]]] = {i: {} for i in stream_ids}
    if not stream_ids:
        return _Days(values, {}, {})
    where = (FigureDay.stream.in_(id_list(stream_ids)), FigureDay.name.in_(NAMES),
             FigureDay.day >= first, FigureDay.day <= date_range.end)
    # The driver's rows as they come: a quarter of twenty streams is some 30,000 rows,
    # and peewee's conversion of each value cost more than the query (SQLite gives the
    # day as text: each distinct day is parsed once).
    sql, params = (FigureDay.select(FigureDay.stream, FigureDay.name, FigureDay.day, FigureDay.value)
                   .where(*where).sql())
    days: dict = {}
    for stream_id, name, day, value in database.execute_sql(sql, params).fetchall():
        when = days.get(day)
        if when is None:
            when = days[day] = _as_date(day)
        values[stream_id].setdefault(name, {})[when] = value
    sources: dict[tuple[int, str], list[Source]] = {}
    notes: dict[tuple[int, str], str] = {}
    described = (FigureDay.select(FigureDay.stream, FigureDay.name, FigureDay.provider_metric,
                                  FigureDay.api_version, FigureDay.replaces, FigureDay.note,
                                  fn.MAX(FigureDay.day))
                 .where(*where[:3], FigureDay.day >= date_range.start)
                 .group_by(FigureDay.stream, FigureDay.name, FigureDay.provider_metric, FigureDay.api_version,
                           FigureDay.replaces, FigureDay.note)
                 .order_by(fn.MAX(FigureDay.day).desc()))
    for stream_id, name, metric, version, replaces, note, _ in described.tuples():
        if metric or version or replaces:
            found = sources.setdefault((stream_id, name), [])
            source = Source(metric, version, replaces)
            if source not in found:
                found.append(source)
        if note and (stream_id, name) not in notes:
            notes[(stream_id, name)] = note
    return _Days(values, sources, notes)


def _not_provided(stream: Stream, labels: Mapping[str, str] | None) -> str:
    label = (labels or {}).get(stream.service) or stream.service.capitalize()
    return f"not provided by {label}"


def _sum(days: dict[datetime.date, int | None], period: DateRange) -> int | None:
    """The sum of the period's values; None when no day of it has one."""
    found = [v for d, v in days.items() if period.start <= d <= period.end and v is not None]
    return sum(found) if found else None


def _last(days: dict[datetime.date, int | None], start: datetime.date | None, end: datetime.date):
    """The latest value from ``start`` (None: any day) to ``end``, or None."""
    found = [(d, v) for d, v in days.items() if (start is None or d >= start) and d <= end and v is not None]
    return max(found)[1] if found else None


def _add(a, b):
    return b if a is None else a if b is None else a + b


class _Figure:
    """Builds one :class:`DashFigure` over several streams: per stream the period sums
    and the day values, added up; the streams that do not provide it give its note."""

    def __init__(self, name: str, date_range: DateRange):
        self.out = DashFigure(name, LABELS[name], series=[None] * date_range.days,
                              percent=name == "engagement_rate")
        self.range = date_range
        self.missing: list[str] = []
        self.bases: list[str] = []

    def add(self, stream: Stream, current, previous, days: dict[datetime.date, int | None] | None):
        out = self.out
        out.current, out.previous = _add(out.current, current), _add(out.previous, previous)
        if days:
            start = self.range.start
            mine = out.by_stream[stream.id] = [None] * len(out.series)
            for day, value in days.items():
                n = (day - start).days
                if 0 <= n < len(out.series) and value is not None:
                    out.series[n] = _add(out.series[n], value)
                    mine[n] = value

    def done(self) -> DashFigure:
        out = self.out
        out.change = Change.between(out.current, out.previous)
        if self.missing:
            out.note = "; ".join(dict.fromkeys(self.missing))
        if self.bases:
            out.basis = "; ".join(dict.fromkeys(self.bases))
        return out


def _dashboard(streams: list[Stream], date_range: DateRange, labels: Mapping[str, str] | None) -> Dashboard:
    data = _read_days([s.id for s in streams], date_range)
    current, previous = date_range, date_range.previous
    figures = {name: _Figure(name, date_range) for name in LABELS}

    def sources(figure: _Figure, stream: Stream, name: str):
        for source in data.sources.get((stream.id, name), []):
            if source not in figure.out.sources:
                figure.out.sources.append(source)

    def missing(figure: _Figure, stream: Stream, name: str):
        note = data.notes.get((stream.id, name)) or _not_provided(stream, labels)
        figure.missing.append(f"{stream.name}: {note}" if len(streams) > 1 else note)

    views_days: dict[int, dict] = {}
    for stream in streams:
        mine = data.values[stream.id]
        # Views: the service's page views, else what its posts of the range were viewed.
        name = "impressions"
        if _sum(mine.get(name, {}), current) is None and _sum(mine.get(name, {}), previous) is None:
            name = "post_views"
        days = mine.get(name, {})
        now, before = _sum(days, current), _sum(days, previous)
        views = figures["views"]
        if now is None and before is None:
            missing(views, stream, "impressions")
        else:
            if name == "post_views":
                views.bases.append(f"{stream.name}: {FROM_POSTS}" if len(streams) > 1 else FROM_POSTS)
            views.add(stream, now, before, days)
            views_days[stream.id] = days
            sources(views, stream, name)
        for figure_name in ("reach", "engagements", "posts_published", "comments_received"):
            source = SOURCES[figure_name]
            days = mine.get(source, {})
            now, before = _sum(days, current), _sum(days, previous)
            if now is None and before is None:
                missing(figures[figure_name], stream, source)
                continue
            figures[figure_name].add(stream, now, before, days)
            sources(figures[figure_name], stream, source)
        followers = mine.get("followers", {})
        last_now = _last(followers, current.start, current.end)
        last_before = _last(followers, previous.start, previous.end)
        base_now = _last(followers, None, previous.end)
        base_before = _last(followers, None, previous.start - datetime.timedelta(days=1))
        if last_now is None and last_before is None:
            missing(figures["followers"], stream, "followers")
            missing(figures["net_followers"], stream, "followers")
            continue
        figures["followers"].add(stream, last_now, last_before, followers)
        sources(figures["followers"], stream, "followers")
        growth = figures["net_followers"]
        growth.add(stream, None if last_now is None or base_now is None else last_now - base_now,
                   None if last_before is None or base_before is None else last_before - base_before, None)
        sources(growth, stream, "followers")
    _follower_gaps(figures["followers"].out, streams, data, date_range)
    if figures["net_followers"].out.current is None and not figures["net_followers"].missing:
        figures["net_followers"].missing.append(f"no follower count before {date_range.start.isoformat()}")
    figures["reach"].bases.append("daily unique viewers, summed")
    _engagement_rate(figures, views_days, data, streams, date_range)
    result = {name: figure.done() for name, figure in figures.items()}
    return Dashboard(date_range, streams, result, date_range.each_day())


def _follower_gaps(out: DashFigure, streams, data: _Days, date_range: DateRange) -> None:
    """Followers are a stock: a day's total is only a total when every stream that has
    followers in the range was read that day; other days are gaps, not dips."""
    counted = [data.values[s.id].get("followers", {}) for s in streams]
    counted = [days for days in counted if _last(days, date_range.start, date_range.end) is not None]
    for n, day in enumerate(date_range.each_day()):
        if any(days.get(day) is None for days in counted):
            out.series[n] = None


def _engagement_rate(figures: dict[str, _Figure], views_days, data: _Days, streams, date_range: DateRange):
    """Engagements ÷ views in percent, only over what has both: per period, the streams
    that have both; per day, the days that have both."""
    rate = figures["engagement_rate"]
    totals = {"current": [0, 0], "previous": [0, 0]}
    for stream in streams:
        views = views_days.get(stream.id)
        engaged = data.values[stream.id].get("post_engagements", {})
        if not views or not engaged:
            continue
        for key, period in (("current", date_range), ("previous", date_range.previous)):
            v, e = _sum(views, period), _sum(engaged, period)
            if v and e is not None:
                totals[key][0] += e
                totals[key][1] += v
    for key in totals:
        e, v = totals[key]
        setattr(rate.out, key, e / v * 100 if v else None)
    views_series, engaged_series = figures["views"].out.series, figures["engagements"].out.series
    rate.out.series = [e / v * 100 if v and e is not None else None for v, e in zip(views_series, engaged_series)]
    if rate.out.current is None:
        rate.missing.append("needs both views and engagements")
    else:
        rate.bases.append("engagements ÷ views, where both exist")
    # The rate's absolute change is in percentage points, its percent the relative change.


def stream_dashboard(stream: Stream, date_range: DateRange, labels: Mapping[str, str] | None = None) -> Dashboard:
    """The dashboard of one stream (two queries). ``labels`` maps a service to its name
    for "not provided by <label>" (the plugins' labels; default: the service, capitalised)."""
    return _dashboard([stream], date_range, labels)


def topic_dashboard(topic, date_range: DateRange, labels: Mapping[str, str] | None = None,
                    streams: list[Stream] | None = None) -> Dashboard:
    """The dashboard of all the topic's streams added up (three queries; two when the
    caller passes the topic's ``streams`` from :func:`topic_streams`)."""
    return _dashboard(topic_streams(topic) if streams is None else streams, date_range, labels)


def competitors(topic, date_range: DateRange, labels: Mapping[str, str] | None = None,
                streams: list[Stream] | None = None) -> Competitors:
    """The topic's authorized streams beside its unauthorized ones over the range, on
    the figures both kinds have: followers, net growth and growth in percent, posts
    published, public engagements and engagements per post (three queries)."""
    streams = topic_streams(topic) if streams is None else streams
    data = _read_days([s.id for s in streams], date_range)
    rows = ([], [])
    for stream in streams:
        mine = data.values[stream.id]
        followers = mine.get("followers", {})
        last = _last(followers, date_range.start, date_range.end)
        base = _last(followers, None, date_range.start - datetime.timedelta(days=1))
        net = last - base if last is not None and base is not None else None
        posts = _sum(mine.get("posts_published", {}), date_range)
        engaged = _sum(mine.get("post_engagements", {}), date_range)
        notes = {}
        for key, name, value in (("followers", "followers", last), ("posts", "posts_published", posts),
                                 ("engagements", "post_engagements", engaged)):
            if value is None:
                notes[key] = data.notes.get((stream.id, name)) or _not_provided(stream, labels)
        rows[0 if stream.authorized else 1].append(Competitor(
            stream=stream, followers=last, net_followers=net,
            growth_percent=net / base * 100 if net is not None and base else None,
            posts=posts, engagements=engaged,
            engagements_per_post=engaged / posts if engaged is not None and posts else None, notes=notes))
    return Competitors(date_range, *rows)


#: Top posts: a stream with more stories than this in the range is walked best first on
#: its partial index ``story (stream_id, <figure>, created_at)`` (migration 0018) until
#: ``limit`` stories of the range are found; one with fewer has them sorted directly
#: (walking best first would read the whole stream to find the few of a quiet week).
SORT_AT_MOST = 2000
TOP_COLUMNS = ('"id", "stream_id", "external_id", "created_at", "text", "url", "author_name", "views", '
               '"engagements"')


def top_posts(streams: Iterable[Stream], date_range: DateRange, by: str = "engagements",
              limit: int = 10) -> list[TopPost]:
    """The stories of ``streams`` created in the range (UTC days) with the most
    engagements or views (``by``), best first; stories without that figure are not
    ranked. Two statements on SQLite, one on PostgreSQL, whatever the streams.

    Never a sort of every story of the range (25,000 a stream in 90 days at 100,000 a
    year: 110 ms for 20 streams). Each stream gives its own best ``limit`` from one index
    range, and only those are ranked together. PostgreSQL's planner picks, per stream
    (a LATERAL join), between walking the figure's index best first and sorting the
    stream's range; SQLite's does not weigh that well, so it is told (``INDEXED BY``)
    from how many stories each stream has in the range, counted up to
    :data:`SORT_AT_MOST` in one statement first.
    """
    if by not in RANK_BY:
        raise RangeError(f"Top posts can be ranked by {' or '.join(RANK_BY)}, not “{str(by)[:40]}”.")
    by_id = {s.id: s for s in streams}
    if not by_id or limit <= 0:
        return []
    start = datetime.datetime.combine(date_range.start, datetime.time())
    end = datetime.datetime.combine(date_range.end + datetime.timedelta(days=1), datetime.time())
    ids = sorted(by_id)
    p = database.param
    where = f'"created_at" >= {p} AND "created_at" < {p} AND "{by}" IS NOT NULL'
    order = f'"{by}" DESC, "created_at" DESC, "id" DESC'
    if on_postgres():
        sql = (f'SELECT t.* FROM "stream" AS s CROSS JOIN LATERAL (SELECT {TOP_COLUMNS} FROM "story" '
               f'WHERE "stream_id" = s."id" AND {where} ORDER BY {order} LIMIT {p}) AS t '
               f'WHERE s."id" IN ({", ".join([p] * len(ids))}) '
               f'ORDER BY t."{by}" DESC, t."created_at" DESC, t."id" DESC LIMIT {p}')
        rows = Story.raw(sql, start, end, limit, *ids, limit)
    else:
        many = _more_than(ids, start, end, SORT_AT_MOST)
        parts, params = [], []
        for stream_id in ids:
            index = f"story_stream_id_{by}" if stream_id in many else "story_stream_id_created_at"
            parts.append(f'SELECT * FROM (SELECT {TOP_COLUMNS} FROM "story" INDEXED BY "{index}" '
                         f'WHERE "stream_id" = {p} AND {where} ORDER BY {order} LIMIT {p})')
            params += [stream_id, start, end, limit]
        rows = Story.raw(" UNION ALL ".join(parts) + f" ORDER BY {order} LIMIT {p}", *params, limit)
    return [TopPost(story, by_id[story.stream_id], story.views, story.engagements) for story in rows]


def _more_than(ids: list[int], start: datetime.datetime, end: datetime.datetime, most: int) -> set[int]:
    """SQLite: the streams of ``ids`` with more than ``most`` stories created in
    [``start``, ``end``), each counted no further than ``most`` + 1 (one statement)."""
    p = database.param
    parts = [f'SELECT {p} AS "sid", (SELECT COUNT(*) FROM (SELECT 1 FROM "story" '
             f'WHERE "stream_id" = {p} AND "created_at" >= {p} AND "created_at" < {p} LIMIT {p})) AS "n"'
             for _ in ids]
    params = [v for stream_id in ids for v in (stream_id, stream_id, start, end, most + 1)]
    cursor = database.execute_sql(" UNION ALL ".join(parts), params)
    return {sid for sid, n in cursor.fetchall() if n > most}
