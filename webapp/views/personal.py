"""Personal settings: the user's own profile, password, sessions and connected profiles."""
from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from streamdesk_contract.errors import ProviderError

from .. import linking, realtime, streams
from ..accounts import AccountError, TooManyAttempts, change_password, end_logins
from ..crawl import queue_crawl
from ..models import ConnectedProfile
from ..renewal import profiles_health
from . import Confirmation, confirmed, plugins, render, safe_next, settings

bp = Blueprint("personal", __name__, url_prefix="/personal")

#: What a provider's OAuth error codes mean, in words for people.
OAUTH_ERRORS = {
    "access_denied": "You cancelled the connection, so nothing was linked.",
    "mismatching_state": "The connection could not be verified (it was started in another window or expired). Please try again.",
}


@bp.route("/")
@login_required
def index():
    """Personal settings: profile and password."""
    return render("personal/index.html", "personal/_password.html")


@bp.route("/password", methods=["POST"])
@login_required
def password():
    """Change the user's own password."""
    try:
        if request.form.get("new_password") != request.form.get("confirm_password"):
            raise AccountError("The new passwords do not match.")
        change_password(current_user, request.form.get("current_password", ""),
                        request.form.get("new_password", ""), request.remote_addr or "?")
    except AccountError as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 400
        return render("personal/index.html", "personal/_password.html", status=status, error=str(exc))
    flash("Your password has been changed.", "success")
    if request.htmx:
        return render("personal/index.html", "personal/_password.html", message="Your password has been changed.")
    return redirect(url_for("personal.index"), code=303)


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every login of the user, this one included (a lost laptop, a shared computer)."""
    end_logins(current_user)
    logout_user()
    flash("You have been logged out everywhere.", "info")
    if request.htmx:
        # The page this came from is gone with the session: move the whole browser.
        return "", 204, {"HX-Redirect": url_for("auth.login")}
    return redirect(url_for("auth.login"), code=303)


def _profiles_view(status: int = 200, **context):
    # Only the current user's own profiles: connected profiles are private.
    mine = {p.service: p for p in ConnectedProfile.select().where(ConnectedProfile.user == current_user.id)}
    return render("personal/connected_profiles.html", "personal/_services.html", status=status,
                  loaded=plugins().services.values(), profiles=mine,
                  health=profiles_health(plugins(), list(mine.values())), **context)


@bp.route("/connected-profiles")
@login_required
def connected_profiles():
    """The services a user can link a personal profile with, and their links."""
    return _profiles_view()


def _service_or_404(service: str):
    if plugins().get(service) is None or linking.client(service) is None:
        return None
    return plugins().get(service)


@bp.route("/connected-profiles/<service>/connect")
@login_required
def connect(service: str):
    """Start linking: off to the provider's consent page (in a popup when JS opened one)."""
    if _service_or_404(service) is None:
        return _profiles_view(404, error=f"There is no service called “{service[:40]}” to connect.")
    session["link_popup"] = request.args.get("popup") == "1"
    # Where to come back to: the page whose Reconnect button started this, if any.
    session["link_next"] = safe_next(request.args.get("next"), url_for("personal.connected_profiles"))
    extra = {}
    if request.args.get("grant"):
        # A stream's Grant link: ask (again) for the permission it was refused.
        try:
            extra = linking.grant_params(settings(), plugins(), service, request.args["grant"])
        except linking.CannotGrant as exc:
            return _profiles_view(400, error=exc.message)
    redirect_uri = url_for("personal.callback", service=service, _external=True)
    return linking.client(service).authorize_redirect(redirect_uri, **extra)


@bp.route("/connected-profiles/<service>/callback")
@login_required
def callback(service: str):
    """The provider sends the person back here with a code (or an error)."""
    loaded = _service_or_404(service)
    if loaded is None:
        return _profiles_view(404, error=f"There is no service called “{service[:40]}” to connect.")
    label = loaded.service.label
    popup = session.pop("link_popup", False)
    rt = streams.Runtime(settings(), plugins())
    try:
        token = linking.client(service).authorize_access_token()
        linked = rt.call("streamdesk_link_profile", service, token=dict(token))
        linking.save_profile(rt, current_user, service, linked)
    except OAuthError as exc:
        ok, message = False, _refusal(label, exc)
    except ProviderError as exc:
        ok, message = False, f"{label}: {exc.message}"
    else:
        ok = True
        message = f"Your {label} profile {linked.name} is now connected."
        if linked.declined:
            message += f" You declined: {', '.join(linked.declined)}."
        message += _revive(rt, service)
    flash(message, "success" if ok else "error")
    if popup:
        # The popup tells the page that opened it to refresh, then closes itself.
        return render_template("personal/linked_popup.html", ok=ok, message=message)
    return redirect(session.pop("link_next", None) or url_for("personal.connected_profiles"))


def _refusal(label: str, exc: OAuthError) -> str:
    """What the person reads when the provider refuses the link (cancel, bad state, a
    bogus, used or expired code)."""
    error, description = exc.error, exc.description
    if isinstance(error, dict):
        # Facebook answers a refused code with its Graph error envelope, not the OAuth
        # 2.0 error string: authlib hands over the whole ``error`` object.
        description = error.get("error_user_msg") or error.get("message")
        error = str(error.get("type") or "")
    if error in OAUTH_ERRORS:
        return OAUTH_ERRORS[error]
    reason = str(description or error or "no reason given").strip().rstrip(".")
    return f"{label} refused the connection: {reason[:300]}."


def _revive(rt, service: str) -> str:
    """Bring the account's expired streams of ``service`` back with the new link.

    The profile is saved whatever happens here: a failure only leaves streams expired.
    """
    try:
        revived = linking.reconnect_streams(rt, current_user, service)
    except (ProviderError, streams.StreamError) as exc:
        return f" Expired streams could not be reconnected yet: {exc.message}"
    for stream in [*revived, *linking.retry_refused_streams(current_user, service)]:
        queue_crawl(settings(), stream)
    for stream in revived:
        realtime.queue_subscribe(rt, stream)  # the new token may grant what subscribing needs
    return f" Reconnected {len(revived)} expired stream{'s' if len(revived) > 1 else ''}." if revived else ""


@bp.route("/connected-profiles/<service>/disconnect", methods=["POST"])
@login_required
def disconnect(service: str):
    """Forget the user's connected profile for ``service`` (asked first: in a dialog
    with JavaScript, on a page of its own without)."""
    loaded = plugins().get(service)
    profile = streams.connected_profile(current_user, service) if loaded else None
    if profile is not None:
        ask = confirmed(Confirmation(
            f"Disconnect your {loaded.service.label} profile {profile.name}?",
            "Streams that crawl with its token will expire until someone reconnects them.",
            "Disconnect", url_for("personal.connected_profiles")))
        if ask:
            return ask
    name = linking.disconnect(streams.Runtime(settings(), plugins()), current_user, service) if loaded else None
    if name is None:
        return _profiles_view(404, error="You have no such connected profile.")
    message = f"Your {loaded.service.label} profile {name} is disconnected."
    if request.htmx:
        return _profiles_view(message=message)
    flash(message, "success")
    return redirect(url_for("personal.connected_profiles"), code=303)


@bp.route("/reconnect/<id:stream_id>", methods=["POST"])
@login_required
def reconnect(stream_id: int):
    """The Reconnect button of the red banner: link the stream's profile again (an
    unauthorized stream needs no person's token: it is simply queued again). Ends on
    the page the button was on."""
    back = safe_next(request.form.get("next"))
    try:
        stream = streams.get_stream(current_user.account, stream_id)
        if not linking.may_reconnect(current_user, stream):
            raise streams.StreamError(f"Only an admin of your account can reconnect “{stream.name}”: it uses "
                                      "the account's connection, not yours.")
        if stream.authorized:
            return redirect(url_for("personal.connect", service=stream.service, next=back), code=303)
        streams.requeue_expired(current_user.account, stream_id)
    except streams.StreamError as exc:
        flash(exc.message, "error")
    else:
        queue_crawl(settings(), stream)
        flash(f"“{stream.name}” is queued for crawling again.", "success")
    return redirect(back, code=303)
