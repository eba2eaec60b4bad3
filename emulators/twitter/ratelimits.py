"""Per-endpoint rate-limit windows, daily caps, forced failures and malformed answers.

X counts requests per endpoint in 15-minute windows, per user for user-context tokens and
per app for app-only tokens, and reports the window on every response with
``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (unix
seconds). A request past the limit gets 429 with the same headers.

Some POST endpoints are also capped per 24 hours, per user and/or per app; their answers
carry ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*`` headers too, and a request past
a daily cap gets 429 although its 15-minute window still has calls left.
"""
from __future__ import annotations

from dataclasses import dataclass, field

WINDOW = 15 * 60

#: endpoint -> (per-user limit, per-app limit or None when app-only is not allowed)
LIMITS: dict[str, tuple[int, int | None]] = {
    "GET /2/users/me": (75, None),
    "GET /2/users/by/username/:username": (900, 300),
    "GET /2/users/:id": (900, 300),
    "GET /2/users/:id/tweets": (900, 1500),
    "GET /2/users/:id/mentions": (300, 450),
    "GET /2/tweets": (900, 450),
    "GET /2/tweets/:id": (900, 450),
    "GET /2/tweets/search/recent": (300, 450),
    "GET /2/dm_events": (15, None),
    "POST /2/tweets": (100, None),
    "DELETE /2/tweets/:id": (50, None),
    "POST /2/users/:id/likes": (50, None),
    "DELETE /2/users/:id/likes/:tweet_id": (50, None),
    "PUT /2/tweets/:id/hidden": (50, None),
    "POST /2/dm_conversations/with/:participant_id/messages": (200, None),
    # Webhooks and Activity API subscriptions: app-level management calls.
    "POST /2/webhooks": (15, 15),
    "GET /2/webhooks": (15, 15),
    "DELETE /2/webhooks/:webhook_id": (15, 15),
    "PUT /2/webhooks/:webhook_id": (15, 15),
    "POST /2/activity/subscriptions": (50, 50),
    "GET /2/activity/subscriptions": (50, 50),
    "DELETE /2/activity/subscriptions/:id": (50, 50),
}


DAY = 86400
#: Daily caps: endpoint -> (per user, per app) requests per 24 hours (None: no such cap).
#: From X's rate-limit tables (POST /2/tweets 10,000/24h per app); the likes and DM caps
#: are the ones X has published for those endpoints (recalled; tiers differ).
DAILY: dict[str, tuple[int | None, int | None]] = {
    "POST /2/tweets": (None, 10000),
    "POST /2/users/:id/likes": (1000, None),
    "POST /2/dm_conversations/with/:participant_id/messages": (1440, 15000),
}
DAILY_PREFIXES = ("x-user-limit-24hour", "x-app-limit-24hour")

#: Endpoints the control API can make fail: the v2 endpoints and the OAuth token endpoint.
FAILABLE = frozenset(LIMITS) | {"POST /2/oauth2/token"}


@dataclass
class Window:
    """One 15-minute window of one endpoint for one user (or the app)."""

    limit: int
    remaining: int
    reset: int

    def headers(self, prefix: str = "x-rate-limit", spent: bool = False) -> dict[str, str]:
        """The window's headers (``x-rate-limit-*`` unless ``prefix`` says otherwise);
        ``spent`` reports it used up."""
        return {
            f"{prefix}-limit": str(self.limit),
            f"{prefix}-remaining": "0" if spent else str(max(self.remaining, 0)),
            f"{prefix}-reset": str(self.reset),
        }


@dataclass
class ForcedFailure:
    """The next ``count`` calls (to ``endpoint``, or any) fail with ``status``.

    A forced 429 on a daily-capped endpoint is its daily cap running out, unless
    ``daily`` is false (then it is the 15-minute window, as on other endpoints).
    """

    status: int
    count: int
    endpoint: str | None = None
    daily: bool = True


@dataclass
class Override:
    """The next ``count`` successful calls to ``endpoint`` answer 200 with ``body``."""

    endpoint: str
    count: int
    body: object


@dataclass
class RateLimits:
    """All windows, and the failures and malformed answers the control API asked for."""

    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    failures: list[ForcedFailure] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    daily: dict[tuple[str, str, str], Window] = field(default_factory=dict)

    def window(self, principal: str, endpoint: str, app_only: bool, now: float) -> Window:
        """The current window, opening a new one after the reset time."""
        user_limit, app_limit = LIMITS[endpoint]
        limit = app_limit if app_only and app_limit else user_limit
        key = (principal, endpoint)
        window = self.windows.get(key)
        if window is None or now >= window.reset:
            window = Window(limit=limit, remaining=limit, reset=int(now) + WINDOW)
            self.windows[key] = window
        return window

    def set_remaining(self, principal: str, endpoint: str, remaining: int, now: float,
                      app_only: bool = False) -> Window:
        """Control API: pretend part of the window was already used."""
        window = self.window(principal, endpoint, app_only, now)
        window.remaining = remaining
        return window

    def forced(self, endpoint: str) -> ForcedFailure | None:
        """The failure to answer this call with, consuming one forced failure."""
        for failure in self.failures:
            if failure.count > 0 and failure.endpoint in (None, endpoint):
                failure.count -= 1
                if failure.count == 0:
                    self.failures.remove(failure)
                return failure
        return None

    def override(self, endpoint: str) -> Override | None:
        """The malformed answer to send for this call, consuming one (control API)."""
        for item in self.overrides:
            if item.count > 0 and item.endpoint == endpoint:
                item.count -= 1
                if item.count == 0:
                    self.overrides.remove(item)
                return item
        return None

    def daily_windows(self, principal: str, endpoint: str, now: float) -> list[tuple[str, Window]]:
        """The daily caps of ``endpoint`` as (header prefix, window): the user's, the app's."""
        caps = DAILY.get(endpoint)
        if caps is None:
            return []
        out = []
        for prefix, owner, limit in zip(DAILY_PREFIXES, (principal, "app"), caps, strict=True):
            if limit is None:
                continue
            key = (owner, endpoint, prefix)
            window = self.daily.get(key)
            if window is None or now >= window.reset:
                window = Window(limit=limit, remaining=limit, reset=int(now) + DAY)
                self.daily[key] = window
            out.append((prefix, window))
        return out
