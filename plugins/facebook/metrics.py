"""Impressions and reach of a Facebook page and its posts, their public counts, and the
page's daily history.

Facebook removed its ``*_impressions*`` insights metrics (2025–2026); the current names
are views and unique viewers. Streamdesk keeps its own words (see the seed text):

* **impressions** — how many times the content was displayed on someone's screen
  (``post_media_view`` / ``page_media_view``);
* **reach** — how many distinct people it reached (``post_total_media_view_unique`` /
  ``page_total_media_view_unique``).

Every figure keeps the Graph metric it was read from, the Graph version it was read
with (:data:`~.versions.PINNED`) and, where that metric succeeds a retired one, the
retired metric's name (:data:`RETIRED`). Page level comes three ways: as Facebook
reports it (last 28 days), as the combination of the given posts' figures
(``*_from_posts``), and day by day from ``history_since`` (:data:`DAILY`), each daily
figure carrying its Pacific day.

Insights need the page's own token: unauthorized streams get insights figures with no
value and a note, never a made-up zero. What anyone can see of a public page — its
posts' reactions, comments and shares, and the page's followers — is read for every
stream.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from streamdesk_contract.errors import NotFound
from streamdesk_contract.pluginkit import Malformed
from streamdesk_contract.values import Credentials, Figure, ServiceConfig, StreamRef

from .client import GraphClient
from .convert import PACIFIC, insights_day
from .versions import PINNED

#: Graph metric → the retired metric it succeeds (Graph removed the impressions
#: metrics and ``page_fans`` on 2025-11-15). The one place this mapping lives: every
#: figure read from a metric in it says which retired metric its numbers continue.
RETIRED = {
    "page_media_view": "page_impressions",
    "post_media_view": "post_impressions",
    "page_total_media_view_unique": "page_impressions_unique",
    "post_total_media_view_unique": "post_impressions_unique",
    "page_follows": "page_fans",
}
POST_METRICS = {"impressions": "post_media_view", "reach": "post_total_media_view_unique"}
PAGE_METRICS = {"impressions": "page_media_view", "reach": "page_total_media_view_unique"}
#: Page figures read per day (period=day), by Streamdesk name.
DAILY = {"impressions": "page_media_view", "reach": "page_total_media_view_unique",
         "followers": "page_follows", "new_followers": "page_daily_follows_unique"}
#: Public counts of a post, read with the post in the same ?ids= lookup. Comments are
#: counted with their replies (``filter(stream)``), as Facebook shows the count.
PUBLIC_FIELDS = ("reactions.summary(total_count).limit(0),comments.filter(stream).summary(total_count).limit(0),"
                 "shares")
PAGE_PERIOD = "days_28"
#: Graph refuses more than 90 days between since and until.
MAX_DAYS = 90
BATCH = 50  # Graph's limit for ?ids= lookups
NEEDS = ("read_insights", "pages_read_engagement")
NOT_SHARED = "Facebook shares insights only with the page's own admins (authorized streams)."
GONE = "The post no longer exists on Facebook."
UNREADABLE = "Facebook's answer held no readable figure for this."


def metric_value(rows: list[dict], name: str) -> tuple[int | None, str | None]:
    """The latest value of metric ``name`` and its end time. Breakdowns may come as
    duplicated rows (e.g. ``is_from_ads``) or as a dict value: both are summed."""
    matching = [r for r in rows if isinstance(r, dict) and r.get("name") == name]
    if not matching:
        return None, None
    total, end_time, found = 0, None, False
    for row in matching:
        values = row.get("values")
        if not isinstance(values, list) or not values or not isinstance(values[-1], dict):
            continue
        latest = values[-1]
        value = _number(latest.get("value"))
        if value is not None:
            total += value
            found = True
        end_time = latest.get("end_time", end_time)
    return (total if found else None), end_time


def _number(value) -> int | None:
    """A figure's value as Graph gives it: a number, or a dict of breakdowns summed;
    anything else (a string, a list, a dict of no numbers) is not a figure."""
    if isinstance(value, dict):
        parts = [v for v in value.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return int(sum(parts)) if parts else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return None


def daily_values(rows: list, name: str) -> tuple[dict[date, int | None], bool]:
    """Metric ``name``'s value per Pacific day from period=day ``rows`` (breakdown rows
    summed), and whether any entry was unreadable (then its day holds None)."""
    days: dict[date, int | None] = {}
    broken = False
    for row in rows:
        if not isinstance(row, dict) or row.get("name") != name or row.get("period", "day") != "day":
            continue
        values = row.get("values")
        if not isinstance(values, list):
            broken = True
            continue
        for entry in values:
            try:
                day = insights_day(entry["end_time"])
            except (Malformed, TypeError, KeyError):
                broken = True
                continue
            value = _number(entry.get("value"))
            if value is None:
                broken = True
                days.setdefault(day, None)
            else:
                days[day] = (days.get(day) or 0) + value
    return days, broken


def _stamp(figures: list[Figure]) -> list[Figure]:
    """Every figure with the Graph version it was read with and the retired metric its
    metric succeeds."""
    return [replace(f, api_version=PINNED, replaces=RETIRED.get(f.provider_metric)) for f in figures]


def _nodes(client: GraphClient, story_ids: list[str], fields: str, needs: tuple[str, ...]) -> dict[str, dict | None]:
    """The post nodes of ``story_ids`` with ``fields`` (50 per lookup); None for a post
    Facebook no longer knows."""
    found: dict[str, dict | None] = {}
    for start in range(0, len(story_ids), BATCH):
        batch = story_ids[start:start + BATCH]
        try:
            nodes = client.get("/", {"ids": ",".join(batch), "fields": fields}, needs=needs)
        except NotFound:
            # One deleted post fails the whole batch: ask one by one to keep the others.
            nodes = {}
            for story_id in batch:
                try:
                    nodes[story_id] = client.get(f"/{story_id}", {"fields": fields}, needs=needs)
                except NotFound:
                    nodes[story_id] = None
        for story_id in batch:
            node = nodes.get(story_id)
            found[story_id] = node if isinstance(node, dict) else None
    return found


def _summary_count(node: dict, edge: str) -> int | None:
    summary = (node.get(edge) or {}).get("summary") if isinstance(node.get(edge), dict) else None
    return _number(summary.get("total_count")) if isinstance(summary, dict) else None


def public_figures(story_id: str, node: dict | None) -> list[Figure]:
    """Reactions, comments (with replies) and shares of one post, which Graph shows for
    any public post. Graph leaves ``shares`` out of a post nobody shared: that is 0."""
    if node is None:
        return [Figure(name, None, metric, "post", story_id, GONE)
                for name, metric in (("reactions", "reactions"), ("comments", "comments"), ("shares", "shares"))]
    shares = node.get("shares")
    share_count = _number(shares.get("count")) if isinstance(shares, dict) else (0 if shares is None else None)
    out = []
    for name, value in (("reactions", _summary_count(node, "reactions")),
                        ("comments", _summary_count(node, "comments")), ("shares", share_count)):
        out.append(Figure(name, value, name, "post", story_id, None if value is not None else UNREADABLE))
    return out


def followers(client: GraphClient, page_id: str) -> Figure:
    """The page's followers now (``followers_count``, else the older ``fan_count``)."""
    node = client.get(f"/{page_id}", {"fields": "followers_count,fan_count"})
    for metric in ("followers_count", "fan_count"):
        value = _number(node.get(metric)) if isinstance(node, dict) else None
        if value is not None:
            return Figure("followers", value, metric, "page", page_id)
    return Figure("followers", None, "followers_count", "page", page_id, UNREADABLE)


def _windows(since: date, now: datetime) -> list[tuple[int, int]]:
    """(since, until) unix times covering the Pacific days from ``since`` to the last
    ended day, at most :data:`MAX_DAYS` apart each."""
    start = datetime.combine(since, time(), PACIFIC).astimezone(UTC)
    out = []
    while start < now:
        end = min(start + timedelta(days=MAX_DAYS), now)
        out.append((int(start.timestamp()), int(end.timestamp())))
        start = end
    return out


def daily_figures(client: GraphClient, page_id: str, history_since: date | None) -> list[Figure]:
    """The page's :data:`DAILY` figures, one per metric and Pacific day from
    ``history_since`` (None: the last days Graph gives by default)."""
    params = {"metric": ",".join(DAILY.values()), "period": "day"}
    windows = _windows(history_since, datetime.fromtimestamp(client.now(), UTC)) if history_since else [None]
    rows: list = []
    for window in windows:
        asked = dict(params, since=window[0], until=window[1]) if window else params
        data = client.get(f"/{page_id}/insights", asked, needs=NEEDS).get("data")
        rows += data if isinstance(data, list) else [None]
    figures = []
    for name, metric in DAILY.items():
        days, _ = daily_values(rows, metric)
        for day, value in sorted(days.items()):
            note = None if value is not None else UNREADABLE
            figures.append(Figure(name, value, metric, "page", page_id, note, day=day))
    return figures


def metrics(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
            story_ids: list[str] | tuple[str, ...], history_since: date | None = None) -> list[Figure]:
    """Post-level figures for ``story_ids`` and page-level figures for ``stream``
    (daily ones from ``history_since`` for authorized streams)."""
    story_ids = list(dict.fromkeys(story_ids or ()))
    authorized = stream.authorized and credentials is not None
    if not authorized:
        client = GraphClient(config, None, bucket="app")
        figures = []
        for story_id, node in _nodes(client, story_ids, PUBLIC_FIELDS, ()).items():
            figures += public_figures(story_id, node)
            figures += [Figure(name, None, metric, "post", story_id, NOT_SHARED)
                        for name, metric in POST_METRICS.items()]
        figures += [Figure(name, None, metric, "page", stream.page_id, NOT_SHARED)
                    for name, metric in PAGE_METRICS.items()]
        figures.append(followers(client, stream.page_id))
        return _stamp(figures)
    client = GraphClient(config, credentials.access_token, bucket=stream.page_id)
    figures: list[Figure] = []
    sums = {name: 0 for name in POST_METRICS}
    counted = {name: 0 for name in POST_METRICS}
    # Insights first: without read_insights, that is the permission the error names.
    fields = f"insights.metric({','.join(POST_METRICS.values())}),{PUBLIC_FIELDS}"
    for story_id, node in _nodes(client, story_ids, fields, NEEDS).items():
        figures += public_figures(story_id, node)
        insights = (node or {}).get("insights")
        rows = insights.get("data") if isinstance(insights, dict) else None
        for name, metric in POST_METRICS.items():
            if node is None:
                figures.append(Figure(name, None, metric, "post", story_id, GONE))
                continue
            value, _ = metric_value(rows if isinstance(rows, list) else [], metric)
            figures.append(Figure(name, value, metric, "post", story_id,
                                  None if value is not None else "Facebook reported no figure for this post."))
            if value is not None:
                sums[name] += value
                counted[name] += 1
    body = client.get(f"/{stream.page_id}/insights",
                      {"metric": ",".join(PAGE_METRICS.values()), "period": PAGE_PERIOD}, needs=NEEDS)
    data = body.get("data")
    for name, metric in PAGE_METRICS.items():
        value, end_time = metric_value(data if isinstance(data, list) else [], metric)
        try:
            ended = insights_day(end_time) if end_time and value is not None else None
        except Malformed:
            ended, value = None, None
        note = (f"Last 28 days, to {ended:%Y-%m-%d} (Facebook's days end at midnight Pacific time)."
                if ended else "Facebook reported no figure for the page.")
        figures.append(Figure(name, value, metric, "page", stream.page_id, note))
    for name, metric in POST_METRICS.items():
        note = f"Sum over {counted[name]} posts."
        if name == "reach":
            note += " People who saw several posts are counted once per post."
        figures.append(Figure(f"{name}_from_posts", sums[name] if counted[name] else None, metric, "page",
                              stream.page_id, note))
    figures.append(followers(client, stream.page_id))
    figures += daily_figures(client, stream.page_id, history_since)
    return _stamp(figures)
