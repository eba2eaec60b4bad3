"""Facebook Login: the OAuth dialog, the token endpoint and ``/debug_token``.

The dialog is plain server-rendered HTML (a browser test drives it): pick the seeded
person to act as, untick permissions to decline them, then *Continue* or *Cancel*.
Codes are single-use, tied to their redirect_uri and live ten minutes; the token
endpoint answers GET (as Graph documents) and POST form bodies (what OAuth clients send).
"""
from __future__ import annotations

import hmac
from datetime import timedelta
from html import escape
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, current_app, redirect, request

from .errors import GraphError
from .graph import graph_endpoint
from .model import Person
from .render import Ctx
from .seed import APP_ID, APP_NAME, APP_SECRET
from .state import CODE_LIFETIME, LONG_LIVED, PERMISSIONS

bp = Blueprint("oauth", __name__)

LABELS = {
    "public_profile": "Your name and profile picture",
    "email": "Your email address",
    "pages_show_list": "Show a list of the Pages you manage",
    "business_management": "Manage your business",
    "pages_read_engagement": "Read content posted on the Page",
    "pages_read_user_content": "Read user content on your Page",
    "pages_manage_posts": "Create and manage content on your Page",
    "pages_manage_engagement": "Manage comments on your Page",
    "read_insights": "Read Page insights",
    "pages_messaging": "Manage and access Page conversations in Messenger",
    "pages_manage_metadata": "Manage accounts, settings and webhooks for a Page",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#1c1e21}}
fieldset{{border:1px solid #dddfe2;border-radius:8px;margin:1rem 0}} label{{display:block;margin:.4rem 0}}
button{{font-size:1rem;padding:.5rem 1.4rem;margin-right:.5rem;border-radius:6px;border:1px solid #1877f2}}
button[value=continue]{{background:#1877f2;color:#fff}} .note{{color:#606770;font-size:.9rem}}</style>
</head><body>{body}</body></html>"""


class DialogRefused(Exception):
    """The dialog cannot go on: Facebook shows an error page instead of redirecting."""

    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title = title

    def page(self):
        """The error page Facebook shows in place of the dialog."""
        body = f"<h1>{escape(self.title)}</h1><p>{escape(str(self))}</p>"
        return PAGE.format(title=escape(self.title), body=body), 400, {"Content-Type": "text/html; charset=utf-8"}


URL_BLOCKED = ("This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth "
               "Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth "
               "Redirect URIs.")


def _check_request(args, registered) -> tuple[str, list[str]]:
    """Validate client_id, redirect_uri and scope: (redirect_uri, scopes), or DialogRefused.
    The redirect_uri must be one of the app's Valid OAuth Redirect URIs, exactly (strict
    mode, on for every app since 2018)."""
    if args.get("client_id") != APP_ID:
        raise DialogRefused("Invalid App ID", "The provided app ID does not look like a valid app ID.")
    redirect_uri = args.get("redirect_uri") or ""
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or redirect_uri not in registered:
        raise DialogRefused("URL Blocked", URL_BLOCKED)
    if args.get("response_type", "code") != "code":
        raise DialogRefused("Unsupported response type", "This app only uses the authorization code flow.")
    scopes = [s.strip() for s in (args.get("scope") or "").replace(" ", ",").split(",") if s.strip()]
    invalid = [s for s in scopes if s not in PERMISSIONS]
    if invalid:
        raise DialogRefused("Invalid Scopes", f"Invalid Scopes: {', '.join(invalid)}. This message is only shown "
                           "to developers.")
    return redirect_uri, list(dict.fromkeys(["public_profile", *scopes]))


def _back(redirect_uri: str, params: dict):
    separator = "&" if urlsplit(redirect_uri).query else "?"
    # Facebook appends "#_=_" to the redirect; clients must cope with it.
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}#_=_", code=302)


@bp.route("/<version>/dialog/oauth", methods=["GET"])
def dialog(version):
    """The consent page: the permissions of ``scope`` (a Grant link asks for one alone).

    A permission the person declined before is granted again only when the app sends
    ``auth_type=rerequest`` (see :func:`confirm`), as on Facebook."""
    try:
        redirect_uri, scopes = _check_request(request.args, current_app.config["FB_STATE"].redirect_uris)
    except DialogRefused as exc:
        return exc.page()
    st = current_app.config["FB_STATE"]
    people = [p for p in st.world.objects.values() if isinstance(p, Person) and p.can_login]
    options = "".join(f'<option value="{escape(p.id)}"{" selected" if i == 0 else ""}>{escape(p.name)}</option>'
                      for i, p in enumerate(people))
    boxes = "".join(
        f'<label><input type="checkbox" name="permissions" value="{escape(s)}" checked'
        f'{" disabled" if s == "public_profile" else ""}> {escape(LABELS[s])} ({escape(s)})</label>'
        for s in scopes)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(request.args.get(k, ""))}">'
                     for k in ("client_id", "redirect_uri", "state", "scope", "auth_type"))
    body = (f"<h1>{escape(APP_NAME)} is requesting access</h1>"
            f'<form method="post" action="/{escape(version)}/dialog/oauth/confirm">{hidden}'
            f'<label for="user_id">Continue as</label><select id="user_id" name="user_id">{options}</select>'
            f"<fieldset><legend>{escape(APP_NAME)} would like to:</legend>{boxes}</fieldset>"
            '<p class="note">Untick anything you do not want to share. You can change this later in '
            "Settings → Business integrations.</p>"
            '<button type="submit" name="action" value="continue">Continue</button>'
            '<button type="submit" name="action" value="cancel">Cancel</button></form>')
    return PAGE.format(title=f"Log in to {escape(APP_NAME)}", body=body)


@bp.route("/<version>/dialog/oauth/confirm", methods=["POST"])
def confirm(version):
    """Continue (a code) or Cancel (Facebook's user_denied error) back to the app."""
    try:
        redirect_uri, scopes = _check_request(request.form, current_app.config["FB_STATE"].redirect_uris)
    except DialogRefused as exc:
        return exc.page()
    state_param = request.form.get("state")
    extra = {"state": state_param} if state_param is not None else {}
    if request.form.get("action") != "continue":
        return _back(redirect_uri, {"error": "access_denied", "error_code": 200,
                                    "error_description": "Permissions error", "error_reason": "user_denied", **extra})
    st = current_app.config["FB_STATE"]
    with st.lock:
        person = st.world.get(request.form.get("user_id", ""))
        if not isinstance(person, Person) or not person.can_login:
            return DialogRefused("Unknown person", "Choose one of the listed people.").page()
        ticked = set(request.form.getlist("permissions")) | {"public_profile"}
        grants = st.grants.setdefault(person.id, {})
        rerequest = request.form.get("auth_type") == "rerequest"
        for scope in scopes:
            if grants.get(scope) == "declined" and not rerequest:
                # Facebook never asks again for a declined permission unless the app
                # says auth_type=rerequest: it stays declined.
                continue
            grants[scope] = "granted" if scope in ticked else "declined"
        st.removed.discard(person.id)
        code = st.new_code(APP_ID, redirect_uri, person.id)
    return _back(redirect_uri, {"code": code.code, **extra})


def _check_secret(args: dict) -> None:
    # Graph reads the client only from parameters: HTTP Basic credentials are ignored.
    if not args.get("client_id"):
        raise GraphError("Missing client_id parameter.", 101)
    if args.get("client_id") != APP_ID:
        raise GraphError("Error validating application. Invalid application ID.", 101)
    if not hmac.compare_digest(args.get("client_secret") or "", APP_SECRET):
        raise GraphError("Error validating client secret.", 1)


def _token_body(token) -> dict:
    return {"access_token": token.value, "token_type": "bearer",
            "expires_in": int((token.expires_at - token.issued_at).total_seconds())}


@bp.route("/<version>/oauth/access_token", methods=["GET", "POST"])
@graph_endpoint(needs_token=False)
def access_token(ctx: Ctx, args: dict):
    """Code exchange, long-lived token exchange and app tokens."""
    st = ctx.state
    grant_type = args.get("grant_type", "authorization_code")
    _check_secret(args)
    if grant_type == "client_credentials":
        return {"access_token": st.app_token(), "token_type": "bearer"}
    if grant_type == "fb_exchange_token":
        user_token = st.resolve(args.get("fb_exchange_token"))
        if user_token.kind != "USER":
            raise GraphError("(#100) fb_exchange_token must be a user access token", 100)
        return _token_body(st.mint_user_token(user_token.user_id, LONG_LIVED))
    if grant_type != "authorization_code":
        raise GraphError(f"(#100) Unsupported grant_type: {grant_type}", 100)
    for name in ("redirect_uri", "code"):
        if not args.get(name):
            raise GraphError(f"(#100) Missing {name} parameter.", 100)
    code = st.codes.get(args["code"])
    if code is None:
        raise GraphError("Invalid verification code format.", 100)
    if code.used:
        raise GraphError("This authorization code has been used.", 100, 36009)
    if st.now() - code.created > CODE_LIFETIME:
        raise GraphError("This authorization code has expired.", 100, 36007)
    if code.redirect_uri != args["redirect_uri"]:
        raise GraphError("Error validating verification code. Please make sure your redirect_uri is identical to "
                         "the one you used in the OAuth dialog request", 100, 36008)
    code.used = True
    return _token_body(st.mint_user_token(code.user_id, LONG_LIVED))


@bp.route("/<version>/debug_token", methods=["GET"])
@graph_endpoint()
def debug_token(ctx: Ctx, args: dict):
    """What Graph knows about ``input_token``: validity, expiry, scopes per page."""
    st = ctx.state
    if ctx.token.kind not in ("APP", "USER"):
        raise GraphError("(#100) You must provide an app access token, or a user access token that is an owner "
                         "or developer of the app", 100)
    value = args.get("input_token")
    if not value:
        raise GraphError("(#100) The parameter input_token is required", 100)
    if value == st.app_token():
        return {"data": {"app_id": APP_ID, "type": "APP", "application": APP_NAME, "is_valid": True, "scopes": []}}
    token = st.tokens.get(value)
    if token is None:
        return {"data": {"error": {"code": 190, "message": "Invalid OAuth access token."},
                         "is_valid": False, "scopes": []}}
    granted = sorted(st.granted(token.user_id))
    managed = [p.id for p in st.world.pages() if token.user_id in p.roles]
    data = {
        "app_id": APP_ID, "type": token.kind, "application": APP_NAME,
        "data_access_expires_at": int((token.issued_at + timedelta(days=90)).timestamp()),
        "expires_at": int(token.expires_at.timestamp()) if token.expires_at else 0,
        "is_valid": True, "issued_at": int(token.issued_at.timestamp()), "scopes": granted,
        # Page permissions are granted per page: Graph lists the pages as target_ids.
        "granular_scopes": [{"scope": s, **({"target_ids": managed} if s.startswith("pages_")
                                            and s != "pages_show_list" else {})}
                            for s in granted if s != "public_profile"],
        "user_id": token.user_id,
    }
    if token.kind == "PAGE":
        data["profile_id"] = token.page_id
    problem = st.token_status(token)
    if problem is not None:
        data["is_valid"] = False
        data["error"] = {"code": problem.code, "message": problem.message, "subcode": problem.subcode}
    return {"data": data}
