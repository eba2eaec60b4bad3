"""Provider webhooks: raw events recorded by the receiver, turned into rows by a job.

The receiver (:mod:`webapp.views.webhooks`) checks a delivery's signature, splits it
into one raw event per update, records the new ones (a replayed update finds its key
taken and stores nothing) and queues a :func:`process_events` job unless one is
waiting already. The job hands each
event to the service's plugin (``streamdesk_webhook_events``) and stores what it returns
in every stream of that page with the crawl's upsert, so a webhook and a crawl of the
same item never duplicate it.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import redis
from peewee import fn
from streamdesk_contract.errors import ProviderError
from streamdesk_contract.values import CrawlPage, WebhookUpdate

from . import queue
from .crawl import ingest
from .db import database
from .expiry import expire_stream
from .jobs import with_database
from .models import Comment, Message, Stream, StreamGone, WebhookEvent, utcnow
from .prepared import Prepared, slot
from .runtime import runtime
from .streams import Runtime

log = logging.getLogger(__name__)

#: Seconds a webhook job may run: a delivery holds at most ~1000 updates.
JOB_TIMEOUT = 300
#: Raw events are kept this long, for replay (the provider keeps no history to ask for).
KEEP_DAYS = 7
#: A pending event older than this lost its job (queue unreachable, worker killed).
STUCK_AFTER = datetime.timedelta(minutes=2)
#: Pending events one sweep processes.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class RawEvent:
    """One update of a delivery, as it will be stored."""

    event_key: str
    page_id: str | None
    body: str


def signature_ok(secret: str, body: bytes, header: str | None, encoding: str = "hex") -> bool:
    """Whether ``header`` (``sha256=<digest>``) is the HMAC-SHA256 of ``body`` with
    ``secret``, compared in constant time; ``encoding`` is how the provider writes the
    digest (Graph: ``hex``, X: ``base64``). No secret configured: nothing is genuine."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(secret, body, encoding).encode(), header.strip().encode())


def signature(secret: str, body: bytes, encoding: str = "hex") -> str:
    """``sha256=<digest>``: the HMAC-SHA256 of ``body`` with ``secret``, written as
    ``encoding`` says (``hex`` or ``base64``). X's CRC answer is one too."""
    mac = hmac.new(secret.encode(), body, hashlib.sha256)
    return "sha256=" + (base64.b64encode(mac.digest()).decode() if encoding == "base64" else mac.hexdigest())


def graph_events(payload) -> list[RawEvent]:
    """A Graph "Webhooks for Pages" delivery split into one raw event per change or
    message, each kept as a delivery of its own (so replaying it later feeds the plugin
    the provider's own format). Raises ValueError for a body that is not one."""
    if not isinstance(payload, dict) or payload.get("object") != "page" or not isinstance(payload.get("entry"), list):
        raise ValueError('expected a Graph page delivery: {"object": "page", "entry": [...]}')
    events = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), (str, int)):
            raise ValueError("every entry needs the id of its page")
        page_id = str(entry["id"])
        for kind in ("changes", "messaging"):
            updates = entry.get(kind, [])
            if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
                raise ValueError(f"an entry's {kind} must be a list of objects")
            for update in updates:
                body = json.dumps({"object": "page", "entry": [{"id": page_id, "time": entry.get("time"),
                                                                kind: [update]}]}, sort_keys=True)
                events.append(RawEvent(_graph_key(page_id, kind, update), page_id, body))
    return events


def _graph_key(page_id: str, kind: str, update: dict) -> str:
    # Graph sends no event id: a message has its mid; a change is known by its content
    # (a retried delivery repeats it exactly, an edit changes the text).
    mid = (update.get("message") or {}).get("mid") if isinstance(update.get("message"), dict) else None
    if kind == "messaging" and isinstance(mid, str) and mid:
        return f"{page_id}:mid:{mid}"[:255]
    digest = hashlib.sha256(json.dumps(update, sort_keys=True).encode()).hexdigest()
    return f"{page_id[:128]}:{kind}:{digest}"


def x_events(payload) -> list[RawEvent]:
    """An X Activity API delivery (``{"data": {event_uuid, filter, event_type, tag,
    payload}}``) as its one raw event, keyed by ``event_uuid`` (X's id of the delivery,
    the same on every retry). Raises ValueError for a body that is not one."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ValueError('expected an X Activity API event: {"data": {"event_uuid": …, "event_type": …}}')
    uuid, event_type = data.get("event_uuid"), data.get("event_type")
    if isinstance(uuid, bool) or not isinstance(uuid, (str, int)) or not str(uuid).strip() or len(str(uuid)) > 200:
        raise ValueError("the event has no event_uuid")
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("the event has no event_type")
    user = (data.get("filter") or {}).get("user_id") if isinstance(data.get("filter"), dict) else None
    page_id = str(user)[:128] if isinstance(user, (str, int)) and not isinstance(user, bool) else None
    return [RawEvent(f"uuid:{uuid}", page_id, json.dumps(payload, sort_keys=True))]


def record(service: str, events: list[RawEvent]) -> int:
    """Store the events not stored before (one statement, committed when it returns);
    returns how many were new."""
    if not events:
        return 0
    if len(events) == 1:  # nearly every delivery: its INSERT's SQL is built once per process
        event = events[0]
        return _RECORD_ONE.execute(service=service, event_key=event.event_key, page_id=event.page_id,
                                   body=event.body, received_at=utcnow())
    rows = [dict(service=service, event_key=e.event_key, page_id=e.page_id, body=e.body, received_at=utcnow())
            for e in events]
    # A key taken already is a replay, or a duplicate Graph warned of: ignored.
    return WebhookEvent.insert_many(rows).on_conflict_ignore().as_rowcount().execute()


#: record()'s one-event INSERT: building it took longer than running it (profiled with
#: cProfile over 1,000 deliveries: 0.25 of 1.5 ms a request on SQLite).
_RECORD_ONE = Prepared(lambda: WebhookEvent.insert(
    service=slot("service"), event_key=slot("event_key"), page_id=slot("page_id"), body=slot("body"),
    received_at=slot("received_at")).on_conflict_ignore())


def enqueue_processing(settings, service: str) -> bool:
    """Make sure a job will process the service's pending events: queue one unless one
    is queued and not started yet (it will see them, as it looks after it starts).
    False without a reachable queue (the events stay pending; the cron sweep takes them)."""
    if not settings.redis_url:
        return False
    try:
        client = _client(settings.redis_url)
        if not client.set(waiting_key(service), 1, nx=True, ex=queue.QUEUED_TTL):
            return True
        try:
            queue.queue(client).enqueue("webapp.webhooks.process_events", service, result_ttl=0,
                                        failure_ttl=queue.FAILURE_TTL, ttl=queue.QUEUED_TTL, job_timeout=JOB_TIMEOUT)
        except BaseException:
            client.delete(waiting_key(service))
            raise
        return True
    except (queue.QueueUnavailable, redis.RedisError) as exc:
        _CLIENTS.pop(settings.redis_url, None)  # reconnect next time
        from .config import mask_url

        log.warning("could not queue the %s webhook job at %s: %s", service, mask_url(settings.redis_url), exc)
        return False


def waiting_key(service: str) -> str:
    """Set while a webhook job of ``service`` is queued and not started: a delivery then
    queues nothing, which keeps the receiver at one Redis round trip under load."""
    return f"streamdesk:webhooks:waiting:{service}"


#: One client (a thread-safe connection pool) per queue URL: a delivery must not pay
#: for a new connection and its PING, which cost more than the rest of the request.
_CLIENTS: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    client = _CLIENTS.get(url)
    if client is None:
        client = _CLIENTS[url] = queue.connect(url)
    return client


@with_database
def process_events(service: str) -> dict[str, int]:
    """The job: turn the service's pending events into rows, oldest first, until none
    is left; returns how many ended in each status."""
    rt = runtime()
    if rt.settings.redis_url:
        # Started: a delivery from now on queues the next job (this one may have looked already).
        with queue.connected(rt.settings.redis_url) as client:
            client.delete(waiting_key(service))
    outcome: dict[str, int] = {}
    deadline = time.monotonic() + JOB_TIMEOUT * 0.8
    while time.monotonic() < deadline:
        pending = list(WebhookEvent.select().where((WebhookEvent.service == service) & (WebhookEvent.status == "pending"))
                       .order_by(WebhookEvent.id).limit(SWEEP_BATCH))
        if not pending:
            break
        for event in pending:
            status = process(rt, event)
            outcome[status] = outcome.get(status, 0) + 1
    return outcome


@with_database
def sweep() -> dict[str, int]:
    """Cron: process the events whose job was lost (still pending after STUCK_AFTER)
    and delete the raw events older than KEEP_DAYS. Returns what it did."""
    rt = runtime()
    now = utcnow()
    stuck = list(WebhookEvent.select().where((WebhookEvent.status == "pending")
                                             & (WebhookEvent.received_at < now - STUCK_AFTER))
                 .order_by(WebhookEvent.id).limit(SWEEP_BATCH))
    for event in stuck:
        process(rt, event)
    purged = WebhookEvent.delete().where(WebhookEvent.received_at < now - datetime.timedelta(days=KEEP_DAYS)).execute()
    return {"processed": len(stuck), "purged": purged}


#: The statuses a replay takes by default: the events that stored nothing.
UNSTORED = ("dropped", "failed")


def replayable(service: str | None = None, since: datetime.datetime | None = None, page_id: str | None = None,
               statuses: tuple[str, ...] = UNSTORED):
    """The kept raw events a replay would process again, oldest first: of ``service``
    (None: every service), received at or after ``since``, for ``page_id``, in one of
    ``statuses``. Replaying a processed event is harmless (the rows are upserted by
    their provider ids), so ``statuses`` may name them all."""
    query = WebhookEvent.select().where(WebhookEvent.status.in_(list(statuses)))
    if service:
        query = query.where(WebhookEvent.service == service)
    if since is not None:
        query = query.where(WebhookEvent.received_at >= since)
    if page_id:
        query = query.where(WebhookEvent.page_id == page_id)
    return query.order_by(WebhookEvent.id)


def process(rt: Runtime, event: WebhookEvent) -> str:
    """Store one event's rows; marks and returns its status (processed, dropped, failed)."""
    try:
        updates = rt.call("streamdesk_webhook_events", event.service, payload=json.loads(event.body))
    except (ProviderError, LookupError, ValueError) as exc:
        return _mark(event, "failed", str(exc)[:500] or type(exc).__name__)
    if updates is None:
        return _mark(event, "failed", f"no plugin reads {event.service} webhooks")
    stored, unknown = 0, []
    for update in updates:
        streams = list(Stream.select().where((Stream.service == event.service) & (Stream.page_id == update.page_id)))
        if not streams:
            unknown.append(update.page_id)
        if update.revoked:
            stored += _revoke(rt, streams)
            continue
        for stream in streams:
            stored += _store(stream, update)
    if unknown and not stored:
        log.info("%s webhook event %s dropped: no stream holds page %s", event.service, event.id,
                 ", ".join(unknown))
        return _mark(event, "dropped", f"no stream holds page {', '.join(unknown)}"[:500])
    return _mark(event, "processed", None)


def _revoke(rt: Runtime, streams: list[Stream]) -> int:
    """The page's person took back the app's access: its authorized streams expire now
    (the admins get the expiry e-mail, the topics page its banner), not at the next
    crawl's 401. Returns how many streams it concerned."""
    owned = [s for s in streams if s.authorized]
    for stream in owned:
        expire_stream(rt, stream, f"{rt.label(stream.service)} says the account revoked Streamdesk's access: "
                                  "reconnect the profile to go on.")
    return len(owned) or len(streams)


def _store(stream: Stream, update: WebhookUpdate) -> int:
    """One page's update into one stream, in one transaction; 1 if written."""
    # Private messages belong to the page's own (authorized) streams only.
    messages = _in_known_conversations(stream, update.messages) if stream.authorized else ()
    page = CrawlPage(cursor=None, stories=update.stories, comments=update.comments, messages=messages)
    try:
        with database.atomic():
            stream.hold()  # removed meanwhile: write nothing
            ingest(stream, page)
            if update.removed_comments:
                Comment.delete().where((Comment.stream == stream.id)
                                       & Comment.external_id.in_(list(update.removed_comments))).execute()
    except StreamGone:
        return 0
    return 1


def _in_known_conversations(stream: Stream, messages) -> tuple:
    """A webhook may not name a message's conversation as the crawl does (Messenger
    sends only the sender): a sender the stream already has a conversation with stays
    in it, the latest one."""
    senders = {m.sender_id for m in messages if m.sender_id}
    if not senders:
        return tuple(messages)
    latest = (Message.select(Message.sender_id, fn.MAX(Message.created_at).alias("at"))
              .where((Message.stream == stream.id) & Message.sender_id.in_(list(senders)))
              .group_by(Message.sender_id))
    known = {row.sender_id: row.conversation_id for row in
             Message.select(Message.sender_id, Message.conversation_id)
             .join(latest, on=((Message.sender_id == latest.c.sender_id) & (Message.created_at == latest.c.at)))
             .where(Message.stream == stream.id)}
    return tuple(dataclasses.replace(m, conversation_id=known[m.sender_id]) if m.sender_id in known else m
                 for m in messages)


def _mark(event: WebhookEvent, status: str, message: str | None) -> str:
    WebhookEvent.update(status=status, message=message).where(WebhookEvent.id == event.id).execute()
    return status
