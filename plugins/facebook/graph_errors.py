"""Turning Graph's error envelope into the shared typed errors of :mod:`webapp.errors`.

Graph answers ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``;
the code decides the behaviour, the subcode refines it, and the message names the
missing permission (Graph has no field for it).
"""
from __future__ import annotations

import logging
import re

from webapp.errors import (
    InvalidQuery,
    NotFound,
    PermissionMissing,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenExpired,
)

from .rules import PERMISSIONS

#: Subcodes of code 190 that mean the person (or Facebook) took access away, as opposed
#: to a token that simply ran out.
REVOKED_SUBCODES = {458, 460, 464, 467, 492}
TOKEN_MESSAGES = {
    458: "Streamdesk was removed from this Facebook account's Business integrations. Reconnect to continue.",
    459: "Facebook wants this person to log in on facebook.com to confirm their account, then reconnect.",
    460: "The Facebook password was changed, which ends existing sessions. Reconnect to continue.",
    463: "The Facebook access token has expired. Reconnect to continue.",
    464: "This Facebook account is not confirmed. Reconnect once it is.",
    467: "The Facebook session is no longer valid (logged out or invalidated). Reconnect to continue.",
    492: "The connected person no longer has a role on this page. An Admin must reconnect it.",
}
log = logging.getLogger(__name__)

#: Seconds to wait when Graph gives no regain time: app and user quotas roll over an hour,
#: page quotas over a day (Graph lifts them gradually).
RATE_LIMIT_WAIT = {4: 600, 17: 600, 32: 900, 613: 60}
#: Business-use-case limits (80001 pages, 80002 Instagram, … 80006 Messenger, …): per
#: page, with the regain time in the x-business-use-case-usage header.
BUSINESS_USE_CASE_CODES = set(range(80001, 80010))
RATE_LIMIT_CODES = set(RATE_LIMIT_WAIT) | BUSINESS_USE_CASE_CODES
#: 368/1390008 "going too fast": Facebook blocks the action (not reading) for a while and
#: says neither how long nor through a header.
POSTING_BLOCK_WAIT = 3600


class GraphRequestError(ProviderUnavailable):
    """Graph refused a parameter or field (code 100 and similar): a mismatch between the
    plugin and the API version, reported as unavailable but kept distinguishable."""

    def __init__(self, message: str, code: int, subcode: int | None):
        super().__init__(message)
        self.code, self.subcode = code, subcode


class WrongTokenKind(ProviderUnavailable):
    """Graph's bare 190 "This method must be called with a Page Access Token": the plugin
    called a page-only method (page insights) with a user token. The token itself is
    fine, so this is a bug in the plugin — logged as one, never an expiry (no e-mail, no
    Reconnect banner)."""


def _wrong_token_kind(code, subcode, message: str) -> bool:
    # A genuine 190 always carries a subcode or "Error validating access token"; this one
    # has neither and names the token kind the method needs.
    return code == 190 and not subcode and "must be called with a page access token" in message.lower()


class ReduceData(ProviderUnavailable):
    """Graph code 1 "Please reduce the amount of data you're asking for": the same request
    would fail again; ask for smaller pages."""


class PostingTooFast(RateLimited):
    """368/1390008: the page may not post (or comment) for a while. Reading still works,
    so the client does not hold other calls back for it."""


def named_permission(message: str, needs: tuple[str, ...]) -> str:
    """The permission an error is about: one the message names (preferring one the call
    needs), else the first the call needs."""
    named = [p for p in re.findall(r"[a-z_]+", message) if p in PERMISSIONS]
    for permission in named:
        if permission in needs:
            return permission
    if named:
        return named[0]
    return needs[0] if needs else "unknown"


def from_envelope(status: int, error: dict, needs: tuple[str, ...] = (),
                  regain_seconds: float = 0.0) -> ProviderError:
    """The typed error for one Graph error object (``body["error"]``)."""
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "Facebook returned an error.")
    trace = error.get("fbtrace_id")
    detail = f"{message} (code {code}{f'/{subcode}' if subcode else ''}{f', trace {trace}' if trace else ''})"
    if _wrong_token_kind(code, subcode, message):
        log.error("Facebook plugin bug: a page-only call was made with a user token: %s", detail)
        return WrongTokenKind("Facebook refused a request Streamdesk made with the wrong kind of token (a bug, "
                              "reported to the administrators); the connection itself is fine.")
    if code in (190, 102):
        text = TOKEN_MESSAGES.get(subcode, "The Facebook access token is no longer valid. Reconnect to continue.")
        return TokenExpired(text, revoked=subcode in REVOKED_SUBCODES)
    if code == 368 and subcode == 1390008:
        return PostingTooFast(POSTING_BLOCK_WAIT, "Facebook has temporarily blocked this page from posting because "
                                                  "it posted too fast. Try again in about an hour.", scope="posting")
    if code in RATE_LIMIT_CODES or status == 429:
        wait = regain_seconds or RATE_LIMIT_WAIT.get(code, 600)
        # Code 4 is the app's own limit: every call of the app waits, whatever its token.
        return RateLimited(wait, f"Facebook rate limit reached ({message}); retrying in {int(wait)} seconds.",
                           scope="service" if code == 4 else "token")
    if code == 10 and subcode == 2018278:
        return InvalidQuery("Facebook only allows a page to answer a private message within 24 hours of "
                            "the person's last message.")
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        permission = named_permission(message, needs)
        if "administrative permission" in message or "task" in message:
            return PermissionMissing(permission, "Your role on this Facebook page does not allow this. "
                                                 "You must be an Admin of the page (or have the right access).")
        return PermissionMissing(permission, f"Streamdesk is missing the Facebook permission {permission!r}. "
                                             "In Facebook's Business integrations settings, make sure Streamdesk "
                                             "appears and every permission listed there is enabled, then reconnect.")
    if (code == 100 and subcode == 33) or code == 803 or status == 404:
        return NotFound("This Facebook page or post no longer exists, or is not visible to Streamdesk.")
    if code == 506:
        return InvalidQuery("Facebook refused this post because it is identical to a recent one.")
    if code == 368:
        return InvalidQuery("Facebook blocked this action as going against its community standards.")
    if code == 1 and "reduce the amount of data" in message.lower():
        return ReduceData("Facebook asked Streamdesk to read less at once; it will retry with smaller pages.")
    if code in (1, 2) or status >= 500:
        return ProviderUnavailable(f"Facebook is having a temporary problem; retrying later. {detail}")
    return GraphRequestError(f"Facebook refused the request: {detail}", code, subcode)
