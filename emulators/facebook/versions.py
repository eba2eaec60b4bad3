"""Graph API versions as Facebook serves them.

Each version is usable for two years after the *next* version is released; "once a
version is no longer usable, any calls made to it will be defaulted to the next oldest,
usable version" (developers.facebook.com/docs/apps/versions, "Version Schedules"). A
call without a version uses the app's default version (set in the App Dashboard), and
every answer names the version that served it in the ``facebook-api-version`` header.
A version that was never released is an unknown path component.

Release dates: the Graph API changelog (developers.facebook.com/docs/graph-api/changelog).
"""
from __future__ import annotations

import re
from datetime import date

PATTERN = re.compile(r"^v(\d{1,2})\.(\d)$")
RELEASED = {
    "v21.0": date(2024, 10, 2),
    "v22.0": date(2025, 1, 21),
    "v23.0": date(2025, 5, 29),
    "v24.0": date(2025, 10, 8),
    "v25.0": date(2026, 2, 18),
    "v26.0": date(2026, 7, 29),
}
#: The seeded app's default version (App Dashboard → Settings → Advanced): the one
#: current when the app was created, used by calls that name no version.
APP_DEFAULT = "v23.0"


def _key(version: str) -> tuple[int, int]:
    major, minor = PATTERN.match(version).groups()
    return int(major), int(minor)


def expires(version: str) -> date | None:
    """The first day ``version`` is no longer usable (None: no successor yet)."""
    later = sorted((v for v in RELEASED if _key(v) > _key(version)), key=_key)
    if not later:
        return None
    successor = RELEASED[later[0]]
    return successor.replace(year=successor.year + 2)


def live(today: date) -> list[str]:
    """The versions usable on ``today``, oldest first."""
    return sorted((v for v, released in RELEASED.items()
                   if released <= today and (expires(v) is None or expires(v) > today)), key=_key)


def served(version: str, today: date) -> str | None:
    """The version that serves a call made to ``version`` on ``today``: itself while it
    lives, the oldest usable one once it expired (or for versions older than any listed),
    None for a version that does not exist (yet)."""
    if not PATTERN.match(version):
        return None
    usable = live(today)
    if version in usable:
        return version
    if version in RELEASED and RELEASED[version] > today:
        return None  # announced, not released
    if version in RELEASED or _key(version) < _key(min(RELEASED, key=_key)):
        return usable[0]
    return None


class Unversioned:
    """WSGI middleware: a Graph path without a version (``/me``, ``/oauth/access_token``)
    is served as the app's default version, as graph.facebook.com does."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        first = path.lstrip("/").split("/", 1)[0]
        # Control and static paths are the emulator's own; "v12.3"-like segments are
        # versions (served, expired or unknown, decided by the route).
        if not first.startswith("_") and not re.match(r"^v\d+(\.\d+)?$", first):
            environ["PATH_INFO"] = f"/{APP_DEFAULT}{path}"
        return self.wsgi_app(environ, start_response)
