"""HTTP access to X API v2: one place for tokens, timeouts, rate limits and error mapping.

Every call names its endpoint as X's rate-limit tables do (``GET /2/users/:id/tweets``).
The ``x-rate-limit-*`` headers of each answer are remembered per token and endpoint, so
a call that would be refused (window used up, reset still ahead) raises
:class:`~webapp.errors.RateLimited` *before* it is sent. X's answers become the shared
typed errors; a 200 with only an ``errors`` array (a failed lookup) becomes NotFound.
"""
from __future__ import annotations

import hashlib
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
from webapp.values import Credentials, ServiceConfig

TIMEOUT = (5, 30)  # connect, read (seconds)
USER_AGENT = "Streamdesk-twitter/0.1"
#: When X gives no reset header on a 429, wait a full window.
DEFAULT_RETRY = 15 * 60


@dataclass
class RateWindow:
    """A rate-limit window as X last reported it."""

    limit: int
    remaining: int
    reset: float


class RateMemory:
    """The last rate-limit window seen per (token, endpoint), shared by a process."""

    def __init__(self):
        self._windows: dict[tuple[str, str], RateWindow] = {}
        self._lock = threading.Lock()

    def check(self, key: tuple[str, str]) -> None:
        """Raise RateLimited when the window is used up and not yet reset."""
        with self._lock:
            window = self._windows.get(key)
        if window and window.remaining <= 0:
            wait = window.reset - time.time()
            if wait > 0:
                raise RateLimited(wait, f"X's limit for {key[1]} is used up; retry in {int(wait) + 1} seconds.")

    def record(self, key: tuple[str, str], headers) -> None:
        """Remember the window an answer reported."""
        try:
            window = RateWindow(int(headers["x-rate-limit-limit"]), int(headers["x-rate-limit-remaining"]),
                                float(headers["x-rate-limit-reset"]))
        except (KeyError, ValueError):
            return
        with self._lock:
            self._windows[key] = window

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
    """Calls X API v2 with one bearer token (a person's, or the app's)."""

    def __init__(self, config: ServiceConfig, token: str, user_context: bool = True,
                 session: requests.Session | None = None):
        self.base = config.api_url.rstrip("/")
        self.token = token
        self.user_context = user_context
        self.session = session or requests.Session()
        self.fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]

    @classmethod
    def for_credentials(cls, config: ServiceConfig, credentials: Credentials | None) -> XClient:
        """A client for ``credentials``, or for the app when there are none."""
        if credentials is None:
            return cls(config, app_token(config), user_context=False)
        return cls(config, credentials.access_token)

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
            raise ProviderUnavailable("X sent an answer Streamdesk cannot read; it will retry.")
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
            try:
                wait = float(response.headers["x-rate-limit-reset"]) - time.time()
            except (KeyError, ValueError):
                wait = DEFAULT_RETRY
            return RateLimited(max(wait, 1.0), "X's rate limit was reached; Streamdesk will retry when it resets.")
        if status == 403:
            return forbidden_error(body, detail, scope)
        if status == 404:
            return NotFound(f"X could not find this ({detail or 'not found'}).")
        if status == 400:
            messages = [e.get("message", "") for e in body.get("errors", []) if isinstance(e, dict)]
            return InvalidQuery("X refused the request: " + ("; ".join(m for m in messages if m) or detail))
        return ProviderUnavailable(f"X is unavailable right now (HTTP {status}); Streamdesk will retry.")


def forbidden_error(body: dict, detail: str, scope: str | None) -> ProviderError:
    """403s: duplicates and gone tweets are about the content, the rest about permissions."""
    problem_type = str(body.get("type", ""))
    lowered = detail.lower()
    if "duplicate content" in lowered:
        return InvalidQuery("X refused this post: it duplicates one of your recent posts.")
    if "deleted or not visible" in lowered:
        return NotFound("X says the post you are answering was deleted or is not visible.")
    if problem_type.endswith("/unsupported-authentication"):
        return PermissionMissing("user context", "This needs a connected X profile; the app's token cannot do it.")
    if scope:
        return PermissionMissing(scope, f"X refused: {detail or 'Forbidden'} — the connected profile needs the "
                                        f"'{scope}' permission (reconnect it to grant it).")
    return PermissionMissing("unknown", f"X refused: {detail or 'Forbidden'}.")


def lookup_failed(body: dict, what: str) -> ProviderError:
    """The error for a 200 answer that has ``errors`` and no ``data`` (a failed lookup)."""
    error = (body.get("errors") or [{}])[0]
    problem_type = str(error.get("type", ""))
    detail = error.get("detail") or error.get("message") or "not found"
    if problem_type.endswith("/not-authorized-for-resource"):
        return NotFound(f"{what} is protected: only approved followers can see its posts.")
    return NotFound(f"{what} is not available on X ({detail})")
