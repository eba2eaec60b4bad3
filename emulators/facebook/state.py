"""The emulator's mutable state: the seeded world, issued tokens, grants, forced faults,
usage figures, the per-path call counter and a log of recent requests.

One :class:`State` per emulator app. Requests are served by threads, so every route runs
under :attr:`State.lock`.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import errors
from .model import AuthCode, Page, Person, Token, World
from .seed import APP_ID, APP_SECRET, SEED_NOW, build_world
from .webhooks import Deliverer

#: Lifetimes Graph gives: a user token from the code or the exchange lives ~60 days.
LONG_LIVED = timedelta(seconds=5183944)
CODE_LIFETIME = timedelta(minutes=10)
#: Calls per rolling window that make 100 % of the usage headers.
APP_CALLS_PER_HOUR = 5000
PAGE_CALLS_PER_DAY = 4800
#: Usage (percent) from which Graph starts sending the usage headers: "if your app is
#: making enough calls to be considered for rate limiting by our system, we return an
#: X-App-Usage HTTP header" (developers.facebook.com/docs/graph-api/overview/rate-limiting).
USAGE_HEADERS_FROM = 1

PERMISSIONS = (
    "public_profile", "email", "pages_show_list", "business_management", "pages_read_engagement",
    "pages_read_user_content", "pages_manage_posts", "pages_manage_engagement", "read_insights",
    "pages_messaging", "pages_manage_metadata",
)


#: A malformed fault without ``value`` deletes the field instead of setting it.
DELETE = object()


@dataclass
class Fault:
    """A forced failure for the next ``count`` Graph calls (of ``path`` only, when set),
    or for every call until ``until`` (a storm).

    ``kind`` is one of :data:`FAULT_KINDS`. A ``malformed`` fault lets the call succeed
    and damages its 200 body: ``field`` deleted (or set to ``value``) in every item of
    the ``data`` list (of the ``within`` edge of a node, or in the body itself when it
    has no list), ``next_drop`` removed from the ``paging.next`` link, or the whole
    ``body`` replaced.
    """

    kind: str
    code: int = 0
    status: int = 503
    #: ``error`` faults: Graph's subcode and message (None: what Graph says for the code).
    subcode: int | None = None
    message: str | None = None
    count: int = 1
    #: Minutes to regain access in the usage header (a fraction only in tests).
    regain_minutes: int | float = 0
    path: str | None = None
    field: str | None = None
    value: object = DELETE
    within: str | None = None
    next_drop: tuple[str, ...] = ()
    body: object = DELETE
    #: A storm: every call fails until this ``time.monotonic()``, whatever ``count`` says.
    until: float | None = None

    def applies_to(self, path: str) -> bool:
        """Whether this fault is for a call of ``path``."""
        return self.path is None or self.path.rstrip("/") == path.rstrip("/")


FAULT_KINDS = ("rate_limit", "transient", "reduce_data", "posting_too_fast", "server", "malformed", "error")


class State:
    """All mutable emulator state, reset to the seed by :meth:`reset`."""

    def __init__(self, redirect_uris=()) -> None:
        self.lock = threading.RLock()
        #: The app's Valid OAuth Redirect URIs as registered at start (reset restores them).
        self.registered_redirect_uris = tuple(redirect_uris)
        #: The app's webhook subscription and the deliveries due (its thread outlives resets).
        self.webhooks = Deliverer(self)
        self.reset()

    def reset(self) -> None:
        """Back to the seed: same world, no tokens, no grants, no faults, zero counters."""
        self.world: World = build_world()
        # The running clock never shows a time before the seed's end, whatever the host says;
        # the control API can move it forward (simulated polling over days).
        self.clock_offset = max(timedelta(0), SEED_NOW + timedelta(minutes=5) - datetime.now(UTC))
        #: Valid OAuth Redirect URIs (Facebook Login → Settings; strict mode: exact match).
        self.redirect_uris: list[str] = list(self.registered_redirect_uris)
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        #: (person id) → {permission: "granted" | "declined"} for the one app.
        self.grants: dict[str, dict[str, str]] = {}
        #: People who removed the app (Settings → Business integrations → Remove).
        self.removed: set[str] = set()
        self.faults: list[Fault] = []
        self.forced_usage: dict[str, dict] = {}
        self.calls: Counter = Counter()
        #: Calls whose URL carried a secret in any query parameter — an access token
        #: (``access_token``, ``input_token``, ``fb_exchange_token``…) or the app secret.
        #: Clients should send tokens in the Authorization header or a POST body.
        self.tokens_in_urls = 0
        #: (time, bucket) of every call, for the usage headers of each bucket.
        self.history: deque[tuple[float, str]] = deque(maxlen=20000)
        #: The latest calls as the control API shows them (secrets masked).
        self.requests: deque[dict] = deque(maxlen=500)
        #: How /feed and /posts page: "time" (since/until, as Graph does) or "cursor"
        #: (after/before), to check that clients follow whatever link Graph gives.
        self.feed_paging = "time"
        self.webhooks.clear()

    # --- clock ---------------------------------------------------------------------------
    def now(self) -> datetime:
        """The emulator's clock (never before the seed's end)."""
        return (datetime.now(UTC) + self.clock_offset).replace(microsecond=0)

    # --- tokens --------------------------------------------------------------------------
    def mint_user_token(self, user_id: str, lifetime: timedelta = LONG_LIVED) -> Token:
        """Issue a user token for ``user_id`` valid for ``lifetime``."""
        person = self.world.get(user_id)
        token = Token(value="EAAG" + secrets.token_urlsafe(48).replace("-", "A").replace("_", "B"),
                      kind="USER", user_id=user_id, issued_at=self.now(),
                      expires_at=self.now() + lifetime, password_epoch=person.password_epoch)
        self.tokens[token.value] = token
        self.removed.discard(user_id)
        return token

    def page_token(self, user_token: Token, page: Page) -> Token:
        """The page token derived from ``user_token`` (the same one on every call, as Graph
        returns a stable page token per user session). It never expires when the user
        token is long-lived."""
        digest = hashlib.sha256(f"{user_token.value}:{page.id}".encode()).hexdigest()
        value = "EAAGp" + digest
        token = self.tokens.get(value)
        if token is None:
            token = Token(value=value, kind="PAGE", user_id=user_token.user_id, page_id=page.id,
                          issued_at=self.now(), expires_at=None, password_epoch=user_token.password_epoch,
                          parent=user_token.value)
            self.tokens[value] = token
        return token

    def app_token(self) -> str:
        """The app token ``{app-id}|{app-secret}``."""
        return f"{APP_ID}|{APP_SECRET}"

    def peek(self, value: str | None) -> Token | None:
        """The token behind ``value`` without checking it (None when unknown)."""
        if value and value == self.app_token():
            return Token(value=value, kind="APP")
        return self.tokens.get(value or "")

    def resolve(self, value: str | None, proof: str | None = None) -> Token:
        """The valid token behind ``value``, or the GraphError Graph would answer with."""
        if not value:
            raise errors.token_required()
        if value == self.app_token():
            return Token(value=value, kind="APP")
        token = self.tokens.get(value)
        if token is None:
            raise errors.token_unparsable()
        if proof is not None:
            expected = hmac.new(APP_SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, proof):
                raise errors.bad_appsecret_proof()
        self.check_alive(token)
        return token

    def check_alive(self, token: Token) -> None:
        """Raise the 190-family error that makes ``token`` (or its parent) unusable."""
        chain = [token] + ([self.tokens[token.parent]] if token.parent in self.tokens else [])
        person = self.world.objects.get(token.user_id) if token.user_id else None
        if token.user_id in self.removed:
            raise errors.app_not_authorized(token.user_id, APP_ID)
        if isinstance(person, Person) and person.password_epoch != token.password_epoch:
            raise errors.password_changed()
        for link in chain:
            if link.killed == "revoked":
                raise errors.app_not_authorized(token.user_id, APP_ID)
            if link.killed == "invalid":
                raise errors.session_invalid()
        # A page token outlives the expiry of the long-lived user token it came from.
        if token.killed == "expired":
            raise errors.token_expired(token.killed_at or self.now(), self.now())
        if token.expires_at is not None and token.expires_at <= self.now():
            raise errors.token_expired(token.expires_at, self.now())

    def token_status(self, token: Token) -> errors.GraphError | None:
        """The error a call with ``token`` would get, or None when it works."""
        try:
            self.check_alive(token)
        except errors.GraphError as exc:
            return exc
        return None

    # --- grants --------------------------------------------------------------------------
    def granted(self, user_id: str | None) -> set[str]:
        """The permissions the person granted the app."""
        if user_id is None:
            return set()
        return {p for p, status in self.grants.get(user_id, {}).items() if status == "granted"}

    def tasks(self, token: Token, page_id: str) -> tuple[str, ...]:
        """The tasks of the token's person on the page."""
        page = self.world.get(page_id)
        if not isinstance(page, Page) or token.user_id is None:
            return ()
        return page.roles.get(token.user_id, ())

    # --- counting, usage and faults ---------------------------------------------------------
    def is_secret(self, value: str) -> bool:
        """Whether ``value`` is a token the emulator issued, the app token or the secret."""
        return bool(value) and (value in self.tokens or value == self.app_token() or APP_SECRET in value)

    def count(self, method: str, path: str, query: dict[str, str]) -> dict:
        """Count one Graph call (per ``METHOD /path``), note whether its URL carried a
        secret, and log it; returns the log entry (its ``token`` is filled in later)."""
        self.calls[f"{method} {path}"] += 1
        self.tokens_in_urls += any(self.is_secret(v) for v in query.values())
        entry = {"method": method, "path": path,
                 "query": {k: "<secret>" if self.is_secret(v) else v for k, v in query.items()}, "token": None}
        self.requests.append(entry)
        return entry

    def bucket_of(self, token: Token | None) -> str:
        """Whose quota a call uses: the page's for page tokens, else the app's."""
        return token.page_id if token is not None and token.kind == "PAGE" else "app"

    def _usage_clock(self) -> float:
        # The host's monotonic clock moved with the emulated one, so that moving the clock
        # forward ages the calls out of the rolling usage window as time passing would.
        return time.monotonic() + self.clock_offset.total_seconds()

    def use(self, bucket: str) -> None:
        """Remember that one call used ``bucket``'s quota now."""
        self.history.append((self._usage_clock(), bucket))

    def usage(self, bucket: str) -> dict:
        """Usage percentages for ``bucket`` ("app" or a page id) from the calls made on
        that bucket alone, unless the control API forced them."""
        if bucket in self.forced_usage:
            return dict(self.forced_usage[bucket])
        horizon = 3600 if bucket == "app" else 86400
        limit = APP_CALLS_PER_HOUR if bucket == "app" else PAGE_CALLS_PER_DAY
        since = self._usage_clock() - horizon
        used = sum(1 for at, owner in self.history if at >= since and owner == bucket)
        percent = min(100, used * 100 // limit)
        return {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2,
                "estimated_time_to_regain_access": 0}

    def next_fault(self, path: str) -> Fault | None:
        """Consume one forced fault for the current Graph call of ``path``, if one is queued."""
        now = time.monotonic()
        self.faults = [f for f in self.faults if f.until is None or f.until > now]  # storms blown over
        fault = next((f for f in self.faults if f.applies_to(path)), None)
        if fault is None or fault.until is not None:
            return fault
        fault.count -= 1
        if fault.count <= 0:
            self.faults.remove(fault)
        return fault

    def new_code(self, client_id: str, redirect_uri: str, user_id: str) -> AuthCode:
        """A fresh authorization code from the dialog."""
        code = AuthCode(code="AQ" + secrets.token_urlsafe(96), client_id=client_id,
                        redirect_uri=redirect_uri, user_id=user_id, created=self.now())
        self.codes[code.code] = code
        return code
