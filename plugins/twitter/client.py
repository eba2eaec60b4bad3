"""HTTP access to X API v2: one place for tokens, timeouts, rate limits and error mapping.

Every call names its endpoint as X's rate-limit tables do (``GET /2/users/:id/tweets``).
The rate-limit headers of each answer — the 15-minute ``x-rate-limit-*`` window and, on
daily-capped endpoints, ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*`` — are
remembered per token (per app for the app's daily cap) and endpoint, so a call that would
be refused (window used up, reset still ahead) raises :class:`~webapp.errors.RateLimited`
*before* it is sent. X's answers become the shared typed errors; a 200 with only an
``errors`` array (a failed lookup) becomes NotFound.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

import requests

from webapp.errors import (
    InvalidQuery,
    NotFound,
    PermissionMissing,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenExpired,
)
from webapp.pluginkit import unreadable_message
from webapp.values import Credentials, ServiceConfig

TIMEOUT = (5, 30)  # connect, read (seconds)
USER_AGENT = "Streamdesk-twitter/0.1"
#: When X gives no reset header on a 429, wait a full window.
DEFAULT_RETRY = 15 * 60
#: A reset further ahead than this is not believed (X's longest window is a day).
MAX_RETRY = 2 * 86400
#: The rate-limit header groups X sends: (prefix, whose window) — the 15-minute window of
#: the token, and the daily caps of some POST endpoints, per user and per app.
LIMIT_GROUPS = (("x-rate-limit", "token"), ("x-user-limit-24hour", "token"), ("x-app-limit-24hour", "app"))
#: What every plugin hook says when an answer of X cannot be understood.
UNREADABLE = unreadable_message("X")
#: ``PermissionMissing.permission`` of refusals that are about the app, not the person:
#: its access level lacks the endpoint (client-forbidden), or the endpoint does not take
#: this kind of token (unsupported-authentication). Reconnecting cannot fix them.
APP_ACCESS = "app access level"
USER_CONTEXT = "user context"
APP_LEVEL = (APP_ACCESS, USER_CONTEXT)
#: At most this much of X's own error text is repeated in a message.
X_TEXT = 300


def clip(text: str, limit: int) -> str:
    """``text`` cut to its first ``limit`` characters (with an ellipsis when cut)."""
    return text if len(text) <= limit else text[:limit] + "…"


class BadRequest(ProviderUnavailable):
    """X answered 400 where the hook may not raise InvalidQuery (crawl, metrics, linking).

    To the core it is a ProviderUnavailable: the call is retried later. The crawl tells
    it apart to restart a pass whose stored position X no longer accepts.
    """


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def retry_after(headers, default: float = DEFAULT_RETRY) -> float:
    """Seconds until X allows the refused call again, from a 429's headers.

    The latest reset of the windows that are used up (remaining 0, or not reported) wins:
    a daily cap (``x-user-limit-24hour-reset``, ``x-app-limit-24hour-reset``) can outlast
    the 15-minute window by hours. A window that still has calls left did not cause the
    refusal and is ignored, unless no header says which one did.
    """
    now = time.time()
    resets, spent = [], []
    for prefix, _whose in LIMIT_GROUPS:
        reset = _number(headers.get(f"{prefix}-reset"))
        if reset is None:
            continue
        resets.append(reset)
        remaining = _number(headers.get(f"{prefix}-remaining"))
        if remaining is None or remaining <= 0:
            spent.append(reset)
    chosen = spent or resets
    if not chosen:
        return default
    return min(max(max(chosen) - now, 1.0), MAX_RETRY)


@dataclass
class RateWindow:
    """A rate-limit window as X last reported it."""

    limit: int
    remaining: int
    reset: float


class RateMemory:
    """The last rate-limit windows seen per (token, endpoint), shared by a process.

    ``key`` is (token fingerprint, endpoint); the app's daily cap is remembered once for
    all tokens, since X counts it for the whole app.
    """

    def __init__(self):
        self._windows: dict[tuple[str, str, str], RateWindow] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _slot(key: tuple[str, str], prefix: str, whose: str) -> tuple[str, str, str]:
        return ("app" if whose == "app" else key[0], key[1], prefix)

    def check(self, key: tuple[str, str]) -> None:
        """Raise RateLimited when a window is used up and not yet reset."""
        now = time.time()
        with self._lock:
            windows = [self._windows.get(self._slot(key, prefix, whose)) for prefix, whose in LIMIT_GROUPS]
        waits = [w.reset - now for w in windows if w and w.remaining <= 0 and w.reset > now]
        if waits:
            wait = min(max(waits), MAX_RETRY)
            raise RateLimited(wait, f"X's limit for {key[1]} is used up; retry in {int(wait) + 1} seconds.")

    def record(self, key: tuple[str, str], headers) -> None:
        """Remember the windows an answer reported."""
        for prefix, whose in LIMIT_GROUPS:
            try:
                window = RateWindow(int(headers[f"{prefix}-limit"]), int(headers[f"{prefix}-remaining"]),
                                    float(headers[f"{prefix}-reset"]))
            except (KeyError, ValueError, TypeError):
                continue
            with self._lock:
                self._windows[self._slot(key, prefix, whose)] = window

    def clear(self) -> None:
        """Forget every window (tests; a new process forgets anyway)."""
        with self._lock:
            self._windows.clear()


RATES = RateMemory()


def app_token(config: ServiceConfig) -> str:
    """The app-only bearer token for calls made without a person's credentials."""
    if not config.app_token:
        raise PermissionMissing(
            "app_token",
            "Looking up public X profiles needs the app's Bearer Token (TWITTER_APP_TOKEN), "
            "or a connected X profile.",
        )
    return config.app_token


class XClient:
    """Calls X API v2 with one bearer token (a person's, or the app's).

    ``invalid_query``: X's 400 answers become InvalidQuery (what the person typed or wrote
    was refused) — only for search and interactions, whose hooks may raise it. Elsewhere a
    400 is a :class:`BadRequest`, a ProviderUnavailable carrying X's message.
    """

    def __init__(self, config: ServiceConfig, token: str, user_context: bool = True,
                 session: requests.Session | None = None, invalid_query: bool = False):
        self.base = config.api_url.rstrip("/")
        self.token = token
        self.user_context = user_context
        self.invalid_query = invalid_query
        self.session = session or requests.Session()
        self.fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]

    @classmethod
    def for_credentials(cls, config: ServiceConfig, credentials: Credentials | None,
                        invalid_query: bool = False) -> XClient:
        """A client for ``credentials``, or for the app when there are none."""
        if credentials is None:
            return cls(config, app_token(config), user_context=False, invalid_query=invalid_query)
        return cls(config, credentials.access_token, invalid_query=invalid_query)

    def get(self, path: str, endpoint: str, params: dict | None = None, scope: str | None = None) -> dict:
        """``GET`` one endpoint (see :meth:`request`)."""
        return self.request("GET", path, endpoint, params=params, scope=scope)

    def request(self, method: str, path: str, endpoint: str, *, params: dict | None = None,
                json: dict | None = None, scope: str | None = None) -> dict:
        """Send one request; ``scope`` names the permission to report if X answers 403."""
        key = (self.fingerprint, endpoint)
        RATES.check(key)
        try:
            response = self.session.request(
                method, self.base + path, params=params, json=json, timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT},
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"X could not be reached ({type(exc).__name__}); Streamdesk will retry.") from exc
        RATES.record(key, response.headers)
        if response.status_code >= 300:
            raise self.error(response, scope)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderUnavailable(UNREADABLE)
        return body

    def error(self, response: requests.Response, scope: str | None) -> ProviderError:
        """The typed error for an X error response (problem+json)."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        detail = str(body.get("detail") or body.get("title") or "")
        if status == 401:
            if not self.user_context:
                return ProviderUnavailable("X refused the app's Bearer Token: check TWITTER_APP_TOKEN.")
            return TokenExpired("X no longer accepts this profile's access token (expired or revoked).")
        if status == 429:
            return RateLimited(retry_after(response.headers),
                               "X's rate limit was reached; Streamdesk will retry when it resets.")
        if status == 403:
            return forbidden_error(body, detail, scope)
        if status == 404:
            return NotFound(f"X could not find this ({detail or 'not found'}).")
        if status == 400:
            errors = body.get("errors")
            messages = [str(e.get("message") or "") for e in errors if isinstance(e, dict)] \
                if isinstance(errors, list) else []
            said = clip("; ".join(m for m in messages if m) or detail or "Bad Request", X_TEXT)
            if self.invalid_query:
                return InvalidQuery(f"X refused the request: {said}")
            return BadRequest(f"X refused a request Streamdesk sent ({said}); it will be retried.")
        return ProviderUnavailable(f"X is unavailable right now (HTTP {status}); Streamdesk will retry.")


def forbidden_error(body: dict, detail: str, scope: str | None) -> ProviderError:
    """403s: duplicates and gone tweets are about the content, the rest about permissions."""
    problem_type = str(body.get("type", ""))
    lowered = detail.lower()
    detail = clip(detail, X_TEXT)
    if "duplicate content" in lowered:
        return InvalidQuery("X refused this post: it duplicates one of your recent posts.")
    if "deleted or not visible" in lowered:
        return NotFound("X says the post you are answering was deleted or is not visible.")
    if problem_type.endswith("/client-forbidden"):
        reason = clip(str(body.get("reason") or "client-forbidden"), 60)
        return PermissionMissing(APP_ACCESS, f"X does not give this app access to that part of its API ({reason}); "
                                             "check the app's project and access level in the X developer portal.")
    if problem_type.endswith("/unsupported-authentication"):
        return PermissionMissing(USER_CONTEXT, "This needs a connected X profile; the app's token cannot do it.")
    if scope:
        return PermissionMissing(scope, f"X refused: {detail or 'Forbidden'} — the connected profile needs the "
                                        f"'{scope}' permission (reconnect it to grant it).")
    return PermissionMissing("unknown", f"X refused: {detail or 'Forbidden'}.")


def lookup_failed(body: dict, what: str) -> ProviderError:
    """The error for a 200 answer that has ``errors`` and no ``data`` (a failed lookup)."""
    error = (body.get("errors") or [{}])[0]
    problem_type = str(error.get("type", ""))
    detail = clip(str(error.get("detail") or error.get("message") or "not found"), X_TEXT)
    if problem_type.endswith("/not-authorized-for-resource"):
        return NotFound(f"{what} is protected: only approved followers can see its posts.")
    return NotFound(f"{what} is not available on X ({detail})")
