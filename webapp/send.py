"""The send job: one action, sent to its provider at most once, and what was sent stored
at once so the thread shows it before the next crawl.

The job claims its action with one conditional UPDATE (queued → sending); only the
claimer calls the provider. A worker retry, a duplicated job or a second job for the
same action finds it claimed and does nothing. A job that dies after claiming leaves
the action "sending": nobody knows whether the provider has it, so it is never sent
again blindly (the UI asks the person to check the thread).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from rq.timeouts import JobTimeoutException
from streamdesk_contract.errors import (InvalidQuery, NotFound, PermissionMissing, ProviderError,
                                        ProviderUnavailable, RateLimited, TokenExpired)
from streamdesk_contract.values import Comment as CommentValue
from streamdesk_contract.values import CrawlPage, Interaction, StreamRef
from streamdesk_contract.values import Message as MessageValue
from streamdesk_contract.values import Story as StoryValue

from . import conversations
from .crawl import ingest
from .db import database
from . import queue
from .engage import enqueue_send
from .jobs import with_database
from .models import Action, Comment, Story, Stream, StreamGone, utcnow
from .runtime import runtime, with_fresh_credentials
from .streams import Runtime

log = logging.getLogger(__name__)


@with_database
def send_action(action_id: int) -> str:
    """The job: send action ``action_id``; returns its status afterwards."""
    return send(runtime(), action_id)


#: Seconds an action may wait in "queued" before the schedule queues its job again (the
#: web request could not reach the queue, or the job's record was lost with Redis).
WAITING_AFTER = 60


@with_database
def enqueue_waiting_actions() -> int:
    """Cron: queue the send job of every action still waiting after WAITING_AFTER
    seconds; returns how many were queued. A job that is queued or running already is
    not queued twice, and a job queued twice still sends once (see :func:`claim`)."""
    rt = runtime()
    since = utcnow() - timedelta(seconds=WAITING_AFTER)
    waiting = list(Action.select().where(Action.status == "queued", Action.created_at <= since)
                   .order_by(Action.id).limit(queue.BATCH))
    if not waiting:
        return 0
    with queue.connected(rt.settings.redis_url) as client:
        return sum(enqueue_send(client, action) for action in waiting)


def claim(action_id: int) -> Action | None:
    """Move the action from queued to sending; the action when this call did it, else
    None (another job has it, or it ended already)."""
    claimed = (Action.update(status="sending", attempts=Action.attempts + 1, claimed_at=utcnow())
               .where((Action.id == action_id) & (Action.status == "queued")).execute())
    return Action.get_by_id(action_id) if claimed else None


def send(rt: Runtime, action_id: int) -> str:
    """Claim action ``action_id`` and send it; every provider error ends in one readable
    outcome on the action (and an expired token expires the stream, as a crawl does)."""
    action = claim(action_id)
    if action is None:
        current = Action.get_or_none(Action.id == action_id)
        log.info("send job for action %s: not queued (%s), nothing sent", action_id,
                 current.status if current else "gone")
        return current.status if current else "gone"
    stream = Stream.get_or_none(Stream.id == action.stream_id)
    if stream is None:
        return _fail(action, "gone", "The stream was removed before this could be sent.")
    if stream.status == "expired":
        return _fail(action, "expired", f"“{stream.name}” has expired: reconnect it, then retry.")
    interaction = Interaction(action.kind, action.target_id, action.text or None, action.undo)
    ref = StreamRef(stream.page_id, stream.authorized, stream.handle)
    try:
        result = with_fresh_credentials(rt, stream, lambda credentials: rt.call(
            "streamdesk_interact", stream.service, stream=ref, credentials=credentials, interaction=interaction))
    except TokenExpired as exc:
        from .expiry import expire_stream

        expire_stream(rt, stream, exc.message)
        return _fail(action, "expired", f"{exc.message} Nothing was sent: reconnect the stream, then retry.")
    except RateLimited as exc:
        until = utcnow() + timedelta(seconds=max(1, exc.retry_after))
        if exc.scope == "posting":  # Facebook's 368/1390008: this page only, posting only
            return _fail(action, "rate", f"{rt.label(stream.service)} has temporarily blocked this page from "
                                         f"posting because it was posting too fast: nothing was sent. "
                                         f"Retry after {until:%H:%M} UTC.")
        return _fail(action, "rate", f"{rt.label(stream.service)} rate limited this until {until:%H:%M} UTC: "
                                     "nothing was sent. Retry after that.")
    except PermissionMissing as exc:
        return _fail(action, "permission", exc.message)
    except NotFound as exc:
        return _fail(action, "gone", f"{exc.message} It may have been deleted or hidden.")
    except InvalidQuery as exc:
        return _fail(action, "invalid", exc.message)
    except ProviderUnavailable as exc:
        if action.kind in NOT_IDEMPOTENT:
            return _unconfirmed(action, f"{rt.label(stream.service)} did not answer ({exc.message}). It may have "
                                        "been sent anyway: check the thread before sending it again.")
        return _fail(action, "provider", exc.message)
    except ProviderError as exc:
        return _fail(action, "provider", exc.message)
    except JobTimeoutException:
        raise  # left "sending": the provider may have it (see the module's docstring)
    except Exception:  # a plugin bug: shown as a failure, not left "sending" forever
        log.exception("sending action %s failed", action.id)
        return _fail(action, "unknown", "Sending failed unexpectedly; check the thread before retrying.")
    if not result.ok:
        return _fail(action, "provider", f"{rt.label(stream.service)} did not confirm it.")
    with database.atomic():
        Action.update(status="sent", external_id=(result.external_id or "")[:128] or None, sent_at=utcnow(),
                      error=None, error_kind=None).where(Action.id == action.id).execute()
        try:
            record(stream, action, result.external_id)
        except StreamGone:
            pass
        conversations.answered(Action.get_by_id(action.id))
    return "sent"


#: Kinds the provider creates something for: sent twice, they appear twice. A timeout or
#: 5xx may come after the provider created it, so such an action is "not confirmed" and
#: sent again only when a person says so (like, hide and delete are the same when repeated).
NOT_IDEMPOTENT = ("publish", "comment", "reply", "message")


def _unconfirmed(action: Action, message: str) -> str:
    Action.update(status="unconfirmed", error=message, error_kind="unavailable").where(
        Action.id == action.id).execute()
    return "unconfirmed"


def _fail(action: Action, kind: str, message: str) -> str:
    Action.update(status="failed", error=message, error_kind=kind).where(Action.id == action.id).execute()
    return "failed"


def record(stream: Stream, action: Action, external_id: str | None) -> None:
    """Store what was sent as the provider answered it, upserted by provider id as a
    crawl stores it: the next crawl updates the same row instead of adding one."""
    now = utcnow()
    if action.kind == "publish" and external_id:
        stream.hold()
        ingest(stream, CrawlPage(cursor=stream.cursor, stories=(StoryValue(
            external_id=external_id, created_at=now, text=action.text, author_id=stream.page_id,
            author_name=stream.name),)))
    elif action.kind in ("comment", "reply") and external_id:
        stream.hold()
        story = action.story_external_id or action.target_id
        parent = None if action.target_id == story else action.target_id
        ingest(stream, CrawlPage(cursor=stream.cursor, comments=(CommentValue(
            external_id=external_id, story_id=story, parent_id=parent, created_at=now, text=action.text,
            author_id=stream.page_id, author_name=stream.name),)))
    elif action.kind == "message" and external_id:
        stream.hold()
        ingest(stream, CrawlPage(cursor=stream.cursor, messages=(MessageValue(
            external_id=external_id, conversation_id=action.target_id, created_at=now, text=action.text,
            sender_id=stream.page_id, sender_name=stream.name),)))
    elif action.kind == "hide":
        for model in (Story, Comment):
            model.update(is_hidden=not action.undo).where(
                (model.stream == stream.id) & (model.external_id == action.target_id)).execute()
    elif action.kind == "delete":
        Comment.delete().where((Comment.stream == stream.id) & (
            (Comment.external_id == action.target_id) | (Comment.parent_external_id == action.target_id) |
            (Comment.story_external_id == action.target_id))).execute()
        deleted = Story.delete().where((Story.stream == stream.id) &
                                       (Story.external_id == action.target_id)).execute()
        if deleted:
            Stream.update(story_count=Stream.story_count - deleted).where(Stream.id == stream.id).execute()
