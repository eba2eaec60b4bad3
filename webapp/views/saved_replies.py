"""Account settings → Saved replies (admins): the texts the team inserts into replies."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from .. import saved_replies
from . import admin_required, is_partial_request, render

bp = Blueprint("saved_replies", __name__, url_prefix="/account/saved-replies")


def _page(status: int = 200, error: str | None = None, form=None):
    return render("account/saved_replies.html", "account/_saved_replies.html", status=status,
                  replies=saved_replies.of_account(current_user.account_id), error=error, form=form or {})


def _reply_or_404(reply_id: int):
    reply = saved_replies.get(current_user.account_id, reply_id)
    if reply is None:
        abort(404, "There is no such saved reply in your account.")
    return reply


@bp.get("/")
@admin_required
def index():
    """The account's saved replies, each editable, and a form for a new one."""
    return _page()


@bp.post("/")
@admin_required
def create():
    """Add a saved reply."""
    try:
        saved_replies.create(current_user, request.form.get("title", ""), request.form.get("text", ""))
    except saved_replies.SavedReplyError as exc:
        return _page(400, str(exc), request.form)
    return _done()


@bp.post("/<id:reply_id>")
@admin_required
def update(reply_id: int):
    """Change a saved reply."""
    reply = _reply_or_404(reply_id)
    try:
        saved_replies.update(reply, request.form.get("title", ""), request.form.get("text", ""))
    except saved_replies.SavedReplyError as exc:
        return _page(400, str(exc))
    return _done()


@bp.post("/<id:reply_id>/delete")
@admin_required
def delete(reply_id: int):
    """Remove a saved reply."""
    saved_replies.delete(_reply_or_404(reply_id))
    return _done()


def _done():
    if is_partial_request():
        return _page()
    return redirect(url_for("saved_replies.index"), 303)
