"""OAuth 2.0 as X runs it: authorization code with PKCE, rotating refresh tokens, revoke,
and the app-only bearer token (client credentials with the app's consumer keys).

* ``GET /i/oauth2/authorize`` shows the consent page (as on x.com); *Authorize app*
  redirects with ``code`` and ``state``, *Cancel* with ``error=access_denied``.
* ``POST /2/oauth2/token`` exchanges a code (single use, ~30 s, S256 or plain PKCE
  checked against the verifier) or a refresh token (single use: it rotates).
* Confidential clients authenticate with HTTP Basic; public clients send ``client_id``.
* A parameter sent twice is refused with ``invalid_request``, as OAuth 2.0 requires
  (RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than
  once").
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, render_template_string, request

from .gateway import current_state
from .problems import server_error, too_many_requests
from .ratelimits import WINDOW
from .state import CODE_TTL, AuthCode, State

bp = Blueprint("twitter_oauth", __name__)

SCOPES = {
    "tweet.read": "See posts from your timeline (including protected posts) and your lists.",
    "tweet.write": "Post and repost for you.",
    "tweet.moderate.write": "Hide and unhide replies to your posts.",
    "users.read": "Any account you can view, including protected accounts.",
    "follows.read": "People who follow you and people you follow.",
    "follows.write": "Follow and unfollow people for you.",
    "offline.access": "Stay connected to your account until you revoke access.",
    "space.read": "All the Spaces you can view.",
    "mute.read": "Accounts you've muted.",
    "mute.write": "Mute and unmute accounts for you.",
    "like.read": "Posts you've liked and likes you can view.",
    "like.write": "Like and un-like posts for you.",
    "list.read": "Lists, list members, and list followers you can view.",
    "list.write": "Create and manage lists for you.",
    "block.read": "Accounts you've blocked.",
    "block.write": "Block and unblock accounts for you.",
    "bookmark.read": "Get bookmarked posts.",
    "bookmark.write": "Bookmark and remove bookmarks from posts.",
    "dm.read": "All your Direct Messages.",
    "dm.write": "Send and manage Direct Messages for you.",
    "media.write": "Upload media.",
}

ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>X / Error</title></head>
<body><main><h1>Something went wrong</h1>
<p>You weren't able to give access to the App. Go back and try logging in again.</p>
<!-- {{ reason }} --></main></body></html>"""

CONSENT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>X / Authorize an application</title></head>
<body><main>
<h1>{{ app_name }} wants to access your X account.</h1>
<form method="post" action="{{ action }}">
  {% for name, value in params.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}
  <label for="user_id">Signed in as</label>
  <select id="user_id" name="user_id">
    {% for user in users %}<option value="{{ user.id }}"{% if user.id == owner_id %} selected{% endif %}>
      {{ user.name }} (@{{ user.username }})</option>{% endfor %}
  </select>
  <h2>Things this App can view…</h2>
  <ul>{% for scope in scopes %}<li data-scope="{{ scope }}">{{ descriptions[scope] }}</li>{% endfor %}</ul>
  <button type="submit" name="decision" value="allow">Authorize app</button>
  <button type="submit" name="decision" value="cancel">Cancel</button>
</form>
</main></body></html>"""

AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")


def _authorize_error(reason: str) -> Response:
    return Response(render_template_string(ERROR_PAGE, reason=reason), status=400, content_type="text/html")


def _check_authorize(state: State, params) -> tuple[dict, list[str]] | Response:
    """The authorize parameters and requested scopes, or X's error page."""
    values = {name: params.get(name, "") for name in AUTHORIZE_PARAMS}
    client = state.clients.get(values["client_id"])
    redirect_uri = urlsplit(values["redirect_uri"])
    scopes = values["scope"].split()
    if values["response_type"] != "code":
        return _authorize_error("response_type must be code")
    if client is None:
        return _authorize_error("unknown client_id")
    if redirect_uri.scheme not in ("http", "https") or not redirect_uri.netloc:
        return _authorize_error("invalid redirect_uri")
    if values["redirect_uri"] not in client.get("callbacks", ()):
        # X compares with the app's registered callback URLs exactly and shows its error page.
        return _authorize_error("redirect_uri is not a registered callback URL")
    if not scopes or any(scope not in SCOPES for scope in scopes):
        return _authorize_error("invalid scope")
    if not values["state"] or not values["code_challenge"]:
        return _authorize_error("state and code_challenge are required")
    if values["code_challenge_method"] not in ("S256", "plain"):
        return _authorize_error("code_challenge_method must be S256 or plain")
    return values, scopes


@bp.get("/i/oauth2/authorize")
def authorize():
    """``GET /i/oauth2/authorize``: the consent page (or X's error page)."""
    state = current_state()
    with state.lock:
        checked = _check_authorize(state, request.args)
        if isinstance(checked, Response):
            return checked
        params, scopes = checked
        users = [u for u in state.users.values() if not u.suspended]
        return render_template_string(
            CONSENT_PAGE, app_name=state.clients[params["client_id"]]["name"], params=params,
            users=users, owner_id=state.owner_id, scopes=scopes, descriptions=SCOPES,
            action=request.path,
        )


@bp.post("/i/oauth2/authorize")
def decide():
    """``POST /i/oauth2/authorize``: *Authorize app* or *Cancel*, back to the redirect_uri."""
    state = current_state()
    with state.lock:
        checked = _check_authorize(state, request.form)
        if isinstance(checked, Response):
            return checked
        params, scopes = checked
        target = params["redirect_uri"]
        joiner = "&" if urlsplit(target).query else "?"
        if request.form.get("decision") != "allow":
            return redirect(target + joiner + urlencode({"error": "access_denied", "state": params["state"]}))
        user = state.users.get(request.form.get("user_id", ""))
        if user is None or user.suspended:
            return _authorize_error("unknown user")
        # The app's permission level caps what a person can grant it.
        granted = tuple(s for s in scopes if state.app_scopes is None or s in state.app_scopes)
        code = AuthCode(
            code=secrets.token_urlsafe(48), client_id=params["client_id"], redirect_uri=params["redirect_uri"],
            challenge=params["code_challenge"], method=params["code_challenge_method"], scopes=granted,
            user_id=user.id, created=state.clock.now(),
        )
        state.codes[code.code] = code
        return redirect(target + joiner + urlencode({"state": params["state"], "code": code.code}))


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response(json.dumps({"error": error, "error_description": description}), status=status,
                    content_type="application/json")


def _client(state: State) -> str | Response:
    """The authenticated client id: Basic for confidential clients, client_id for public ones."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return _oauth_error("unauthorized_client", "Missing valid authorization header", 401)
        client = state.clients.get(client_id)
        if client is None or client["secret"] != secret:
            return _oauth_error("unauthorized_client", "Missing valid authorization header", 401)
        return client_id
    client_id = request.form.get("client_id", "")
    client = state.clients.get(client_id)
    if client is None or client["secret"] is not None:
        return _oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    return client_id


def _duplicated() -> Response | None:
    """The invalid_request answer for a form parameter sent more than once, else None."""
    twice = sorted(name for name in request.form if len(request.form.getlist(name)) > 1)
    if twice:
        return _oauth_error("invalid_request", f"Parameter [{twice[0]}] must not be sent more than once.")
    return None


def _token_response(grant, with_refresh: bool = True) -> Response:
    body = {"token_type": "bearer", "expires_in": 7200, "access_token": grant.access_token,
            "scope": " ".join(grant.scopes)}
    if grant.refresh_token and with_refresh:
        body["refresh_token"] = grant.refresh_token
    return Response(json.dumps(body), content_type="application/json")


def _verifier_matches(code: AuthCode, verifier: str) -> bool:
    if code.method == "plain":
        return secrets.compare_digest(verifier, code.challenge)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return secrets.compare_digest(digest, code.challenge)


@bp.post("/2/oauth2/token")
def token():
    """``POST /2/oauth2/token``: authorization code (PKCE) or refresh token grant."""
    state = current_state()
    with state.lock:
        state.requests["POST /2/oauth2/token"] += 1
        state.paths["POST /2/oauth2/token"] += 1
        forced = state.limits.forced("POST /2/oauth2/token")
        if forced and forced.status == 429:
            reset = str(int(state.clock.now()) + WINDOW)
            return too_many_requests({"x-rate-limit-limit": "0", "x-rate-limit-remaining": "0",
                                      "x-rate-limit-reset": reset}).response()
        if forced:
            return server_error(forced.status).response()
        response = _duplicated() or _grant(state)
        if response.status_code == 200:
            override = state.limits.override("POST /2/oauth2/token")
            if override is not None:  # the grant was issued; its answer comes back garbled
                return Response(json.dumps(override.body), content_type="application/json")
        return response


def _grant(state: State) -> Response:
    client_id = _client(state)
    if isinstance(client_id, Response):
        return client_id
    grant_type = request.form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(state, client_id)
    if grant_type == "refresh_token":
        return _refresh(state, client_id)
    return _oauth_error("unsupported_grant_type", "Value passed for the grant type was invalid.")


def _exchange_code(state: State, client_id: str) -> Response:
    form = request.form
    for name in ("code", "redirect_uri", "code_verifier"):
        if not form.get(name):
            return _oauth_error("invalid_request", f"Missing required parameter [{name}].")
    code = state.codes.get(form["code"])
    if code is None or code.used or code.client_id != client_id or state.clock.now() - code.created > CODE_TTL:
        return _oauth_error("invalid_request", "Value passed for the authorization code was invalid.")
    code.used = True  # single use, even when the rest of the request is wrong
    if form["redirect_uri"] != code.redirect_uri:
        return _oauth_error("invalid_request",
                            "Value passed for the redirect uri did not match the uri of the authorization code.")
    if not _verifier_matches(code, form["code_verifier"]):
        return _oauth_error("invalid_request", "Value passed for the code verifier did not match the code challenge.")
    return _token_response(state.issue_grant(code.user_id, client_id, code.scopes))


def _refresh(state: State, client_id: str) -> Response:
    old = state.refresh.get(request.form.get("refresh_token", ""))
    if old is None or old.revoked or old.client_id != client_id:
        return _oauth_error("invalid_request", "Value passed for the token was invalid.")
    # Rotation: the refresh token is single use; the new grant carries a new one.
    presented = old.refresh_token
    state.refresh.pop(presented, None)
    old.refresh_token = None
    grant = state.issue_grant(old.user_id, client_id, old.scopes)
    if state.rotate_refresh or not grant.refresh_token:
        return _token_response(grant)
    # Rotation switched off (control API): the answer carries no refresh token and the
    # one presented stays the grant's, as with a service that does not rotate.
    state.refresh.pop(grant.refresh_token, None)
    grant.refresh_token = presented
    state.refresh[presented] = grant
    return _token_response(grant, with_refresh=False)


@bp.post("/2/oauth2/revoke")
def revoke():
    """``POST /2/oauth2/revoke``: end the authorization a token belongs to."""
    state = current_state()
    with state.lock:
        state.requests["POST /2/oauth2/revoke"] += 1
        state.paths["POST /2/oauth2/revoke"] += 1
        duplicated = _duplicated()
        if duplicated is not None:
            return duplicated
        client_id = _client(state)
        if isinstance(client_id, Response):
            return client_id
        value = request.form.get("token", "")
        grant = state.grants.get(value) or state.refresh.get(value)
        if grant is not None and grant.client_id == client_id:
            state.revoke_grant(grant)
        return Response(json.dumps({"revoked": True}), content_type="application/json")


@bp.post("/oauth2/token")
def app_only_token():
    """The app-only bearer token, from the consumer key and secret (client credentials)."""
    state = current_state()
    with state.lock:
        state.requests["POST /oauth2/token"] += 1
        state.paths["POST /oauth2/token"] += 1
        header = request.headers.get("Authorization", "")
        try:
            key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            key = secret = ""
        if not header.lower().startswith("basic ") or state.consumer_keys.get(key) != secret:
            body = {"errors": [{"code": 99, "message": "Unable to verify your credentials",
                                "label": "authenticity_token_error"}]}
            return Response(json.dumps(body), status=403, content_type="application/json")
        if request.form.get("grant_type") != "client_credentials":
            body = {"errors": [{"code": 170, "message": "Missing required parameter: grant_type",
                                "label": "forbidden_missing_parameter"}]}
            return Response(json.dumps(body), status=403, content_type="application/json")
        return Response(json.dumps({"token_type": "bearer", "access_token": state.app_token}),
                        content_type="application/json")
