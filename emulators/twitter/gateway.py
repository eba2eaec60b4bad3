"""What every v2 request goes through before its handler: counting, forced failures,
authentication, the app's access level, scopes, rate-limit windows and daily caps — in
the order X applies them — and, after it, a malformed answer the control API asked for.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from flask import Response, current_app, request

from .problems import (
    ApiError,
    client_forbidden,
    missing_scope,
    server_error,
    too_many_requests,
    unauthorized,
    unsupported_authentication,
)
from .state import State


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (OAuth 2.0 user context) or the app (bearer token)."""

    key: str
    user_id: str | None
    scopes: frozenset[str]

    @property
    def app_only(self) -> bool:
        """True for the app's bearer token (no user context)."""
        return self.user_id is None


def current_state() -> State:
    """The State of the emulator serving this request."""
    return current_app.config["TWITTER_STATE"]


def authenticate(state: State) -> Principal:
    """The caller behind the bearer token, or the 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    if token in state.app_tokens:
        return Principal(key="app", user_id=None, scopes=frozenset())
    grant = state.grants.get(token)
    if grant is None or grant.revoked or grant.expires_at <= state.clock.now():
        raise unauthorized()
    return Principal(key=f"user:{grant.user_id}", user_id=grant.user_id, scopes=frozenset(grant.scopes))


def json_response(body: object, status: int = 200) -> Response:
    """A JSON response as X sends it."""
    return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")


def endpoint(template: str, scopes: tuple[str, ...] = (), user_context: bool = False):
    """Wrap a v2 handler ``fn(state, principal, **path)`` returning ``(body, status)``.

    ``template`` names the endpoint as X's rate-limit tables do; ``scopes`` are the OAuth
    2.0 scopes a user token needs; ``user_context`` refuses app-only tokens.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(**path):
            state = current_state()
            with state.lock:
                state.requests[template] += 1
                state.paths[f"{request.method} {request.path}"] += 1
                forced = state.limits.forced(template)
                # X says no more than this for a dead token or a missing scope.
                if forced and forced.status == 401:
                    raise unauthorized()
                if forced and forced.status == 403:
                    raise missing_scope()
                if forced and forced.status != 429:
                    raise server_error(forced.status)
                principal = authenticate(state)
                refusal = state.refused.get(template)  # the app's access level lacks it
                if refusal == "client-forbidden":
                    raise client_forbidden(state.app_id)
                if refusal == "unsupported-authentication" or (user_context and principal.app_only):
                    raise unsupported_authentication()
                if not principal.app_only and not set(scopes) <= principal.scopes:
                    raise missing_scope()
                now = state.clock.now()
                window = state.limits.window(principal.key, template, principal.app_only, now)
                daily = state.limits.daily_windows(principal.key, template, now)

                def headers(spent_daily: bool = False) -> dict[str, str]:
                    out = window.headers()
                    for prefix, cap in daily:
                        out |= cap.headers(prefix, spent=spent_daily)
                    return out

                if forced:  # a forced refusal reports an empty window, without draining it
                    if daily and forced.daily:
                        raise too_many_requests(headers(spent_daily=True))
                    raise too_many_requests(headers() | {"x-rate-limit-remaining": "0"})
                if window.remaining <= 0 or any(cap.remaining <= 0 for _prefix, cap in daily):
                    raise too_many_requests(headers())
                window.remaining -= 1
                for _prefix, cap in daily:
                    cap.remaining -= 1
                try:
                    body, status = fn(state, principal, **path)
                except ApiError as exc:
                    exc.headers.update(headers())
                    raise
                override = state.limits.override(template)
                if override is not None:  # the call happened; its answer comes back garbled
                    body, status = override.body, 200
                response = json_response(body, status)
                response.headers.update(headers())
                return response

        return wrapper

    return decorate
