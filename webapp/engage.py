"""Engage: what a person sends as an authorized stream, recorded as an Action and sent
exactly once by a job (webapp/send.py).

A form carries an idempotency key made when it was rendered. Submitting inserts the
action by that key: a second submit of the same form (a double click, a browser retry,
a second tab) finds the row the first one inserted and queues nothing. The job that
sends it claims it first, so a worker retry or a duplicated job never calls the
provider twice either.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from . import queue
from .models import Action, Comment, Conversation, Story, Stream, User, utcnow

#: What a form may ask for; "comment" on X is a reply to the story (see kind_for).
KINDS = ("publish", "reply", "comment", "like", "hide", "delete", "message")
#: Kinds that carry text.
TEXT_KINDS = ("publish", "reply", "comment", "message")
#: Kinds that can be undone (unlike, unhide).
UNDOABLE = ("like", "hide")
#: What a hidden comment does not take (hiding it again, unhiding and deleting it do).
HIDDEN_REFUSES = ("reply", "comment", "like")
#: Seconds a "sending" action may take before the UI says it is not confirmed.
UNCONFIRMED_AFTER = 120
#: The job that sends one action.
SEND_FUNC = "webapp.send.send_action"
SEND_TIMEOUT = 120
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class EngageError(ValueError):
    """An action that cannot be sent; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def new_key() -> str:
    """The idempotency key of one rendered form."""
    return secrets.token_urlsafe(24)


def kind_for(service, kind: str) -> str:
    """The interaction ``kind`` is sent as: a comment on a story is a reply on services
    that have no comments of their own (X)."""
    if kind == "comment" and "comment" not in service.interactions:
        return "reply"
    return kind


def allowed(stream: Stream, service) -> frozenset[str]:
    """What the team may send as ``stream`` (empty for an unauthorized stream)."""
    if service is None or not stream.authorized:
        return frozenset()
    # Asked for every row of a feed page: worked out once per set of interactions.
    key = tuple(service.interactions)
    kinds = _ALLOWED.get(key)
    if kinds is None:
        kinds = _ALLOWED[key] = frozenset(k for k in KINDS if kind_for(service, k) in service.interactions)
    return kinds


#: :func:`allowed`'s answers by the service's interactions.
_ALLOWED: dict[tuple, frozenset[str]] = {}


def refusal(stream: Stream, service, kind: str) -> EngageError | None:
    """Why ``kind`` cannot be sent as ``stream`` (None: it can)."""
    label = service.label if service else stream.service
    if not stream.authorized:
        return EngageError(f"“{stream.name}” is an unauthorized stream: only its public data is tracked, and "
                           f"nothing can be sent as it. Connect a page you administer as an authorized stream "
                           "to publish, reply, comment, like, hide or delete.", 403)
    if kind not in allowed(stream, service):
        return EngageError(f"{label} does not allow “{kind}” from Streamdesk.", 403)
    if stream.status == "expired":
        return EngageError(f"“{stream.name}” has expired: reconnect it, then send again.", 409)
    return None


def check_text(service, kind: str, text: str) -> str:
    """The text of a text kind, stripped; EngageError when empty or over the limit."""
    text = (text or "").strip()
    if kind not in TEXT_KINDS:
        return ""
    label = service.label if service else "The service"
    if not text:
        raise EngageError("Write something first: the text is empty.")
    limit = getattr(service, "text_limit", None)
    if limit and len(text) > limit:
        raise EngageError(f"{label} allows at most {limit:,} characters; this text has {len(text):,}. "
                          f"Shorten it by {len(text) - limit:,}.")
    return text


@dataclass(frozen=True)
class Target:
    """What an action is about, as found in the account's own rows."""

    target_id: str | None
    story_external_id: str | None


def find_target(stream: Stream, kind: str, story_id: int | None, comment_id: int | None,
                conversation_id: int | None = None) -> Target:
    """The provider ids of the story, comment or private conversation (of ``stream``) an
    action is about."""
    if kind == "publish":
        return Target(None, None)
    if kind == "message":
        conversation = Conversation.get_or_none((Conversation.id == conversation_id) & (
            Conversation.stream == stream.id) & (Conversation.kind == "message")) if conversation_id else None
        if conversation is None:
            raise EngageError("That conversation is not in this stream.", 404)
        return Target(conversation.external_id, None)
    if comment_id is not None:
        comment = Comment.get_or_none((Comment.id == comment_id) & (Comment.stream == stream.id))
        if comment is None:
            raise EngageError("That comment is not in this stream (it may have been deleted).", 404)
        if comment.is_hidden and kind in HIDDEN_REFUSES:
            raise EngageError(f"That comment is hidden: only its author and their friends see it, and a {kind} "
                              "would be hidden with it. Unhide it first.", 409)
        return Target(comment.external_id, comment.story_external_id)
    if story_id is not None:
        story = Story.get_or_none((Story.id == story_id) & (Story.stream == stream.id))
        if story is None:
            raise EngageError("That story is not in this stream (it may have been deleted).", 404)
        return Target(story.external_id, story.external_id)
    raise EngageError(f"Choose the story or comment to {kind}.")


def submit(user: User, stream: Stream, service, kind: str, key: str, text: str = "", undo: bool = False,
           story_id: int | None = None, comment_id: int | None = None,
           conversation_id: int | None = None) -> tuple[Action, bool]:
    """Record the action of this form (by its key) and return it with True when this
    call created it. Nothing is queued here (see :func:`queue_send`): the caller queues
    only a new action, so a second submit of a form never queues again."""
    if not key or not _KEY.match(key):
        raise EngageError("This form has no valid key: reload the page and send it again.")
    if kind not in KINDS:
        raise EngageError(f"There is no action called “{kind[:20]}”.")
    existing = by_key(user.account_id, key)
    if existing is not None:
        return _same_form(existing, user, stream, kind), False
    why = refusal(stream, service, kind)
    if why is not None:
        raise why
    text = check_text(service, kind, text)
    target = find_target(stream, kind, story_id, comment_id, conversation_id)
    inserted = (Action.insert(account=user.account_id, user=user.id, stream=stream.id, stream_name=stream.name,
                              service=stream.service, kind=kind_for(service, kind),
                              target_id=target.target_id, story_external_id=target.story_external_id,
                              undo=bool(undo) and kind in UNDOABLE, text=text, key=key, status="queued",
                              created_at=utcnow())
                .on_conflict_ignore().as_rowcount().execute())
    action = by_key(user.account_id, key)
    return _same_form(action, user, stream, kind), bool(inserted)


def _same_form(action: Action, user: User, stream: Stream, kind: str) -> Action:
    # A key belongs to one rendered form: reused for something else, it is refused.
    if action.stream_id != stream.id or action.user_id != user.id:
        raise EngageError("This form was sent already. Reload the page to send something new.", 409)
    return action


def liked(stream_id: int, target_ids) -> frozenset[str]:
    """Which of ``target_ids`` (provider ids of stories and comments of the stream) the
    page likes, as its last sent like or unlike says; one query for a whole thread.
    A target never liked from Streamdesk counts as not liked (liking it again is harmless)."""
    ids = [t for t in target_ids if t]
    if not ids:
        return frozenset()
    state: dict[str, bool] = {}
    for action in (Action.select(Action.target_id, Action.undo)
                   .where((Action.stream == stream_id) & (Action.kind == "like") & (Action.status == "sent") &
                          Action.target_id.in_(ids)).order_by(Action.sent_at, Action.id)):
        state[action.target_id] = not action.undo  # the last one sent decides
    return frozenset(t for t, yes in state.items() if yes)


def by_key(account_id: int, key: str) -> Action | None:
    return Action.get_or_none((Action.account == account_id) & (Action.key == key))


def action_of(account_id: int, action_id: int) -> Action | None:
    """One action of the account (None for another account's)."""
    return Action.get_or_none((Action.account == account_id) & (Action.id == action_id))


def retry(action: Action) -> bool:
    """Put a failed action back in the queue: the same row and key. False when it was
    not failed (sent meanwhile, or queued again by another click)."""
    return bool(Action.update(status="queued", error=None, error_kind=None)
                .where((Action.id == action.id) & (Action.status == "failed")).execute())


def send_anyway(action: Action) -> bool:
    """Queue a not-confirmed action again (the same row and key) because a person, having
    checked the thread, asked for it. False when it is not (or no longer) unconfirmed."""
    stale = utcnow() - timedelta(seconds=UNCONFIRMED_AFTER)
    return bool(Action.update(status="queued", error=None, error_kind=None)
                .where((Action.id == action.id) & ((Action.status == "unconfirmed") | (
                    (Action.status == "sending") & (Action.claimed_at < stale)))).execute())


def job_id(action: Action) -> str:
    """The send job's id: one job per action and attempt."""
    return f"send-{action.id}-{action.attempts}"


def queue_send(settings, action: Action) -> bool:
    """Queue the job that sends ``action``; False without a reachable queue (the action
    stays queued and is shown so)."""
    return queue.enqueue_from(settings, enqueue_send, action)


def enqueue_send(client, action: Action) -> bool:
    """Queue ``action``'s send job on ``client`` unless it is queued or running already."""
    return queue.enqueue_once(client, "default", SEND_FUNC, action.id, job_id=job_id(action),
                              job_timeout=SEND_TIMEOUT)


def unconfirmed(action: Action) -> bool:
    """A job claimed the action long ago and never said how it ended: the provider may
    or may not have it. The UI says to check the thread rather than send it again."""
    if action.status == "unconfirmed":  # the provider timed out or failed midway (webapp/send.py)
        return True
    return action.status == "sending" and action.claimed_at is not None and \
        (utcnow() - action.claimed_at).total_seconds() > UNCONFIRMED_AFTER
