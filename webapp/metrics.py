"""Metrics: post- and page-level figures of streams, refreshed on their own cadence.

Impressions and reach mean what the seed says, word for word (:data:`MEANINGS`); each
figure keeps the provider metric it came from, and a figure a service does not provide is stored as missing with the service's note, never
as a made-up 0.
"""
from __future__ import annotations

import datetime
import logging

from redis import RedisError

from streamdesk_contract.errors import ProviderError, RateLimited, TokenExpired
from streamdesk_contract.values import StreamRef

from . import queue
from .db import database, upsert
from .jobs import queue_due, with_database
from .models import Figure, Story, Stream, StreamGone, stream_for_job, utcnow
from .runtime import runtime, with_fresh_credentials
from .streams import Runtime

log = logging.getLogger(__name__)

#: Seconds between two refreshes of a stream's figures.
METRICS_INTERVAL = 3600
#: Post-level figures are read for this many of the stream's most recent stories.
RECENT_POSTS = 50
#: The figures shown first, with the seed's meanings.
HEADLINE = ("impressions", "reach")
#: Word for word from the seed (Considerations for Facebook Streams → Metrics), wherever
#: the UI explains them: the product promises these definitions, so they are not paraphrased.
MEANINGS = {
    "impressions": "The number of times your content was displayed to other users. An impression "
                   "indicates that the content was displayed on someone’s feed. The viewer however "
                   "doesn’t have to engage with the content in order for it to be counted towards an "
                   "impression.",
    "reach": "The number of people who interacted with your content. This is a more accurate "
             "representation of the engagement on your post since this is the number of users who "
             "actually engaged with the post.",
    "post": "Measures how well a specific post performed.",
    "page": "Measures how well a page performs, which is a combination of the individual post performance.",
}


#: One refresh per stream at a time.
METRICS_JOB = queue.StreamJob("metrics", "webapp.metrics.refresh_job", "default", timeout=600)


@with_database
def enqueue_due_metrics() -> int:
    """Cron: queue a refresh for every crawled stream whose figures are due (claimed and
    queued in batches, as crawls are: :func:`jobs.queue_due`)."""
    rt = runtime()
    services = [s for s in rt.plugins.services if rt.plugins.supports(s, "streamdesk_metrics")]
    try:
        with queue.connected(rt.settings.redis_url) as client:
            return queue_due(client, METRICS_JOB, Stream.next_metrics_at, Stream.status == "active",
                             Stream.service.in_(services))
    except RedisError as exc:
        log.warning("could not queue metrics: %s", exc)
        return 0


@with_database
def refresh_job(stream_id: int, key: str | None = None) -> str:
    """The metrics job: returns what happened (``gone`` when the stream with this id
    and key no longer exists)."""
    stream = stream_for_job(stream_id, key) if key else None
    if stream is None:
        return "gone"
    return refresh(runtime(), stream)


def refresh(rt: Runtime, stream: Stream) -> str:
    """Read and store the stream's figures; provider errors postpone, expiry expires."""
    if stream.status == "expired" or not rt.plugins.supports(stream.service, "streamdesk_metrics"):
        return "skipped"
    if stream.authorized and stream.credentials is None:
        return "skipped"  # the crawl decides what a missing token means
    story_ids = [s.external_id for s in Story.select(Story.external_id).where(Story.stream == stream)
                 .order_by(Story.created_at.desc()).limit(RECENT_POSTS)]
    ref = StreamRef(stream.page_id, stream.authorized, stream.handle)
    try:
        figures = with_fresh_credentials(rt, stream, lambda credentials: rt.call(
            "streamdesk_metrics", stream.service, stream=ref, credentials=credentials, story_ids=story_ids))
    except TokenExpired as exc:
        from .expiry import expire_stream

        expire_stream(rt, stream, exc.message)
        return "expired"
    except RateLimited as exc:
        _plan(stream, exc.retry_after)
        return "rate limited"
    except ProviderError as exc:
        log.warning("metrics of stream %s: %s", stream.id, exc.message)
        _plan(stream, METRICS_INTERVAL)
        return "error"
    now = utcnow()
    rows = [dict(stream=stream.id, level=f.level, object_id=f.object_id, name=f.name, value=f.value,
                 provider_metric=f.provider_metric, note=f.note, updated_at=now) for f in figures]
    with database.atomic():
        try:
            stream.hold()
        except StreamGone:
            log.info("stream %s was removed during its metrics refresh; nothing is written", stream.id)
            return "gone"
        upsert(Figure, ("stream_id", "level", "object_id", "name"), rows,
               ("value", "provider_metric", "note", "updated_at"))
        _plan(stream, METRICS_INTERVAL)
    return "refreshed"


def _plan(stream: Stream, seconds: float) -> None:
    later = utcnow() + datetime.timedelta(seconds=max(60, seconds))
    Stream.update(next_metrics_at=later).where(stream.this()).execute()


def page_figures(account) -> dict[int, list[Figure]]:
    """Page-level figures of the account's streams, headline figures first."""
    figures: dict[int, list[Figure]] = {}
    query = (Figure.select().join(Stream)
             .where(Stream.account == account, Figure.level == "page"))
    for figure in query:
        figures.setdefault(figure.stream_id, []).append(figure)
    for rows in figures.values():
        rows.sort(key=_order)
    return figures


def top_posts(streams, limit: int = 5) -> dict[int, list[tuple[Story, dict[str, Figure]]]]:
    """Per stream, the stories with the most impressions, each with its headline figures
    (two queries for all the streams, not two per stream)."""
    ids = [stream.id for stream in streams]
    figures: dict[int, dict[str, dict[str, Figure]]] = {}
    for figure in Figure.select().where(Figure.stream.in_(ids), Figure.level == "post", Figure.name.in_(HEADLINE)):
        figures.setdefault(figure.stream_id, {}).setdefault(figure.object_id, {})[figure.name] = figure

    def impressions(posts, story_id):
        value = posts[story_id].get("impressions")
        return value.value if value is not None and value.value is not None else -1

    chosen = {stream_id: sorted(posts, key=lambda sid: impressions(posts, sid), reverse=True)[:limit]
              for stream_id, posts in figures.items()}
    wanted = {sid for sids in chosen.values() for sid in sids}
    stories = {(s.stream_id, s.external_id): s for s in Story.select().where(
        Story.stream.in_(ids), Story.external_id.in_(list(wanted)))} if wanted else {}
    return {stream_id: [(stories[(stream_id, sid)], figures[stream_id][sid]) for sid in sids
                        if (stream_id, sid) in stories]
            for stream_id, sids in chosen.items()}


def _order(figure: Figure):
    base = figure.name.removesuffix("_from_posts")
    return (HEADLINE.index(base) if base in HEADLINE else len(HEADLINE), base, figure.name != base)
