"""Metrics: post- and page-level figures of streams, refreshed on their own cadence.

Impressions and reach mean what the seed says, word for word (:data:`MEANINGS`); each
figure keeps the provider metric it came from, and a figure a service does not provide is stored as missing with the service's note, never
as a made-up 0. What a refresh keeps besides the latest figures (snapshots, the daily
roll-up, story views and engagements) is :mod:`webapp.history`'s.
"""
from __future__ import annotations

import datetime
import logging

from redis import RedisError

from streamdesk_contract.errors import ProviderError, RateLimited, TokenExpired
from streamdesk_contract.values import StreamRef

from . import history, queue
from .db import database
from .jobs import queue_due, with_database
from .models import Story, Stream, StreamGone, stream_for_job, utcnow
from .runtime import runtime, with_fresh_credentials
from .streams import Runtime

log = logging.getLogger(__name__)

#: Seconds between two refreshes of a stream's figures.
METRICS_INTERVAL = 3600
#: Post-level figures are read for this many of the stream's most recent stories.
RECENT_POSTS = 50
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
    recent = list(Story.select(Story.external_id, Story.created_at).where(Story.stream == stream)
                  .order_by(Story.created_at.desc()).limit(RECENT_POSTS).tuples())
    story_ids = [external_id for external_id, _ in recent]
    ref = StreamRef(stream.page_id, stream.authorized, stream.handle)
    since = history.history_since(stream)
    try:
        figures = with_fresh_credentials(rt, stream, lambda credentials: rt.call(
            "streamdesk_metrics", stream.service, stream=ref, credentials=credentials, story_ids=story_ids,
            history_since=since))
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
    with database.atomic():
        try:
            stream.hold()
        except StreamGone:
            log.info("stream %s was removed during its metrics refresh; nothing is written", stream.id)
            return "gone"
        history.record(stream, figures, min((at for _, at in recent), default=None), utcnow())
        _plan(stream, METRICS_INTERVAL)
    return "refreshed"


def _plan(stream: Stream, seconds: float) -> None:
    later = utcnow() + datetime.timedelta(seconds=max(60, seconds))
    Stream.update(next_metrics_at=later).where(stream.this()).execute()
