"""Real time: subscribing authorized streams' pages to the provider's webhooks, and
whether those webhooks are healthy enough to crawl a stream less often.

Subscribing is a job (:func:`subscribe_stream`), queued when an authorized stream is
added or reconnected, never run in the web request: it calls the provider through the
plugin's ``streamdesk_webhook_subscribe`` hook. Removing the last stream of a page
queues :func:`unsubscribe_page` with the token sealed (it leaves the database with the
stream), whether the stream left its last topic or the topic was deleted; a stream left
"subscribing" by a lost job is queued again by the cron (:func:`requeue_lost`). A stream whose subscription is "on" is *healthy* while its service's endpoint
passed the provider's verification (and was not refused since) and the page had an
event, or a successful subscription, within ``REALTIME_SILENCE``; then it is crawled
every ``REALTIME_CRAWL_INTERVAL`` (the crawl stays the net for what a webhook missed),
else at the normal interval.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

import redis
from peewee import fn
from rq import Queue
from streamdesk_contract.errors import PermissionMissing, ProviderError, TokenExpired
from streamdesk_contract.values import Credentials, StreamRef

from . import crypto, queue
from .jobs import with_database
from .models import Heartbeat, Stream, WebhookEvent, stream_for_job, utcnow
from .runtime import runtime, with_fresh_credentials
from .services import webhook_url
from .streams import Runtime

log = logging.getLogger(__name__)

HOOK = "streamdesk_webhook_subscribe"
#: One subscription job per stream at a time.
SUBSCRIBE_JOB = queue.StreamJob("realtime", "webapp.realtime.subscribe_stream", "default", timeout=120)
#: A stream "subscribing" for longer lost its job (requeue_lost queues it again).
LOST_AFTER = datetime.timedelta(minutes=5)
#: Shown on a stream whose token lacks what subscribing needs.
PERMISSION_OFF = "real-time off: permission missing"


def verified_key(service: str) -> str:
    """The heartbeat the receiver records when the provider's verification passes."""
    return f"webhook-verified:{service}"


def refused_key(service: str) -> str:
    """The heartbeat recorded when a verification was refused (wrong verify token)."""
    return f"webhook-refused:{service}"


def supports(rt: Runtime, stream: Stream) -> bool:
    """Whether the stream's page can be subscribed (authorized, and the plugin can)."""
    return bool(stream.authorized) and rt.plugins.supports(stream.service, HOOK)


def queue_subscribe(rt: Runtime, stream: Stream) -> bool:
    """After an Add or a reconnect: mark the stream "subscribing" and queue the job.
    False when there is nothing to subscribe or no reachable queue."""
    if not supports(rt, stream):
        return False
    # realtime_at says since when: a job lost on the way is queued again (requeue_lost).
    Stream.update(realtime="subscribing", realtime_message=None, realtime_at=utcnow()).where(stream.this()).execute()
    return queue.enqueue_from(rt.settings, SUBSCRIBE_JOB.enqueue, stream.id, stream.job_key)


@with_database
def requeue_lost() -> int:
    """Cron: queue the subscription job again for every stream still "subscribing"
    LOST_AFTER after it was queued (the queue was down, or the job died with its
    worker); a job still queued or running is not queued twice. Returns how many were."""
    rt = runtime()
    lost = list(Stream.select(Stream.id, Stream.job_key)
                .where((Stream.realtime == "subscribing") & (Stream.realtime_at < utcnow() - LOST_AFTER)))
    if not lost or not rt.settings.redis_url:
        return 0
    with queue.connected(rt.settings.redis_url) as client:
        queued = queue.enqueue_streams(client, SUBSCRIBE_JOB, [(s.id, s.job_key) for s in lost])
        # Counted from now: the next look is LOST_AFTER later, not on every cron pass.
        Stream.update(realtime_at=utcnow()).where(Stream.id.in_([s.id for s in lost])
                                                  & (Stream.realtime == "subscribing")).execute()
    if queued:
        log.info("queued %d lost real-time subscription job(s) again", queued)
    return queued


def renew_if_due(rt: Runtime, stream: Stream) -> bool:
    """After a crawl: an idle page's subscription is confirmed again (one provider call,
    in a job) once half of REALTIME_SILENCE passed since the last success, so a page
    with no news stays "real-time" while Graph still has it subscribed."""
    if stream.realtime != "on" or stream.realtime_at is None:
        return False
    if utcnow() - stream.realtime_at < datetime.timedelta(seconds=rt.settings.realtime_silence / 2):
        return False
    return queue.enqueue_from(rt.settings, SUBSCRIBE_JOB.enqueue, stream.id, stream.job_key)


@with_database
def subscribe_stream(stream_id: int, key: str) -> str:
    """The job: subscribe the stream's page; returns the stream's ``realtime`` after."""
    stream = stream_for_job(stream_id, key)
    if stream is None:
        return "gone"
    return subscribe(runtime(), stream)


def subscribe(rt: Runtime, stream: Stream) -> str:
    """Subscribe ``stream``'s page through its plugin and record the outcome: "on",
    "permission" (polling goes on; the stream says so) or "error"."""
    if not supports(rt, stream) or stream.status == "expired":
        return stream.realtime or "off"
    ref = StreamRef(page_id=stream.page_id, authorized=True, handle=stream.handle)
    try:
        fields = with_fresh_credentials(rt, stream, lambda credentials: rt.call(
            HOOK, stream.service, stream=ref, credentials=credentials, subscribe=True))
    except PermissionMissing as exc:
        return _record(stream, "permission", f"{PERMISSION_OFF} ({exc.permission})")
    except TokenExpired:
        return _record(stream, "error", "real-time off: the token was refused")
    except ProviderError as exc:
        return _record(stream, "error", f"real-time off: {exc.message}"[:500])
    if fields is None:
        return _record(stream, None, None)
    return _record(stream, "on", None, at=utcnow())


def _record(stream: Stream, realtime: str | None, message: str | None, at=None) -> str:
    values = {Stream.realtime: realtime, Stream.realtime_message: message}
    if at is not None:
        values[Stream.realtime_at] = at
    Stream.update(values).where(stream.this()).execute()
    return realtime or "off"


@dataclass(frozen=True)
class Farewell:
    """What unsubscribing a removed stream's page needs (its token sealed)."""

    service: str
    page_id: str
    sealed_token: str


def farewells(rt: Runtime, streams) -> list[Farewell]:
    """Before ``streams`` are removed (a stream taken out of its last topic, or a deleted
    topic's streams no other topic holds): what to unsubscribe afterwards — the pages
    subscribed (or subscribing) that no other authorized stream of any account has.
    One query for the other streams, whatever their number."""
    leaving = [s for s in streams if s.realtime in ("on", "subscribing") and supports(rt, s)]
    if not leaving:
        return []
    ids = [s.id for s in leaving]
    kept = set(Stream.select(Stream.service, Stream.page_id)
               .where(Stream.page_id.in_(sorted({s.page_id for s in leaving})) & Stream.authorized
                      & Stream.id.not_in(ids)).tuples())
    byes, seen = [], set()
    for stream in leaving:
        page, credentials = (stream.service, stream.page_id), stream.credentials
        if page in kept or page in seen or credentials is None:
            continue
        seen.add(page)
        byes.append(Farewell(stream.service, stream.page_id, crypto.encrypt(credentials.access_token)))
    return byes


def queue_unsubscribe(rt: Runtime, byes: list[Farewell]) -> int:
    """Queue :func:`unsubscribe_page` for each of ``byes`` (after the removal committed),
    in one pipeline; returns how many were queued (0 without a reachable queue: the
    provider's deliveries for those pages are then dropped, with a log line each)."""
    if not byes or not rt.settings.redis_url:
        return 0
    try:
        with queue.connected(rt.settings.redis_url) as client:
            queue.queue(client).enqueue_many([Queue.prepare_data(
                "webapp.realtime.unsubscribe_page", (bye.service, bye.page_id, bye.sealed_token), result_ttl=0,
                failure_ttl=queue.FAILURE_TTL, ttl=queue.QUEUED_TTL, timeout=120) for bye in byes])
        return len(byes)
    except (queue.QueueUnavailable, redis.RedisError) as exc:  # the removal is done already
        log.warning("could not queue unsubscribing %s: %s", ", ".join(f"{b.service} page {b.page_id}" for b in byes),
                    type(exc).__name__)
        return 0


@with_database
def unsubscribe_page(service: str, page_id: str, sealed_token: str) -> str:
    """The job: unsubscribe a page no stream holds any more (unless one was added
    meanwhile). A refusal is logged: the deliveries that still come are dropped."""
    rt = runtime()
    if Stream.select().where((Stream.service == service) & (Stream.page_id == page_id) & Stream.authorized).exists():
        return "kept"
    ref = StreamRef(page_id=page_id, authorized=True)
    try:
        rt.call(HOOK, service, stream=ref, credentials=Credentials(crypto.decrypt(sealed_token)), subscribe=False)
    except ProviderError as exc:
        log.info("unsubscribing %s page %s failed: %s", service, page_id, exc.message)
        return "failed"
    return "unsubscribed"


# --- health ------------------------------------------------------------------------

@dataclass(frozen=True)
class Health:
    """Whether a stream may rely on webhooks, and why (shown in the stream list)."""

    realtime: bool
    why: str


def endpoint_verified(service: str):
    """When the provider's verification of the service's endpoint last passed (None:
    never, or refused since)."""
    return endpoints_verified([service])[service]


def endpoints_verified(services) -> dict:
    """:func:`endpoint_verified` of each of ``services``, in one query."""
    services = sorted(set(services))
    keys = [key for service in services for key in (verified_key(service), refused_key(service))]
    beats = {b.name: b.ran_at for b in Heartbeat.select().where(Heartbeat.name.in_(keys))} if keys else {}
    verified = {}
    for service in services:
        passed, refused = beats.get(verified_key(service)), beats.get(refused_key(service))
        verified[service] = None if passed is None or (refused is not None and refused > passed) else passed
    return verified


def last_event_at(service: str, page_id: str):
    """When the page's latest webhook event arrived (None: none kept)."""
    return (WebhookEvent.select(fn.MAX(WebhookEvent.received_at))
            .where((WebhookEvent.service == service) & (WebhookEvent.page_id == page_id)).scalar())


def health(rt: Runtime, stream: Stream, now=None) -> Health:
    """Whether ``stream``'s webhooks are healthy, with the reason either way."""
    if stream.realtime != "on":
        return _judge(rt, stream, None, None, now)
    return _judge(rt, stream, endpoint_verified(stream.service), last_event_at(stream.service, stream.page_id), now)


def _judge(rt: Runtime, stream: Stream, verified_at, last_event, now=None) -> Health:
    """:func:`health` from what was read for it (for many streams, read once)."""
    if stream.realtime != "on":
        if stream.realtime in ("permission", "error"):
            return Health(False, stream.realtime_message or "real-time off")
        if stream.realtime == "subscribing":
            return Health(False, "subscribing to real-time updates")
        return Health(False, "no real-time updates for this stream")
    if verified_at is None:
        return Health(False, "the webhook endpoint has not passed the provider's verification")
    now = now or utcnow()
    silence = datetime.timedelta(seconds=rt.settings.realtime_silence)
    latest = max(filter(None, (last_event, stream.realtime_at)), default=None)
    if latest is None or now - latest > silence:
        return Health(False, f"webhooks silent for over {_span(rt.settings.realtime_silence)}")
    return Health(True, "webhooks healthy")


def crawl_interval(rt: Runtime, stream: Stream, polling: int) -> int:
    """Seconds to the next crawl: ``polling`` (the topics' interval), lengthened to
    REALTIME_CRAWL_INTERVAL while the stream's webhooks are healthy."""
    if stream.realtime != "on" or not health(rt, stream).realtime:
        return polling
    return max(polling, rt.settings.realtime_crawl_interval)


def _span(seconds: int) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min"



@dataclass(frozen=True)
class CrawlMode:
    """How a stream learns of news, for the stream list: "real-time" or "polling every
    N min", and why."""

    realtime: bool
    label: str
    why: str


def crawl_modes(rt: Runtime, streams) -> dict[int, CrawlMode]:
    """The crawl mode of each of ``streams`` by id: one query for their intervals and,
    when some are subscribed, one for the endpoints' verification and one for the
    pages' last events (never a query per stream)."""
    from .models import Topic, TopicStream

    streams = list(streams)
    if not streams:
        return {}
    default = rt.settings.crawl_interval
    polling = dict(TopicStream.select(TopicStream.stream, fn.MIN(fn.COALESCE(Topic.crawl_interval, default)))
                   .join(Topic).where(TopicStream.stream.in_([s.id for s in streams]))
                   .group_by(TopicStream.stream).tuples())
    on = [s for s in streams if s.realtime == "on"]
    verified = endpoints_verified(s.service for s in on)
    last_events = {}
    if on:
        last_events = {(service, page): at for service, page, at in
                       WebhookEvent.select(WebhookEvent.service, WebhookEvent.page_id, fn.MAX(WebhookEvent.received_at))
                       .where(WebhookEvent.page_id.in_(sorted({s.page_id for s in on})))
                       .group_by(WebhookEvent.service, WebhookEvent.page_id).tuples()}
    modes = {}
    for stream in streams:
        every = polling.get(stream.id) or default
        if not stream.authorized:
            state = Health(False, "public page: the provider sends no webhooks for it")
        elif not supports(rt, stream):
            state = Health(False, "the service sends no webhooks Streamdesk reads")
        else:
            state = _judge(rt, stream, verified.get(stream.service),
                           last_events.get((stream.service, stream.page_id)))
        if state.realtime:
            net = max(every, rt.settings.realtime_crawl_interval)
            modes[stream.id] = CrawlMode(True, "real-time", f"{state.why}; crawled every {_span(net)} as a net")
        else:
            modes[stream.id] = CrawlMode(False, f"polling every {_span(every)}", state.why)
    return modes


# --- setup diagnostics ---------------------------------------------------------------

@dataclass(frozen=True)
class ServiceWebhooks:
    """Account settings → Status: one service's webhooks as seen from this side."""

    service: str
    label: str
    callback_url: str
    verified_at: datetime.datetime | None
    refused_at: datetime.datetime | None
    last_event_at: datetime.datetime | None
    subscribed: tuple[str, ...]  # names of the account's streams whose page is subscribed
    off: tuple[tuple[str, str], ...]  # (stream name, why real time is off)


def webhook_status(rt: Runtime, account) -> list[ServiceWebhooks]:
    """Per service whose plugin reads webhooks: whether the provider verified the
    endpoint (when), whether a verification was refused since, the last event about one
    of ``account``'s pages, and the account's subscribed pages."""
    found = []
    for service in sorted(rt.plugins.services):
        if not rt.plugins.supports(service, "streamdesk_webhook_events"):
            continue
        beats = {b.name: b.ran_at for b in Heartbeat.select().where(
            Heartbeat.name.in_([verified_key(service), refused_key(service)]))}
        verified, refused = beats.get(verified_key(service)), beats.get(refused_key(service))
        own = list(Stream.select(Stream.name, Stream.page_id, Stream.realtime, Stream.realtime_message)
                   .where((Stream.account == account) & (Stream.service == service) & Stream.authorized)
                   .order_by(Stream.name))
        pages = sorted({s.page_id for s in own})
        last = (WebhookEvent.select(fn.MAX(WebhookEvent.received_at))
                .where((WebhookEvent.service == service) & WebhookEvent.page_id.in_(pages)).scalar()) if pages else None
        found.append(ServiceWebhooks(
            service=service, label=rt.label(service),
            callback_url=webhook_url(rt.settings, service),
            verified_at=verified, refused_at=refused if refused and (verified is None or refused > verified) else None,
            last_event_at=last, subscribed=tuple(s.name for s in own if s.realtime == "on"),
            off=tuple((s.name, s.realtime_message or "real-time off") for s in own
                      if s.realtime in ("permission", "error"))))
    return found
