"""Engage (members and admins): send an action as an authorized stream, follow it from
"sending…" to "sent" (or the provider's reason), retry a failed one, publish a post.

Every form carries the idempotency key it was rendered with (see webapp/engage.py);
without JavaScript a form posts and is redirected to the action's status page.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import engage, saved_replies
from ..formvalues import int_or_none
from ..models import Comment, Story, Stream, Topic, TopicStream
from ..streams import StreamError, get_stream
from . import is_partial_request, plugins, render, settings

bp = Blueprint("engage", __name__)


@bp.app_template_global("engage_key")
def engage_key() -> str:
    """A new idempotency key for a form being rendered."""
    return engage.new_key()


@bp.app_template_global("engage_allowed")
def engage_allowed(stream: Stream) -> frozenset[str]:
    """What may be sent as ``stream`` here (nothing for an unauthorized or expired one)."""
    if stream.status == "expired":
        return frozenset()
    return engage.allowed(stream, _service(stream))


def _service(stream: Stream):
    loaded = plugins().get(stream.service)
    return loaded.service if loaded else None


def _stream_or_404(stream_id) -> Stream:
    try:
        return get_stream(current_user.account_id, stream_id)
    except StreamError as exc:
        abort(404, str(exc))


def _int(name: str) -> int | None:
    return int_or_none(request.values.get(name))


def _topic_for(stream_id: int) -> Topic | None:
    """The topic the person came from (to link back to the thread), when it is theirs
    and holds the stream."""
    topic_id = _int("topic")
    if topic_id is None:
        return None
    return (Topic.select().join(TopicStream).where(Topic.id == topic_id, Topic.account == current_user.account_id,
                                                  TopicStream.stream == stream_id).first())


def _where(action, topic: Topic | None) -> str | None:
    """A link to what the action made or touched, in the topic's story view."""
    if topic is None:
        return None
    story_id = action.story_external_id or (action.external_id if action.kind == "publish" else None)
    story = Story.get_or_none((Story.stream == action.stream_id) & (Story.external_id == story_id)) \
        if story_id else None
    if story is None:
        return None
    anchor = None
    if action.kind in ("comment", "reply") and action.external_id:
        comment = Comment.get_or_none((Comment.stream == action.stream_id) &
                                      (Comment.external_id == action.external_id))
        anchor = f"comment-{comment.id}" if comment else None
    # ``sent`` makes it another URL than the story view the form is on, so following
    # the link loads the thread again (with what was sent) instead of only scrolling.
    return url_for("feed.story", topic_id=topic.id, story_id=story.id, sent=action.id, _anchor=anchor)


def _status(action, topic: Topic | None, status: int = 200):
    return render("engage/status.html", "engage/_status.html", status=status, action=action, topic=topic,
                  where=_where(action, topic), unconfirmed=engage.unconfirmed(action))


@bp.post("/actions")
@login_required
def send():
    """Record the submitted form's action (once per key) and queue its sending."""
    stream = _stream_or_404(_int("stream"))
    kind = request.form.get("kind", "")
    topic = _topic_for(stream.id)
    if kind == "delete" and request.form.get("confirmed") != "1":
        return render("engage/confirm.html", "engage/_confirm.html", form=request.form, stream=stream,
                      cancel=request.referrer or url_for("main.topics"))
    # A saved reply chosen in the form is inserted on submit (works without JavaScript).
    text = saved_replies.with_saved(request.form.get("text", ""),
                                    saved_replies.get(current_user.account_id, _int("saved_reply")))
    try:
        action, created = engage.submit(current_user, stream, _service(stream), kind, request.form.get("key", ""),
                                        text=text, undo=request.form.get("undo") == "1",
                                        story_id=_int("story"), comment_id=_int("comment"),
                                        conversation_id=_int("conversation"))
    except engage.EngageError as exc:
        abort(exc.status, exc.message)
    if created:
        engage.queue_send(settings(), action)
    if not is_partial_request():
        return redirect(url_for("engage.status", action_id=action.id, topic=topic.id if topic else None), 303)
    html, status = _status(action, topic, 202 if action.status in ("queued", "sending") else 200)
    place = request.form.get("place", "")
    if created and kind in engage.TEXT_KINDS and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", place):
        html += render_template("engage/_fresh.html", place=place, key=engage.new_key(), service=_service(stream))
    return html, status


@bp.get("/actions/<id:action_id>")
@login_required
def status(action_id: int):
    """Where an action stands; its partial polls itself while it is on its way."""
    action = engage.action_of(current_user.account_id, action_id)
    if action is None:
        abort(404, "There is no such action in your account.")
    return _status(action, _topic_for(action.stream_id))


@bp.post("/actions/<id:action_id>/retry")
@login_required
def retry(action_id: int):
    """Send a failed action again: the same row and key, back in the queue."""
    return _send_again(action_id, engage.retry)


@bp.post("/actions/<id:action_id>/send-anyway")
@login_required
def send_anyway(action_id: int):
    """Send a not-confirmed action again, the same row and key, because the person
    checked the thread and it is not there. Only this explicit click queues it."""
    return _send_again(action_id, engage.send_anyway)


def _send_again(action_id: int, requeue):
    """Put the account's action ``action_id`` back in the queue when ``requeue(action)``
    allows it (its status says so), then answer with its status."""
    action = engage.action_of(current_user.account_id, action_id)
    if action is None:
        abort(404, "There is no such action in your account.")
    stream = Stream.get_or_none(Stream.id == action.stream_id) if action.stream_id else None
    if stream is None:
        abort(410, f"“{action.stream_name}” was removed: this cannot be sent any more.")
    why = engage.refusal(stream, _service(stream), action.kind)
    if why is not None:  # unauthorized now, or expired: reconnect first
        abort(why.status, why.message)
    if requeue(action):
        engage.queue_send(settings(), engage.action_of(current_user.account_id, action_id))
    topic = _topic_for(action.stream_id)
    if not is_partial_request():
        return redirect(url_for("engage.status", action_id=action.id, topic=topic.id if topic else None), 303)
    return _status(engage.action_of(current_user.account_id, action_id), topic)


@bp.get("/streams/<id:stream_id>/publish")
@login_required
def publish(stream_id: int):
    """The form that publishes a new post as an authorized stream."""
    stream = _stream_or_404(stream_id)
    why = engage.refusal(stream, _service(stream), "publish")
    if why is not None:
        abort(why.status, why.message)
    return render("engage/publish.html", "engage/_publish.html", stream=stream, service=_service(stream),
                  topic=_topic_for(stream.id))
