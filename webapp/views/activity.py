"""Account settings → Activity (admins only): the audit log of actions, filtered by
person and stream, and its CSV download."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user

from .. import activity, csvexport
from ..formvalues import int_or_none
from ..models import Stream, User
from . import admin_required, render

bp = Blueprint("activity", __name__, url_prefix="/account/activity")


def _id(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    number = int_or_none(value)
    if number is None:
        abort(400, f"“{value[:20]}” is not a {name} of this account.")
    return number


def _filters() -> activity.Filters:
    """The filters from the query string; only the account's own people and streams."""
    user_id, stream_id = _id("user"), _id("stream")
    account = current_user.account_id
    if user_id is not None and not User.select().where(User.id == user_id, User.account == account).exists():
        abort(400, "There is no such person in your account.")
    if stream_id is not None and not Stream.select().where(Stream.id == stream_id,
                                                           Stream.account == account).exists():
        abort(400, "There is no such stream in your account.")
    return activity.Filters(user_id, stream_id)


@bp.route("")
@admin_required
def index():
    """The account's actions, newest first, a page at a time."""
    filters = _filters()
    before = _id("before")
    rows = list(activity.actions_of(current_user.account_id, filters, before, activity.PAGE_SIZE + 1))
    people = User.select().where(User.account == current_user.account_id).order_by(User.email)
    streams = Stream.select().where(Stream.account == current_user.account_id).order_by(Stream.service, Stream.name)
    return render("account/activity.html", "account/_activity.html", actions=rows[:activity.PAGE_SIZE],
                  older=rows[activity.PAGE_SIZE - 1].id if len(rows) > activity.PAGE_SIZE else None,
                  filters=filters, people=list(people), streams=list(streams), what=activity.what)


@bp.route("/activity.csv")
@admin_required
def download():
    """Every action the filters select, as CSV, streamed: rows are read in keyset batches
    and sent as they are written, so a long log never sits whole in memory."""
    filters, account = _filters(), current_user.account_id  # checked before the first byte goes out
    chunks = activity.csv_chunks(activity.all_actions(account, filters))
    return csvexport.download(chunks, "streamdesk-activity.csv")
