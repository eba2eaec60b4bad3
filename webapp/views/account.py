"""Account settings (admins only): users and roles, and the system status."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from .. import accounts, diagnostics, linking, queue, realtime
from ..jobs import last_seen
from ..models import ConnectedProfile, OutboxEmail, User
from ..renewal import profiles_health
from ..streams import Runtime
from . import admin_required, plugins, render, settings

bp = Blueprint("account", __name__, url_prefix="/account")


def _users_view(status: int = 200, **context):
    return render("account/users.html", "account/_users.html", status=status,
                  users=list(accounts.users_of(current_user.account)), **context)


@bp.route("/")
@admin_required
def index():
    return redirect(url_for("topics.index"))


@bp.route("/users")
@admin_required
def users():
    """The account's users and their roles."""
    return _users_view()


@bp.route("/users", methods=["POST"])
@admin_required
def create_user():
    """Add a user to the admin's account."""
    form = request.form
    try:
        user = accounts.create_user(current_user.account, form.get("email", ""),
                                    form.get("password", ""), form.get("role", "member"))
    except accounts.AccountError as exc:
        return _users_view(400, error=str(exc), form=form)
    return _done(f"{user.email} has been added as {user.role}.")


@bp.route("/users/<id:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int):
    """Make a user admin or member; the last admin cannot be demoted."""
    try:
        user = accounts.change_role(current_user.account, user_id, request.form.get("role", ""))
    except accounts.AccountError as exc:
        return _users_view(400, error=str(exc))
    if user.id == current_user.id and not user.is_admin:
        # No longer an admin: Account settings is closed to them now.
        return _leave(f"You are now a {user.role}.", url_for("main.topics"))
    return _done(f"{user.email} is now {user.role}.")


@bp.route("/users/<id:user_id>/delete", methods=["POST"])
@admin_required
def remove_user(user_id: int):
    """Remove a user; the last admin cannot be removed."""
    try:
        email = accounts.remove_user(current_user.account, user_id)
    except accounts.AccountError as exc:
        return _users_view(400, error=str(exc))
    if user_id == current_user.id:
        return _leave("You removed yourself from the account.", url_for("auth.login"))
    return _done(f"{email} has been removed.")


def _leave(message: str, target: str):
    """Send the whole page elsewhere (HX-Redirect for htmx, not a swap of the target)."""
    flash(message, "info")
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def _done(message: str):
    # htmx swaps the refreshed list in place; a plain form post redirects (PRG).
    if request.htmx:
        return _users_view(message=message)
    flash(message, "success")
    return redirect(url_for("account.users"), code=303)


#: How many of the newest e-mails the outbox shows.
OUTBOX_SIZE = 100


@bp.route("/outbox")
@admin_required
def outbox():
    """The e-mails Streamdesk sent to the account's people, newest first (without
    SMTP_URL: the ones it would have sent)."""
    emails = (OutboxEmail.select().where(OutboxEmail.account == current_user.account)
              .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()).limit(OUTBOX_SIZE))
    return render("account/outbox.html", "account/_outbox.html", emails=list(emails),
                  smtp=bool(settings().smtp_url))


@bp.route("/status")
@admin_required
def status():
    """Scheduler heartbeat, queue lengths, live workers, setup diagnostics and each
    service's webhooks (verified when, last event, subscribed pages)."""
    beat, recent = last_seen("scheduler")
    queue_status, queue_error = None, None
    try:
        if not settings().redis_url:
            queue_error = "REDIS_URL is not set: the queue runs only under `streamdesk run`."
        else:
            with queue.connected(settings().redis_url) as client:
                queue_status = queue.status(client)
    except queue.QueueUnavailable as exc:
        queue_error = str(exc)
    callbacks = {service: url_for("personal.callback", service=service, _external=True)
                 for service in plugins().services if linking.client(service) is not None}
    setup = (diagnostics.api_version_warnings(plugins().services, datetime.now(UTC).date())
             + diagnostics.callback_problems(settings(), plugins(), callbacks))
    profiles = list(ConnectedProfile.select(ConnectedProfile, User).join(User)
                    .where(User.account == current_user.account).order_by(User.email, ConnectedProfile.service))
    return render("account/status.html", "account/_status.html", beat=beat, recent=recent,
                  queue_status=queue_status, queue_error=queue_error, setup=setup,
                  profiles=profiles, health=profiles_health(plugins(), profiles),
                  webhooks=realtime.webhook_status(Runtime(settings(), plugins()), current_user.account))
