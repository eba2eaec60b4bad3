"""Impressions and reach of a Facebook page and its posts.

Facebook removed its ``*_impressions*`` insights metrics (2025–2026); the current names
are views and unique viewers. Streamdesk keeps its own words (see the seed text):

* **impressions** — how many times the content was displayed on someone's screen
  (``post_media_view`` / ``page_media_view``);
* **reach** — how many distinct people it reached (``post_total_media_view_unique`` /
  ``page_total_media_view_unique``).

Every figure keeps the Graph metric it was read from. Page level comes twice: as
Facebook reports it (last 28 days) and as the combination of the given posts' figures
(``*_from_posts``). Insights need the page's own token: unauthorized streams get
figures with no value and a note, never a made-up zero.
"""
from __future__ import annotations

from streamdesk_contract.errors import NotFound
from streamdesk_contract.values import Credentials, Figure, ServiceConfig, StreamRef

from .client import GraphClient
from .convert import insights_day

POST_METRICS = {"impressions": "post_media_view", "reach": "post_total_media_view_unique"}
PAGE_METRICS = {"impressions": "page_media_view", "reach": "page_total_media_view_unique"}
PAGE_PERIOD = "days_28"
BATCH = 50  # Graph's limit for ?ids= lookups
NEEDS = ("read_insights", "pages_read_engagement")
NOT_SHARED = "Facebook shares insights only with the page's own admins (authorized streams)."


def metric_value(rows: list[dict], name: str) -> tuple[int | None, str | None]:
    """The latest value of metric ``name`` and its end time. Breakdowns may come as
    duplicated rows (e.g. ``is_from_ads``) or as a dict value: both are summed."""
    matching = [r for r in rows if r.get("name") == name]
    if not matching:
        return None, None
    total, end_time, found = 0, None, False
    for row in matching:
        values = row.get("values") or []
        if not values:
            continue
        latest = values[-1]
        value = latest.get("value")
        if isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, (int, float)))
        if isinstance(value, (int, float)):
            total += int(value)
            found = True
        end_time = latest.get("end_time", end_time)
    return (total if found else None), end_time


def _post_rows(client: GraphClient, story_ids: list[str]) -> dict[str, list[dict] | None]:
    """Insights rows per post; None for a post Facebook no longer knows."""
    fields = f"insights.metric({','.join(POST_METRICS.values())})"
    rows: dict[str, list[dict] | None] = {}
    for start in range(0, len(story_ids), BATCH):
        batch = story_ids[start:start + BATCH]
        try:
            nodes = client.get("/", {"ids": ",".join(batch), "fields": fields}, needs=NEEDS)
        except NotFound:
            # One deleted post fails the whole batch: ask one by one to keep the others.
            nodes = {}
            for story_id in batch:
                try:
                    nodes[story_id] = client.get(f"/{story_id}", {"fields": fields}, needs=NEEDS)
                except NotFound:
                    nodes[story_id] = None
        for story_id in batch:
            node = nodes.get(story_id)
            rows[story_id] = None if node is None else ((node.get("insights") or {}).get("data") or [])
    return rows


def metrics(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
            story_ids: list[str] | tuple[str, ...]) -> list[Figure]:
    """Post-level figures for ``story_ids`` and page-level figures for ``stream``."""
    story_ids = list(dict.fromkeys(story_ids or ()))
    if not stream.authorized or credentials is None:
        figures = [Figure(name, None, metric, "post", sid, NOT_SHARED)
                   for sid in story_ids for name, metric in POST_METRICS.items()]
        figures += [Figure(name, None, metric, "page", stream.page_id, NOT_SHARED)
                    for name, metric in PAGE_METRICS.items()]
        return figures
    client = GraphClient(config, credentials.access_token, bucket=stream.page_id)
    figures: list[Figure] = []
    sums = {name: 0 for name in POST_METRICS}
    counted = {name: 0 for name in POST_METRICS}
    for story_id, rows in _post_rows(client, story_ids).items():
        for name, metric in POST_METRICS.items():
            if rows is None:
                figures.append(Figure(name, None, metric, "post", story_id, "The post no longer exists on Facebook."))
                continue
            value, _ = metric_value(rows, metric)
            figures.append(Figure(name, value, metric, "post", story_id,
                                  None if value is not None else "Facebook reported no figure for this post."))
            if value is not None:
                sums[name] += value
                counted[name] += 1
    body = client.get(f"/{stream.page_id}/insights",
                      {"metric": ",".join(PAGE_METRICS.values()), "period": PAGE_PERIOD}, needs=NEEDS)
    for name, metric in PAGE_METRICS.items():
        value, end_time = metric_value(body.get("data") or [], metric)
        note = (f"Last 28 days, to {insights_day(end_time):%Y-%m-%d} (Facebook's days end at midnight "
                "Pacific time)." if end_time else "Facebook reported no figure for the page.")
        figures.append(Figure(name, value, metric, "page", stream.page_id, note))
    for name, metric in POST_METRICS.items():
        note = f"Sum over {counted[name]} posts."
        if name == "reach":
            note += " People who saw several posts are counted once per post."
        figures.append(Figure(f"{name}_from_posts", sums[name] if counted[name] else None, metric, "page",
                              stream.page_id, note))
    return figures
