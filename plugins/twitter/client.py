"""HTTP access to X API v2: one place for tokens, timeouts, rate limits and error mapping.

Every call names its endpoint as X's rate-limit tables do (``GET /2/users/:id/tweets``).
The rate-limit headers of each answer — the 15-minute ``x-rate-limit-*`` window and, on
daily-capped endpoints, ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*`` — are
remembered per token (per app for the app's daily cap) and endpoint, so a call that would
be refused (window used up, reset still ahead) raises :class:`~streamdesk_contract.errors.RateLimited`
*before* it is sent. X's answers become the shared typed errors; a 200 with only an
``errors`` array (a failed lookup) becomes NotFound.

:data:`X_ERRORS` is the table of X's error answers: the first row that matches decides
what an answer becomes. :func:`table_markdown` renders it for docs/plugins.md (a test
keeps the two the same), and tests/test_error_table.py forces every row through the
emulator.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from streamdesk_contract.errors import (
    InvalidQuery,
    NotFound,
    PermissionMissing,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenExpired,
)
from streamdesk_contract.pluginkit import unreadable_message
from streamdesk_contract.values import Credentials, ServiceConfig

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
        """The typed error for an X error response (problem+json), as :data:`X_ERRORS` says."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        failure = XFailure(response.status_code, body, str(body.get("detail") or body.get("title") or ""),
                           str(body.get("type", "")), scope, self.user_context, self.invalid_query,
                           response.headers)
        return row_for(failure).make(failure)


@dataclass(frozen=True)
class XFailure:
    """One error answer of X, as the rows of :data:`X_ERRORS` read it."""

    status: int
    body: dict
    detail: str
    problem_type: str
    scope: str | None  # the scope the call needs (named when X answers 403)
    user_context: bool  # a person's token (False: the app's bearer token)
    invalid_query: bool  # the hook may raise InvalidQuery for a 400
    headers: object


@dataclass(frozen=True)
class Row:
    """One row of :data:`X_ERRORS`: what it matches, the behaviour, and why.

    Every criterion given must hold: ``statuses`` (the HTTP status), ``user_context``
    (whose token), ``problem`` (how the problem ``type`` ends), ``says`` (words of the
    ``detail``, any case). ``make`` builds the typed error that leads to ``behaviour``.
    """

    match: str
    behaviour: str
    why: str
    make: Callable[[XFailure], ProviderError]
    statuses: range
    user_context: bool | None = None
    problem: str | None = None
    says: str | None = None

    def matches(self, failure: XFailure) -> bool:
        """Whether ``failure`` is one of this row's errors."""
        return (failure.status in self.statuses
                and (self.user_context is None or failure.user_context == self.user_context)
                and (self.problem is None or failure.problem_type.endswith(self.problem))
                and (self.says is None or self.says in failure.detail.lower()))


def _expired(failure: XFailure) -> ProviderError:
    return TokenExpired("X no longer accepts this profile's access token (expired or revoked).")


def _app_token_refused(failure: XFailure) -> ProviderError:
    return ProviderUnavailable("X refused the app's Bearer Token: check TWITTER_APP_TOKEN.")


def _rate_limited(failure: XFailure) -> ProviderError:
    return RateLimited(retry_after(failure.headers), "X's rate limit was reached; Streamdesk will retry when it resets.")


def _duplicate(failure: XFailure) -> ProviderError:
    return InvalidQuery("X refused this post: it duplicates one of your recent posts.")


def _gone_parent(failure: XFailure) -> ProviderError:
    return NotFound("X says the post you are answering was deleted or is not visible.")


def _client_forbidden(failure: XFailure) -> ProviderError:
    reason = clip(str(failure.body.get("reason") or "client-forbidden"), 60)
    return PermissionMissing(APP_ACCESS, f"X does not give this app access to that part of its API ({reason}); "
                                         "check the app's project and access level in the X developer portal.")


def _unsupported_authentication(failure: XFailure) -> ProviderError:
    return PermissionMissing(USER_CONTEXT, "This needs a connected X profile; the app's token cannot do it.")


def _missing_scope(failure: XFailure) -> ProviderError:
    # X does not name the scope: the client knows which one the endpoint needs.
    detail = clip(failure.detail, X_TEXT) or "Forbidden"
    if failure.scope:
        return PermissionMissing(failure.scope, f"X refused: {detail} — the connected profile needs the "
                                                f"'{failure.scope}' permission (grant it by reconnecting).")
    return PermissionMissing("unknown", f"X refused: {detail}.")


def _not_found(failure: XFailure) -> ProviderError:
    return NotFound(f"X could not find this ({failure.detail or 'not found'}).")


def _bad_request(failure: XFailure) -> ProviderError:
    errors = failure.body.get("errors")
    messages = [str(e.get("message") or "") for e in errors if isinstance(e, dict)] \
        if isinstance(errors, list) else []
    said = clip("; ".join(m for m in messages if m) or failure.detail or "Bad Request", X_TEXT)
    if failure.invalid_query:
        return InvalidQuery(f"X refused the request: {said}")
    return BadRequest(f"X refused a request Streamdesk sent ({said}); it will be retried.")


def _transient(failure: XFailure) -> ProviderError:
    return ProviderUnavailable(f"X is unavailable right now (HTTP {failure.status}); Streamdesk will retry.")


def _status(code: int) -> range:
    return range(code, code + 1)


#: The table, first match wins (within 403, what the problem is about comes before the
#: missing scope, which is what is left).
X_ERRORS: tuple[Row, ...] = (
    Row("401, a person's token", "expired", "the access token expired or was revoked (after one forced refresh)",
        _expired, _status(401), user_context=True),
    Row("401, the app's bearer token", "transient, retried", "TWITTER_APP_TOKEN is wrong: nothing to reconnect",
        _app_token_refused, _status(401), user_context=False),
    Row("429", "rate limited (this token waits)", "a 15-minute window or a daily cap is used up; the "
        "x-rate-limit-reset headers say until when", _rate_limited, _status(429)),
    Row("403, “duplicate content”", "refused (shown to the person)", "a post identical to a recent one",
        _duplicate, _status(403), says="duplicate content"),
    Row("403, “deleted or not visible”", "not found", "the post being answered is gone",
        _gone_parent, _status(403), says="deleted or not visible"),
    Row("403, problem client-forbidden", "permission missing (the app's access level; no Grant link)",
        "the app's project or plan lacks the endpoint: the developer portal, not the person, can fix it",
        _client_forbidden, _status(403), problem="/client-forbidden"),
    Row("403, problem unsupported-authentication", "permission missing (user context; no Grant link)",
        "the endpoint needs a person's token", _unsupported_authentication, _status(403),
        problem="/unsupported-authentication"),
    Row("403, any other (a missing scope)", "permission missing (the scope the call needs)",
        "the token lacks a scope; X does not name it, the endpoint's own scope is reported",
        _missing_scope, _status(403)),
    Row("404", "not found", "no such resource", _not_found, _status(404)),
    Row("400", "refused (search, interactions) or retried (BadRequest)", "a parameter X refused",
        _bad_request, _status(400)),
    Row("5xx", "transient, retried", "X itself failed", _transient, range(500, 600)),
)
#: What a status no row matches becomes.
FALLBACK = Row("anything else", "transient, retried", "an answer X does not document", _transient, range(0))


def row_for(failure: XFailure) -> Row:
    """The :data:`X_ERRORS` row for one error answer."""
    return next((row for row in X_ERRORS if row.matches(failure)), FALLBACK)


def table_markdown() -> str:
    """:data:`X_ERRORS` as the Markdown table docs/plugins.md shows."""
    lines = ["| X answer | behaviour | why |", "| --- | --- | --- |"]
    lines += [f"| {row.match} | {row.behaviour} | {row.why} |" for row in (*X_ERRORS, FALLBACK)]
    return "\n".join(lines)


def lookup_failed(body: dict, what: str) -> ProviderError:
    """The error for a 200 answer that has ``errors`` and no ``data`` (a failed lookup)."""
    error = (body.get("errors") or [{}])[0]
    problem_type = str(error.get("type", ""))
    detail = clip(str(error.get("detail") or error.get("message") or "not found"), X_TEXT)
    if problem_type.endswith("/not-authorized-for-resource"):
        return NotFound(f"{what} is protected: only approved followers can see its posts.")
    return NotFound(f"{what} is not available on X ({detail})")
