"""Per-endpoint 15-minute rate-limit windows and forced failures.

X counts requests per endpoint in 15-minute windows, per user for user-context tokens and
per app for app-only tokens, and reports the window on every response with
``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (unix
seconds). A request past the limit gets 429 with the same headers.
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
}


#: Endpoints the control API can make fail: the v2 endpoints and the OAuth token endpoint.
FAILABLE = frozenset(LIMITS) | {"POST /2/oauth2/token"}


@dataclass
class Window:
    """One 15-minute window of one endpoint for one user (or the app)."""

    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """The ``x-rate-limit-*`` headers X sends with every answer."""
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(self.remaining, 0)),
            "x-rate-limit-reset": str(self.reset),
        }


@dataclass
class ForcedFailure:
    """The next ``count`` calls (to ``endpoint``, or any) fail with ``status``."""

    status: int
    count: int
    endpoint: str | None = None


@dataclass
class RateLimits:
    """All windows, and the failures the control API asked for."""

    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    failures: list[ForcedFailure] = field(default_factory=list)

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

    def forced(self, endpoint: str) -> int | None:
        """The status to fail this call with, consuming one forced failure."""
        for failure in self.failures:
            if failure.count > 0 and failure.endpoint in (None, endpoint):
                failure.count -= 1
                if failure.count == 0:
                    self.failures.remove(failure)
                return failure.status
        return None
