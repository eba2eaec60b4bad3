"""The team inbox's conversations (members and admins): open one in place, assign it,
close or reopen it. The list itself is the Inbox page (views/main.py)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from .. import conversations, saved_replies
from ..conversations import Filters
from ..formvalues import int_or_none
from ..models import User
from . import is_partial_request, plugins, render

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def _conversation_or_404(conversation_id: int):
    conversation = conversations.get(current_user, conversation_id)
    if conversation is None:
        abort(404, "There is no such conversation in your account.")
    return conversation


def _detail(conversation, status: int = 200, error: str | None = None):
    story, rows = conversations.thread(conversation)
    stream = conversation.stream
    outsiders = [r for r in rows if conversation.kind == "comments" and r.author_id != stream.page_id]
    loaded = plugins().get(stream.service)
    filters = Filters.from_args(request.args)
    return render("main/conversation.html", "main/_conversation.html", status=status, conversation=conversation,
                  stream=stream, story=story, rows=rows, reply_to=outsiders[-1] if outsiders else None,
                  service=loaded.service if loaded else None, teammates=conversations.teammates(current_user),
                  saved=saved_replies.of_account(current_user.account_id), filters=filters, error=error,
                  answerer=_email(conversation.answered_by_id), assignee=_email(conversation.assignee_id))


def _email(user_id: int | None) -> str | None:
    """A teammate's e-mail (the UI names people by it)."""
    if user_id is None:
        return None
    user = User.get_or_none((User.id == user_id) & (User.account == current_user.account_id))
    return user.email if user else None


@bp.get("/<id:conversation_id>")
@login_required
def show(conversation_id: int):
    """One conversation with its thread and reply form; opening it marks it read."""
    conversation = _conversation_or_404(conversation_id)
    conversations.mark_read(current_user.id, conversation)
    return _detail(conversation)


def _after(conversation, error: str | None = None):
    if error is not None:
        return _detail(conversation, 400, error)
    if not is_partial_request():
        return redirect(url_for("inbox.show", conversation_id=conversation.id,
                                **Filters.from_args(request.args).args()), 303)
    return _detail(conversation)


@bp.post("/<id:conversation_id>/assign")
@login_required
def assign(conversation_id: int):
    """Assign the conversation to a teammate (or to nobody)."""
    conversation = _conversation_or_404(conversation_id)
    try:
        conversations.assign(current_user, conversation, int_or_none(request.form.get("assignee")))
    except conversations.InboxError as exc:
        return _after(conversation, str(exc))
    return _after(conversations.get(current_user, conversation_id))


@bp.post("/<id:conversation_id>/status")
@login_required
def status(conversation_id: int):
    """Close or reopen the conversation."""
    conversation = _conversation_or_404(conversation_id)
    try:
        conversations.set_status(conversation, request.form.get("status", ""))
    except conversations.InboxError as exc:
        return _after(conversation, str(exc))
    return _after(conversation)
