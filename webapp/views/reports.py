"""Account settings → Topics → a topic's weekly reports (admins): who receives the
topic's dashboard by e-mail, on which weekday and hour; and "Send now" to try one."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import reports
from ..formvalues import int_or_none
from ..mail import MailError
from ..models import User
from ..streams import Runtime
from . import admin_required, is_partial_request, plugins, render, settings
from .topics import topic_or_404

bp = Blueprint("reports", __name__, url_prefix="/account/topics/<id:topic_id>/reports")


def _page(topic, status: int = 200, error: str | None = None, form=None, editing: int | None = None,
          notice: str | None = None):
    """The topic's schedules as forms (the one that failed, ``editing`` or the new one,
    keeps what was typed in ``form``)."""
    people = list(User.select(User.id, User.email).where(User.account == current_user.account_id)
                  .order_by(User.email))
    schedules = reports.of_topic(topic)
    states = {s.id: _state(s) for s in schedules}
    new = dict(people=set(), addresses="", weekday=0, hour=8, enabled=True)
    if form is not None:
        typed = dict(people=set(form.getlist("person")), addresses=form.get("addresses", ""),
                     weekday=int_or_none(form.get("weekday"), below=len(reports.WEEKDAYS)),
                     hour=int_or_none(form.get("hour"), below=24),
                     enabled=form.get("enabled") == "1")
        if editing in states:
            states[editing] = typed
        else:
            new = typed
    return render("account/reports.html", "account/_reports.html", status=status, topic=topic,
                  schedules=schedules, states=states, new=new, people=people, weekdays=reports.WEEKDAYS,
                  error=error, editing=editing, notice=notice)


def _state(schedule) -> dict:
    """A schedule as its form shows it: its people ticked, other addresses typed."""
    return dict(people={str(i) for i in schedule.user_ids}, addresses="\n".join(schedule.addresses),
                weekday=schedule.weekday, hour=schedule.hour, enabled=schedule.enabled)


def _schedule_or_404(topic, schedule_id: int):
    schedule = reports.get(topic, schedule_id)
    if schedule is None:
        abort(404, "There is no such report schedule for this topic.")
    return schedule


def _choice():
    """The form's schedule; ReportError names a bad value."""
    form = request.form
    return reports.check(current_user.account_id, form.getlist("person"), form.get("addresses", ""),
                         form.get("weekday", ""), form.get("hour", ""), enabled=form.get("enabled") == "1")


@bp.get("")
@admin_required
def index(topic_id: int):
    """The topic's report schedules, each editable, and a form for a new one."""
    return _page(topic_or_404(topic_id))


@bp.post("")
@admin_required
def create(topic_id: int):
    """Add a schedule."""
    topic = topic_or_404(topic_id)
    try:
        reports.create(current_user, topic, _choice())
    except reports.ReportError as exc:
        return _page(topic, 400, str(exc), request.form)
    return _done(topic, "The weekly report is scheduled.")


@bp.post("/<id:schedule_id>")
@admin_required
def update(topic_id: int, schedule_id: int):
    """Change a schedule."""
    topic = topic_or_404(topic_id)
    schedule = _schedule_or_404(topic, schedule_id)
    try:
        reports.update(schedule, _choice())
    except reports.ReportError as exc:
        return _page(topic, 400, str(exc), request.form, editing=schedule.id)
    return _done(topic, "The weekly report is changed.")


@bp.post("/<id:schedule_id>/delete")
@admin_required
def delete(topic_id: int, schedule_id: int):
    """Remove a schedule."""
    topic = topic_or_404(topic_id)
    reports.delete(_schedule_or_404(topic, schedule_id))
    return _done(topic, "The weekly report is deleted.")


@bp.post("/<id:schedule_id>/send")
@admin_required
def send_now(topic_id: int, schedule_id: int):
    """Send the report of the last seven days now, to its recipients, to see what they
    get; the schedule keeps its next time."""
    topic = topic_or_404(topic_id)
    schedule = _schedule_or_404(topic, schedule_id)
    try:
        count = reports.send_report(Runtime(settings(), plugins()), schedule)
    except MailError as exc:
        return _page(topic, 502, f"The report could not be sent: {exc}. The outbox shows what failed.")
    if not settings().smtp_url:
        return _done(topic, "No mail server is configured (SMTP_URL): the report is in the outbox, not sent.")
    return _done(topic, f"The report was sent to {count} address{'es' if count != 1 else ''}.")


def _done(topic, message: str):
    if is_partial_request():
        return _page(topic, notice=message)
    flash(message, "success")
    return redirect(url_for("reports.index", topic_id=topic.id), 303)
