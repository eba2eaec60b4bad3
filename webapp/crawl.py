"""Crawls: one background job brings one stream up to date.

The cursor moves in the same transaction as the rows it covers, so a worker killed at
any instant loses nothing and redoes at most one page. Rows are upserted by their
provider id, so a retried or duplicated job never duplicates anything.
"""
from __future__ import annotations

import contextlib
import datetime
import logging

from peewee import Case, fn
from rq.timeouts import JobTimeoutException
from streamdesk_contract.errors import PermissionMissing, ProviderError, RateLimited, TokenExpired
from streamdesk_contract.values import CrawlPage, Credentials, StreamRef

from . import conversations, metrics, queue, realtime
from .db import database, upsert
from .jobs import queue_due, with_database
from .models import (Comment, ConnectedProfile, Message, Story, Stream, StreamGap, StreamGone, Topic, TopicStream,
                     naive_utc, stream_for_job, utcnow)
from .prepared import Prepared, slot
from .readahead import read_ahead
from .runtime import runtime, with_fresh_credentials
from .streams import Runtime

log = logging.getLogger(__name__)

#: Seconds to wait after a provider failure before trying again: soon after a first
#: failure (most 5xx storms are short), longer while the stream keeps failing.
RETRY_SOON = 60
RETRY_AFTER_FAILURE = 600
#: Crawled rows are unique per stream and provider id: a re-crawl updates, never duplicates.
BY_PROVIDER_ID = ("stream_id", "external_id")


#: One crawl per stream at a time, on the crawl queue (a backlog never delays the schedule).
CRAWL_JOB = queue.StreamJob("crawl", "webapp.crawl.crawl_stream", "crawl", timeout=1800)
job_id, enqueue_crawl, queue_crawl = CRAWL_JOB.job_id, CRAWL_JOB.enqueue, CRAWL_JOB.queue_from


@with_database
def enqueue_due_crawls() -> int:
    """Cron: queue every stream whose next crawl is due. Returns how many were queued.

    First the crawls that died since the last pass (their work-horse killed, over their
    time limit, their worker lost) are found in RQ's registries: their streams say so
    and are due at once. Then the due streams are claimed in one statement, which moves
    their next crawl past the queued-job TTL (so a second pass, even one running at the
    same moment, skips them; the crawl sets the real next time when it ends), and
    queued in pipelined batches.
    """
    rt = runtime()
    with queue.connected(rt.settings.redis_url) as client:
        for stream_id, key, why in queue.interrupted(client, CRAWL_JOB):
            # Not "crawling" any more: queued again, and active meanwhile if it ever crawled.
            Stream.update(status=Case(None, [((Stream.status == "crawling") & Stream.last_crawled_at.is_null(), "queued"),
                                             (Stream.status == "crawling", "active")], Stream.status),
                          status_message=f"The last crawl was interrupted ({why}); it was queued again.",
                          next_crawl_at=None).where((Stream.id == stream_id) & (Stream.job_key == key)).execute()
        return queue_due(client, CRAWL_JOB, Stream.next_crawl_at, Stream.status != "expired")


@with_database
def crawl_stream(stream_id: int, key: str | None = None) -> str:
    """The crawl job: returns the stream's status afterwards.

    A job whose stream is gone, or whose key is not the stream's (a job queued before
    keys existed, or for a removed stream), does nothing: the schedule queues a new one.
    """
    stream = stream_for_job(stream_id, key) if key else None
    if stream is None:
        log.info("crawl job for stream %s: the stream is gone", stream_id)
        return "gone"
    return crawl(runtime(), stream)


def crawl(rt: Runtime, stream: Stream) -> str:
    """Bring ``stream`` up to date; maps every provider error to one behaviour.

    An expired stream is left alone: it crawls again only after a reconnect.
    """
    if stream.status == "expired":
        return "expired"
    retry = RETRY_AFTER_FAILURE if stream.status == "error" else RETRY_SOON
    if stream.authorized and stream.credentials is None:
        return _without_token(rt, stream)
    # "crawling" is for whoever waits on the crawl: a first crawl, "Crawl now", a retry.
    # An active stream's scheduled re-crawl stays "active" (its row shows when it was
    # last crawled and when it will be next): one UPDATE fewer on every idle re-crawl.
    if stream.status != "active":
        _set(stream, status="crawling")
    try:
        with_fresh_credentials(rt, stream, lambda credentials: _pull(rt, stream, credentials))
        _finish(rt, stream)
    except StreamGone:
        log.info("stream %s was removed during its crawl; nothing more is written", stream.id)
        return "gone"
    except TokenExpired as exc:
        from .expiry import expire_stream

        expire_stream(rt, stream, exc.message)
        return "expired"
    except RateLimited as exc:
        # Not a failure: the stream stays as it was and is crawled when the provider allows.
        _set(stream, status="active" if stream.last_crawled_at else "queued",
             status_message=f"Waiting for {rt.label(stream.service)}'s rate limit until "
                            f"{_later(exc.retry_after):%H:%M} UTC.",
             next_crawl_at=_later(exc.retry_after))
        return "rate limited"
    except PermissionMissing as exc:
        # The stream names the permission and offers to grant it; crawls go on being
        # tried meanwhile, since it can also be switched back on at the provider.
        _set(stream, status="permission", status_message=exc.message, missing_permission=exc.permission[:64],
             next_crawl_at=_later(RETRY_AFTER_FAILURE))
        return "permission"
    except ProviderError as exc:
        _set(stream, status="error", status_message=exc.message, next_crawl_at=_later(retry))
        return "error"
    except JobTimeoutException:
        raise  # the job's time is up: RQ records it, and the next cron pass queues it again
    except Exception:  # a plugin bug: logged, shown as an error, retried later
        log.exception("crawl of stream %s failed", stream.id)
        _set(stream, status="error", status_message="The last crawl failed unexpectedly; it will be retried.",
             next_crawl_at=_later(retry))
        return "error"
    if stream.next_metrics_at is None:
        _first_figures(rt, stream)
    realtime.renew_if_due(rt, stream)
    return "active"


def _finish(rt: Runtime, stream: Stream) -> None:
    """The end of a successful crawl: one UPDATE of the stream, in one transaction with
    the rare extras (a gap left by an expiry, the connected profile's last success).
    Raises StreamGone when the stream was removed meanwhile."""
    next_at = _later(interval_of(rt, stream))
    gap = stream.expired_at is not None
    profile = stream.authorized and stream.connected_profile_id is not None
    # A lone UPDATE is atomic by itself: the transaction (BEGIN IMMEDIATE … COMMIT, two
    # more statements on every idle re-crawl) is only for the extras.
    with database.atomic() if gap or profile else contextlib.nullcontext():
        if gap:
            stream.hold()  # the gap row needs its stream: removed meanwhile, nothing is written
            record_gap(rt, stream)
        if profile:
            ConnectedProfile.update(last_success_at=utcnow()).where(
                ConnectedProfile.id == stream.connected_profile_id).execute()
        # The cursor of the last pages (pages of no rows) is written here, with the rest.
        now = utcnow()
        # Its row count tells whether the stream was removed while the provider answered
        # (an idle re-crawl writes nothing before this).
        if not _CRAWLED.execute(at=now, next_at=next_at, cursor=stream.cursor, stream_id=stream.id,
                                key=stream.job_key):
            raise StreamGone(f"stream {stream.id} was removed")
        stream.status, stream.status_message, stream.expired_at = "active", None, None
        stream.last_crawled_at, stream.next_crawl_at = now, next_at


#: Every good crawl ends with it: its SQL is built once (webapp/prepared.py).
_CRAWLED = Prepared(lambda: Stream.update(status="active", status_message=None, expired_at=None,
                                          last_crawled_at=slot("at"), next_crawl_at=slot("next_at"),
                                          cursor=slot("cursor"))
                    .where((Stream.id == slot("stream_id")) & (Stream.job_key == slot("key"))))


def _first_figures(rt: Runtime, stream: Stream) -> None:
    """After a stream's first crawl, its figures at once, in this job: they need not wait
    an hour, nor a second job. A failure here is the metrics schedule's to retry."""
    try:
        metrics.refresh(rt, stream)
    except JobTimeoutException:
        raise
    except Exception:  # a plugin bug must not turn a good crawl into a failed job
        log.exception("first metrics of stream %s failed; the metrics schedule retries", stream.id)


def interval_of(rt: Runtime, stream: Stream) -> int:
    """Seconds until the stream's next crawl: the shortest that a topic holding it asks
    for (a topic without an interval of its own asks for CRAWL_INTERVAL), or
    REALTIME_CRAWL_INTERVAL while its webhooks are healthy (webapp/realtime.py)."""
    default = rt.settings.crawl_interval
    polling = _SHORTEST_INTERVAL.scalar(default=default, stream_id=stream.id) or default
    # Healthy page webhooks bring the news: the crawl is then only the net, run seldom.
    return realtime.crawl_interval(rt, stream, polling) if stream.realtime == "on" else polling


#: Every crawl ends with it: its SQL is built once (webapp/prepared.py).
_SHORTEST_INTERVAL = Prepared(lambda: TopicStream.select(fn.MIN(fn.COALESCE(Topic.crawl_interval, slot("default"))))
                              .join(Topic).where(TopicStream.stream == slot("stream_id")))


def record_gap(rt: Runtime, stream: Stream) -> StreamGap | None:
    """After the first crawl since a reconnect: what was posted while the stream was
    expired has been fetched back, as far as the provider lets a crawl reach. Anything
    older than that window is stored as a gap, so it shows instead of a silent hole."""
    loaded = rt.plugins.get(stream.service)
    days = loaded.service.catch_up_days if loaded else None
    reach = utcnow() - datetime.timedelta(days=days) if days else None
    if reach is None or stream.expired_at >= reach:
        return None
    label = rt.label(stream.service)
    return StreamGap.create(stream=stream.id, starts_at=stream.expired_at, ends_at=reach,
                            reason=f"{label} lets a crawl reach back only {days} days: what was posted while "
                                   "the stream was expired before then could not be fetched.")


def _without_token(rt: Runtime, stream: Stream) -> str:
    """An authorized stream must never fall back to public access: without its token it
    expires (profile gone) or waits for a fix (the token cannot be decrypted here)."""
    from .expiry import expire_stream

    if stream.connected_profile_id is None:
        expire_stream(rt, stream, "The connected profile behind this stream was disconnected or removed. "
                                  "Reconnect it to go on crawling.")
        return "expired"
    _set(stream, status="error", next_crawl_at=_later(RETRY_AFTER_FAILURE),
         status_message="The stream's token cannot be read with this server's TOKEN_KEY. "
                        "Check TOKEN_KEY on every machine, or reconnect the stream.")
    return "error"


def _pull(rt: Runtime, stream: Stream, credentials: Credentials | None) -> None:
    """Fetch page after page, storing each page's rows with its cursor; the next page
    is fetched while one is being stored."""
    pages = rt.call("streamdesk_crawl", stream.service,
                    stream=StreamRef(stream.page_id, stream.authorized, stream.handle),
                    credentials=credentials, cursor=stream.cursor)
    for page in read_ahead(pages):
        if page.stories or page.comments or page.messages:
            with database.atomic():
                stream.hold()  # removed while the provider answered: write nothing
                ingest(stream, page, move_cursor=True)
        # A page of no rows (an idle re-crawl's, mostly) stores nothing: its cursor is
        # written by the crawl's last UPDATE (_finish) or by the next page's ingest. A
        # crawl that stops before then reads the same empty page again next time.
        stream.cursor = page.cursor


def _later(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=max(1, seconds))


def _set(stream: Stream, **fields) -> None:
    Stream.update(**fields).where(stream.this()).execute()
    for name, value in fields.items():
        setattr(stream, name, value)


def ingest(stream: Stream, page: CrawlPage, move_cursor: bool = False) -> int:
    """Upsert one crawl page's stories, comments and messages by their provider ids,
    and count the new stories into the stream's ``story_count`` (with ``move_cursor``,
    the same UPDATE moves the stream's cursor to the page's); returns how many stories
    were new. Call it inside the transaction that holds the stream."""
    stories = [dict(stream=stream.id, external_id=s.external_id, created_at=naive_utc(s.created_at),
                    updated_at=naive_utc(s.updated_at), text=s.text or "", author_id=s.author_id,
                    author_name=s.author_name, url=s.url, raw_type=s.raw_type, is_hidden=s.is_hidden)
               for s in page.stories]
    comments = [dict(stream=stream.id, external_id=c.external_id, story_external_id=c.story_id,
                     parent_external_id=c.parent_id, created_at=naive_utc(c.created_at), text=c.text or "",
                     author_id=c.author_id, author_name=c.author_name, is_hidden=c.is_hidden)
                for c in page.comments]
    messages = [dict(stream=stream.id, external_id=m.external_id, conversation_id=m.conversation_id,
                     created_at=naive_utc(m.created_at), text=m.text or "", sender_id=m.sender_id,
                     sender_name=m.sender_name)
                for m in page.messages]
    added = upsert(Story, BY_PROVIDER_ID, stories, ("updated_at", "text", "is_hidden", "url"), count_new=True)
    upsert(Comment, BY_PROVIDER_ID, comments, ("text", "is_hidden"))
    # The conversation too: a message a webhook stored first may have been filed under
    # the sender until the crawl names its conversation.
    upsert(Message, BY_PROVIDER_ID, messages, ("text", "conversation_id"))
    conversations.track(stream, page)
    moved = {Stream.cursor: page.cursor} if move_cursor else {}
    if added:
        moved[Stream.story_count] = Stream.story_count + added
    if moved:  # one statement per page for the stream row: a crawl writes hundreds of pages
        Stream.update(moved).where(stream.this()).execute()
    return added
