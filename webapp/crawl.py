"""Crawls: one background job brings one stream up to date.

The cursor moves in the same transaction as the rows it covers, so a worker killed at
any instant loses nothing and redoes at most one page. Rows are upserted by their
provider id, so a retried or duplicated job never duplicates anything.
"""
from __future__ import annotations

import datetime
import logging
from functools import lru_cache

from peewee import fn
from streamdesk_contract.errors import PermissionMissing, ProviderError, RateLimited, TokenExpired
from streamdesk_contract.values import CrawlPage, Credentials, StreamRef

from . import queue
from .config import load_settings
from .db import database, upsert
from .jobs import with_database
from .pauses import Pauses
from .pauses import scopes as pause_scopes
from .models import (Comment, ConnectedProfile, Message, Story, Stream, StreamGap, StreamGone, Topic, TopicStream,
                     naive_utc,
                     token_columns, utcnow)
from .plugins import Plugins
from .streams import Runtime

log = logging.getLogger(__name__)

#: Seconds to wait after a provider failure before trying again.
RETRY_AFTER_FAILURE = 600
#: Refresh a token this long before it expires.
REFRESH_MARGIN = datetime.timedelta(minutes=10)
#: Crawled rows are unique per stream and provider id: a re-crawl updates, never duplicates.
BY_PROVIDER_ID = ("stream_id", "external_id")


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """Settings and plugins of this worker process, loaded once."""
    return Runtime(load_settings(), Plugins())


#: One crawl per stream at a time, on the crawl queue (a backlog never delays the schedule).
CRAWL_JOB = queue.StreamJob("crawl", "webapp.crawl.crawl_stream", "crawl", timeout=1800)
job_id, enqueue_crawl, queue_crawl = CRAWL_JOB.job_id, CRAWL_JOB.enqueue, CRAWL_JOB.queue_from


@with_database
def enqueue_due_crawls() -> int:
    """Cron: queue every stream whose next crawl is due. Returns how many were queued."""
    rt = runtime()
    due = (Stream.select(Stream.id, Stream.job_key)
           .where(Stream.status != "expired",
                  (Stream.next_crawl_at.is_null()) | (Stream.next_crawl_at <= utcnow())))
    with queue.connected(rt.settings.redis_url) as client:
        return sum(enqueue_crawl(client, stream.id, stream.job_key) for stream in due)


@with_database
def crawl_stream(stream_id: int, key: str | None = None) -> str:
    """The crawl job: returns the stream's status afterwards.

    A job whose stream is gone, or whose key is not the stream's (a job queued before
    keys existed, or for a removed stream), does nothing: the schedule queues a new one.
    """
    stream = Stream.get_or_none((Stream.id == stream_id) & (Stream.job_key == key)) if key else None
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
    if stream.authorized and stream.credentials is None:
        return _without_token(rt, stream)
    _set(stream, status="crawling")
    try:
        with_fresh_credentials(rt, stream, lambda credentials: _pull(rt, stream, credentials))
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
             status_message=f"Paused by a rate limit until {_later(exc.retry_after):%H:%M} UTC.",
             next_crawl_at=_later(exc.retry_after))
        return "rate limited"
    except PermissionMissing as exc:
        # The stream names the permission and offers to grant it; crawls go on being
        # tried meanwhile, since it can also be switched back on at the provider.
        _set(stream, status="permission", status_message=exc.message, missing_permission=exc.permission[:64],
             next_crawl_at=_later(RETRY_AFTER_FAILURE))
        return "permission"
    except ProviderError as exc:
        _set(stream, status="error", status_message=exc.message, next_crawl_at=_later(RETRY_AFTER_FAILURE))
        return "error"
    except Exception:  # a plugin bug: logged, shown as an error, retried later
        log.exception("crawl of stream %s failed", stream.id)
        _set(stream, status="error", status_message="The last crawl failed unexpectedly; it will be retried.",
             next_crawl_at=_later(RETRY_AFTER_FAILURE))
        return "error"
    if stream.expired_at is not None:
        record_gap(rt, stream)
    if stream.authorized and stream.connected_profile_id is not None:
        ConnectedProfile.update(last_success_at=utcnow()).where(
            ConnectedProfile.id == stream.connected_profile_id).execute()
    _set(stream, status="active", status_message=None, last_crawled_at=utcnow(),
         next_crawl_at=_later(interval_of(rt, stream)), expired_at=None)
    if stream.next_metrics_at is None:  # first crawl done: its figures need not wait an hour
        from .metrics import queue_metrics

        queue_metrics(rt.settings, stream)
    return "active"


def interval_of(rt: Runtime, stream: Stream) -> int:
    """Seconds until the stream's next crawl: the shortest that a topic holding it asks
    for (a topic without an interval of its own asks for CRAWL_INTERVAL)."""
    default = rt.settings.crawl_interval
    shortest = (TopicStream.select(fn.MIN(fn.COALESCE(Topic.crawl_interval, default))).join(Topic)
                .where(TopicStream.stream == stream.id).scalar())
    return shortest or default


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


def with_fresh_credentials(rt: Runtime, stream: Stream, call):
    """``call(credentials)`` with the stream's token, refreshed when due — every
    provider call of a crawl or metrics job goes through here.

    While the service or this token is paused by a rate limit (told to any job, in any
    worker), nothing is called: RateLimited is raised at once. A rate limit met here
    pauses the others in turn. A rotating-token service may refuse an access token
    before its stated expiry: then one forced refresh and one more try; TokenExpired
    escapes only if that fails too.
    """
    pauses = shared_pauses(rt.settings.redis_url)
    keys = pause_scopes(stream.service, stream.credentials)
    pauses.check(keys, rt.label(stream.service))
    try:
        try:
            return call(_fresh_credentials(rt, stream))
        except TokenExpired:
            if not _refreshable(rt, stream):
                raise
            return call(_fresh_credentials(rt, stream, force=True))
    except RateLimited as exc:
        pauses.record(keys, exc)
        raise


@lru_cache(maxsize=4)
def shared_pauses(redis_url: str | None) -> Pauses:
    """The rate-limit pauses of this process's queue server (none without one)."""
    if not redis_url:
        return Pauses(None)
    try:
        return Pauses(queue.connect(redis_url))
    except queue.QueueUnavailable as exc:
        log.warning("rate-limit pauses are not shared: %s", exc)
        return Pauses(None)


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
    """Fetch page after page, storing each page's rows with its cursor."""
    pages = rt.call("streamdesk_crawl", stream.service,
                    stream=StreamRef(stream.page_id, stream.authorized, stream.handle),
                    credentials=credentials, cursor=stream.cursor)
    for page in pages:
        with database.atomic():
            stream.hold()  # removed while the provider answered: write nothing
            ingest(stream, page)
            Stream.update(cursor=page.cursor).where(stream.this()).execute()
        stream.cursor = page.cursor


def _later(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=max(1, seconds))


def _set(stream: Stream, **fields) -> None:
    Stream.update(**fields).where(stream.this()).execute()
    for name, value in fields.items():
        setattr(stream, name, value)


def _refreshable(rt: Runtime, stream: Stream) -> bool:
    credentials = stream.credentials
    return bool(credentials and credentials.refresh_token
                and rt.plugins.supports(stream.service, "streamdesk_refresh"))


def _fresh_credentials(rt: Runtime, stream: Stream, force: bool = False) -> Credentials | None:
    """The stream's credentials, refreshed first when they are about to expire (or when
    ``force`` is set). A refreshed token and its rotated refresh token are stored
    before they are used, so a crash cannot lose the only valid refresh token.
    """
    credentials = stream.credentials
    if not _refreshable(rt, stream):
        return credentials
    due = credentials.expires_at is not None and credentials.expires_at - REFRESH_MARGIN <= utcnow()
    if not (force or due):
        return credentials
    try:
        fresh = rt.call("streamdesk_refresh", stream.service, credentials=credentials)
    except TokenExpired:
        # Refresh tokens rotate: another crawl sharing this profile may have used ours a
        # moment ago. Its fresh token is then in the database, and nothing expired.
        current = Stream.get_by_id(stream.id).credentials
        if current is None or current.refresh_token == credentials.refresh_token:
            raise
        return current
    if fresh is None:
        return credentials
    columns = token_columns(fresh)
    # Services that do not rotate refresh tokens return none: keep the one we have.
    columns["refresh_token"] = fresh.refresh_token or credentials.refresh_token
    columns["scopes"] = columns["scopes"] or ",".join(credentials.scopes)
    if stream.access_token:
        _set(stream, **columns)
    elif stream.connected_profile_id is not None:
        ConnectedProfile.update(updated_at=utcnow(), **columns).where(
            ConnectedProfile.id == stream.connected_profile_id).execute()
    return fresh


def ingest(stream: Stream, page: CrawlPage) -> int:
    """Upsert one crawl page's stories, comments and messages by their provider ids,
    and count the new stories into the stream's ``story_count``; returns how many
    stories were new. Call it inside the transaction that holds the stream."""
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
    upsert(Message, BY_PROVIDER_ID, messages, ("text",))
    if added:
        Stream.update(story_count=Stream.story_count + added).where(stream.this()).execute()
    return added
