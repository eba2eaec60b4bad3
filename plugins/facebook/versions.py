"""The Graph API version the plugin is written for, and when Facebook retires it.

The plugin pins one version: every URL it builds names it, whatever version (or none)
``FACEBOOK_API_URL`` ends with. Without a version Graph would use the app's default
version, and a call to an expired version is silently served by the oldest live one
(developers.facebook.com/docs/apps/versions), so an unpinned plugin would change
behaviour under an installation's feet.

Dates: release dates from the Graph API changelog
(developers.facebook.com/docs/graph-api/changelog); a version stays usable for two
years after the *next* version's release ("Version Schedules" in the versioning doc),
which gives its end of life. Update this table, and test against the new version,
before moving :data:`PINNED`.
"""
from __future__ import annotations

import re
from datetime import date

PINNED = "v25.0"
#: version → (released, end of life or None while no successor is out)
VERSIONS: dict[str, tuple[date, date | None]] = {
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),   # v25.0 released 2026-02-18
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),   # v26.0 released 2026-07-29
    "v26.0": (date(2026, 7, 29), None),
}
_SUFFIX = re.compile(r"/v\d+(\.\d+)?/*$")


def end_of_life(version: str = PINNED) -> date | None:
    """The first day ``version`` is no longer served (None: not announced yet)."""
    return VERSIONS[version][1]


def versioned(base_url: str) -> str:
    """``base_url`` with its version (if any) replaced by the pinned one:
    ``https://graph.facebook.com`` and ``…/v20.0`` both become ``…/v25.0``."""
    return f"{_SUFFIX.sub('', base_url.rstrip('/'))}/{PINNED}"
