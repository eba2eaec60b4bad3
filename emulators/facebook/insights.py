"""Page and post insights with the metric names that work in 2026 (Graph v25).

The impressions metrics are gone: ``page_impressions*``/``post_impressions*`` (and
``page_fans``) fail the whole request with ``(#100) The value must be a valid insights
metric``, as the real API does since their removal. Views (``*_media_view``) and unique
viewers (``*_total_media_view_unique``) replace them.

Numbers are derived from the object's id and the date (never from a running random
stream), so they are stable across resets and for any date asked.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import errors
from .model import Page, Post
from .paging import link, timestamp_arg
from .seed import stable_int

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"
#: Facebook's insights days are Pacific days.
PACIFIC = ZoneInfo("America/Los_Angeles")

#: name → (title, description)
POST_METRICS = {
    "post_media_view": ("Lifetime Post Views",
                        "The number of times your post was on screen, including repeat views."),
    "post_total_media_view_unique": ("Lifetime Post Viewers",
                                     "The number of people who saw your post at least once."),
    "post_clicks": ("Lifetime Post Clicks", "The number of clicks anywhere in your post."),
    "post_reactions_by_type_total": ("Lifetime Total post Reactions by Type",
                                     "Total post reactions by type."),
}
PAGE_METRICS = {
    "page_media_view": ("Page Views", "The number of times your Page's content was on screen."),
    "page_total_media_view_unique": ("Page Viewers", "The number of people who saw your Page's content."),
    "page_post_engagements": ("Post Engagements", "The number of times people engaged with your posts."),
    "page_follows": ("Page Follows", "The total number of people who follow your Page."),
    "page_daily_follows_unique": ("Daily New Follows", "The number of people who followed your Page."),
}
PERIODS = ("day", "week", "days_28")
MAX_RANGE = timedelta(days=90)


def _metrics_arg(raw: str | None, known: dict) -> list[str]:
    if not raw:
        raise errors.invalid_parameter("The value must be a valid insights metric")
    wanted = [m.strip() for m in raw.split(",") if m.strip()]
    # One unknown or retired metric fails the whole request, as on the real API.
    if not wanted or any(m not in known for m in wanted):
        raise errors.invalid_metric()
    return wanted


def post_views(post: Post) -> tuple[int, int]:
    """(views, unique viewers) of a post: viewers are always fewer than views."""
    engagement = sum(post.reactions.values()) + 3 * post.shares
    views = 40 + engagement * 7 + stable_int(post.id, "views") % 2500
    unique = views * (55 + stable_int(post.id, "reach") % 30) // 100
    return views, max(1, unique)


def post_rows(post: Post, raw_metrics: str | None, base: str) -> list[dict]:
    """The ``data`` rows of ``GET /{post-id}/insights`` (period lifetime)."""
    views, unique = post_views(post)
    values = {
        "post_media_view": views,
        "post_total_media_view_unique": unique,
        "post_clicks": views // 9 + stable_int(post.id, "clicks") % 20,
        "post_reactions_by_type_total": {k.lower(): v for k, v in post.reactions.items() if v},
    }
    rows = []
    for name in _metrics_arg(raw_metrics, POST_METRICS):
        title, description = POST_METRICS[name]
        rows.append({"name": name, "period": "lifetime", "values": [{"value": values[name]}],
                     "title": title, "description": description, "id": f"{post.id}/insights/{name}/lifetime"})
    return rows


def _daily(page: Page, name: str, day: datetime) -> int:
    base = max(20, page.fan_count // 25)
    wiggle = 60 + stable_int(page.id, name, day.date().isoformat()) % 80
    if name == "page_media_view":
        return base * wiggle // 100
    if name == "page_total_media_view_unique":
        return _daily(page, "page_media_view", day) * 62 // 100
    if name == "page_post_engagements":
        return base * wiggle // 1000
    if name == "page_daily_follows_unique":
        return wiggle // 25
    raise KeyError(name)


def _value(page: Page, name: str, period: str, end: datetime) -> int:
    """The metric's value for the period ending at ``end`` (exclusive of ``end``'s day)."""
    if name == "page_follows":
        return page.followers_count
    days = {"day": 1, "week": 7, "days_28": 28}[period]
    total = sum(_daily(page, name, end - timedelta(days=d + 1)) for d in range(days))
    if name == "page_total_media_view_unique" and days > 1:
        total = total * 55 // 100  # the same people come back on several days
    return total


def day_end(day: date) -> datetime:
    """The instant Facebook's day ``day`` ends: the next Pacific midnight, in UTC
    (T08:00:00+0000 in winter, T07:00:00+0000 in summer)."""
    return datetime.combine(day + timedelta(days=1), time(), PACIFIC).astimezone(UTC)


def _pacific_date(at: datetime) -> date:
    return at.astimezone(PACIFIC).date()


def page_rows(page: Page, args, now: datetime, base: str, keep: dict) -> tuple[list[dict], dict]:
    """The ``data`` rows and ``paging`` of ``GET /{page-id}/insights``.

    Values are per Facebook day, which runs midnight to midnight Pacific time; each
    ``end_time`` is the midnight that ended the day, so its UTC hour moves with daylight
    saving time."""
    wanted = _metrics_arg(args.get("metric"), PAGE_METRICS)
    periods = [p.strip() for p in (args.get("period") or "").split(",") if p.strip()] or list(PERIODS)
    if any(p not in PERIODS + ("lifetime",) for p in periods):
        raise errors.invalid_parameter("period must be one of the following values: day, week, days_28, "
                                       "month, lifetime, total_over_range")
    latest = _pacific_date(now) - timedelta(days=1)  # the last day that has ended
    since = timestamp_arg(args.get("since"), "since")
    until = timestamp_arg(args.get("until"), "until")
    if since is not None or until is not None:
        end = datetime.fromtimestamp(until, UTC) if until is not None else day_end(latest)
        start = datetime.fromtimestamp(since, UTC) if since is not None else end - timedelta(days=2)
        if end - start > MAX_RANGE:
            raise errors.invalid_parameter("There cannot be more than 90 days (7776000 s) between since and until")
        # Days that end after ``since`` and no later than ``until`` (and have ended).
        first, last = _pacific_date(start), min(_pacific_date(end) - timedelta(days=1), latest)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    else:
        days = [latest - timedelta(days=1), latest]
    rows = []
    for name in wanted:
        title, description = PAGE_METRICS[name]
        for period in periods:
            if name == "page_follows" and period != "day":
                continue  # Graph only reports follows per day
            if period == "lifetime":
                continue
            rows.append({"name": name, "period": period,
                         "values": [{"value": _value(page, name, period, day_end(d)),
                                     "end_time": day_end(d).strftime(GRAPH_TIME)} for d in days],
                         "title": title, "description": description,
                         "id": f"{page.id}/insights/{name}/{period}"})
    paging = {}
    if days:
        span = timedelta(days=len(days))
        paging["previous"] = link(base, f"{page.id}/insights",
                                  {**keep, "since": int(day_end(days[0] - span - timedelta(days=1)).timestamp()),
                                   "until": int(day_end(days[0] - timedelta(days=1)).timestamp())})
        paging["next"] = link(base, f"{page.id}/insights",
                              {**keep, "since": int(day_end(days[-1]).timestamp()),
                               "until": int(day_end(days[-1] + span).timestamp())})
    return rows, paging
