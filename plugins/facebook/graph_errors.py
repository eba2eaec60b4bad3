"""Turning Graph's error envelope into the shared typed errors of :mod:`streamdesk_contract.errors`.

Graph answers ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``;
the code decides the behaviour, the subcode refines it, and the message names the
missing permission (Graph has no field for it).

:data:`GRAPH_ERRORS` is the table: the first row that matches an error decides what it
becomes. :func:`table_markdown` renders it for docs/plugins.md (a test keeps the two the
same), and tests/test_error_table.py forces every row through the emulator.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from streamdesk_contract.errors import (
    InvalidQuery,
    NotFound,
    PermissionMissing,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenExpired,
)

from .rules import PERMISSIONS

log = logging.getLogger(__name__)

#: Seconds to wait when Graph gives no regain time: app and user quotas roll over an hour,
#: page quotas over a day (Graph lifts them gradually).
RATE_LIMIT_WAIT = {4: 600, 17: 600, 32: 900, 613: 60}
#: Business-use-case limits (80001 pages, 80002 Instagram, … 80006 Messenger, …): per
#: page, with the regain time in the x-business-use-case-usage header.
BUSINESS_USE_CASE_CODES = frozenset(range(80001, 80010))
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


class ReduceData(ProviderUnavailable):
    """Graph code 1 "Please reduce the amount of data you're asking for": the same request
    would fail again; ask for smaller pages."""


class PostingTooFast(RateLimited):
    """368/1390008: the page may not post (or comment) for a while. Reading still works,
    so the client does not hold other calls back for it."""


@dataclass(frozen=True)
class GraphFailure:
    """One Graph error answer, as the table's rows read it."""

    status: int
    code: object
    subcode: object
    message: str
    detail: str  # the message with code, subcode and trace, for logs and error texts
    needs: tuple[str, ...]
    regain_seconds: float


#: A row's ``subcodes`` value for "the error has no subcode".
NO_SUBCODE = frozenset({None, 0})


@dataclass(frozen=True)
class Row:
    """One row of :data:`GRAPH_ERRORS`: what it matches, the behaviour, and why.

    Every criterion given must hold: ``codes`` (the error code), ``subcodes`` (None: any),
    ``statuses`` (the HTTP status), ``says`` (words the message contains, any case).
    ``behaviour`` is what the core does ("expired", "permission", "transient", …);
    ``make`` builds the typed error that leads there.
    """

    match: str
    behaviour: str
    why: str
    make: Callable[[GraphFailure], ProviderError]
    codes: frozenset | None = None
    subcodes: frozenset | None = None
    statuses: range | None = None
    says: str | None = None

    def matches(self, failure: GraphFailure) -> bool:
        """Whether ``failure`` is one of this row's errors."""
        return ((self.codes is None or failure.code in self.codes)
                and (self.subcodes is None or failure.subcode in self.subcodes)
                and (self.statuses is None or failure.status in self.statuses)
                and (self.says is None or self.says in failure.message.lower()))


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


# --- what each behaviour builds ------------------------------------------------------------
def _expired(text: str, revoked: bool) -> Callable[[GraphFailure], ProviderError]:
    return lambda failure: TokenExpired(text, revoked=revoked)


def _wrong_token_kind(failure: GraphFailure) -> ProviderError:
    log.error("Facebook plugin bug: a page-only call was made with a user token: %s", failure.detail)
    return WrongTokenKind("Facebook refused a request Streamdesk made with the wrong kind of token (a bug, "
                          "reported to the administrators); the connection itself is fine.")


def _posting_too_fast(failure: GraphFailure) -> ProviderError:
    return PostingTooFast(POSTING_BLOCK_WAIT, "Facebook has temporarily blocked this page from posting because "
                                              "it posted too fast. Try again in about an hour.", scope="posting")


def _rate_limited(failure: GraphFailure) -> ProviderError:
    wait = failure.regain_seconds or RATE_LIMIT_WAIT.get(failure.code, 600)
    # Code 4 is the app's own limit: every call of the app waits, whatever its token.
    return RateLimited(wait, f"Facebook rate limit reached ({failure.message}); retrying in {int(wait)} seconds.",
                       scope="service" if failure.code == 4 else "token")


def _messaging_window(failure: GraphFailure) -> ProviderError:
    return InvalidQuery("Facebook only allows a page to answer a private message within 24 hours of "
                        "the person's last message.")


def _permission(failure: GraphFailure) -> ProviderError:
    permission = named_permission(failure.message, failure.needs)
    if "administrative permission" in failure.message or "task" in failure.message:
        return PermissionMissing(permission, "Your role on this Facebook page does not allow this. "
                                             "You must be an Admin of the page (or have the right access).")
    return PermissionMissing(permission, f"Streamdesk is missing the Facebook permission {permission!r}. "
                                         "Grant it again (or, in Facebook's Business integrations settings, "
                                         "make sure Streamdesk appears and every permission listed there is "
                                         "enabled).")


def _not_found(failure: GraphFailure) -> ProviderError:
    return NotFound("This Facebook page or post no longer exists, or is not visible to Streamdesk.")


def _refused(text: str) -> Callable[[GraphFailure], ProviderError]:
    return lambda failure: InvalidQuery(text)


def _reduce_data(failure: GraphFailure) -> ProviderError:
    return ReduceData("Facebook asked Streamdesk to read less at once; it will retry with smaller pages.")


def _transient(failure: GraphFailure) -> ProviderError:
    return ProviderUnavailable(f"Facebook is having a temporary problem; retrying later. {failure.detail}")


def _request_error(failure: GraphFailure) -> ProviderError:
    return GraphRequestError(f"Facebook refused the request: {failure.detail}", failure.code, failure.subcode)


def _codes(*codes) -> frozenset:
    return frozenset(codes)


TOKEN = _codes(190)
#: The table, first match wins (the order matters: the plugin-bug 190 comes before the
#: expiries, the messaging window before the other code-10 permissions).
GRAPH_ERRORS: tuple[Row, ...] = (
    Row("190 without subcode, message “must be called with a Page Access Token”", "plugin bug",
        "a page-only method (page insights) called with a user token: the token is fine, so this is "
        "logged as a bug, never an expiry",
        _wrong_token_kind, codes=TOKEN, subcodes=NO_SUBCODE, says="must be called with a page access token"),
    Row("190 / 458", "expired (revoked)", "the app was removed from the person's Business integrations",
        _expired("Streamdesk was removed from this Facebook account's Business integrations. "
                 "Reconnect to continue.", True), codes=TOKEN, subcodes=_codes(458)),
    Row("190 / 459", "expired", "Facebook wants the person to log in on facebook.com (checkpoint)",
        _expired("Facebook wants this person to log in on facebook.com to confirm their account, "
                 "then reconnect.", False), codes=TOKEN, subcodes=_codes(459)),
    Row("190 / 460", "expired (revoked)", "the password was changed, which ends every session",
        _expired("The Facebook password was changed, which ends existing sessions. Reconnect to continue.", True),
        codes=TOKEN, subcodes=_codes(460)),
    Row("190 / 463", "expired", "the token ran out (“Session has expired on …”)",
        _expired("The Facebook access token has expired. Reconnect to continue.", False),
        codes=TOKEN, subcodes=_codes(463)),
    Row("190 / 464", "expired (revoked)", "the account is not confirmed",
        _expired("This Facebook account is not confirmed. Reconnect once it is.", True),
        codes=TOKEN, subcodes=_codes(464)),
    Row("190 / 467", "expired (revoked)", "the session is invalid (logged out, invalidated)",
        _expired("The Facebook session is no longer valid (logged out or invalidated). Reconnect to continue.",
                 True), codes=TOKEN, subcodes=_codes(467)),
    Row("190 / 492", "expired (revoked)", "the connected person no longer has a role on the page",
        _expired("The connected person no longer has a role on this page. An Admin must reconnect it.", True),
        codes=TOKEN, subcodes=_codes(492)),
    Row("190 (other subcodes), 102", "expired", "any other invalid token or session",
        _expired("The Facebook access token is no longer valid. Reconnect to continue.", False),
        codes=_codes(190, 102)),
    Row("368 / 1390008", "rate limited (posting only, an hour)", "the page posted too fast; reading goes on",
        _posting_too_fast, codes=_codes(368), subcodes=_codes(1390008)),
    Row("4", "rate limited (the whole app waits)", "the app's own call quota",
        _rate_limited, codes=_codes(4)),
    Row("17, 32, 613, 80001–80009", "rate limited (this token waits)",
        "user, page and business-use-case quotas; the usage header says when they lift",
        _rate_limited, codes=_codes(17, 32, 613, *BUSINESS_USE_CASE_CODES)),
    Row("HTTP 429", "rate limited (this token waits)", "a throttled answer without a known code",
        _rate_limited, statuses=range(429, 430)),
    Row("341", "transient, retried", "“Application limit reached”: a temporary throttle or outage",
        _transient, codes=_codes(341)),
    Row("10 / 2018278", "refused (shown to the person)", "a private message outside the 24-hour window",
        _messaging_window, codes=_codes(10), subcodes=_codes(2018278)),
    Row("10, 200–299", "permission missing", "a permission (named in the message) was declined or switched off",
        _permission, codes=_codes(10, *range(200, 300))),
    Row("100 / 33", "not found", "the object is gone or not visible to the token",
        _not_found, codes=_codes(100), subcodes=_codes(33)),
    Row("803", "not found", "an alias (username) that names nothing", _not_found, codes=_codes(803)),
    Row("HTTP 404", "not found", "an unknown path or object", _not_found, statuses=range(404, 405)),
    Row("506", "refused (shown to the person)", "a duplicate of a recent post",
        _refused("Facebook refused this post because it is identical to a recent one."), codes=_codes(506)),
    Row("368", "refused (shown to the person)", "blocked as against the community standards",
        _refused("Facebook blocked this action as going against its community standards."), codes=_codes(368)),
    Row("1, message “reduce the amount of data”", "transient, retried with smaller pages",
        "the same request would fail again", _reduce_data, codes=_codes(1), says="reduce the amount of data"),
    Row("1, 2", "transient, retried", "an unknown or temporary Graph failure (HTTP 500)",
        _transient, codes=_codes(1, 2)),
    Row("HTTP 5xx", "transient, retried", "Graph itself failed", _transient, statuses=range(500, 600)),
)
#: What an error no row matches becomes: a refused parameter or field (code 100 and the
#: like) — a mismatch between the plugin and the API version, retried later.
FALLBACK = Row("anything else (100, …)", "transient, retried (kept apart as GraphRequestError)",
               "a parameter or field Graph refused: plugin and API version disagree", _request_error)


def row_for(status: int, error: dict, needs: tuple[str, ...] = (), regain_seconds: float = 0.0
            ) -> tuple[Row, GraphFailure]:
    """The table row for one Graph error object, and the failure as the row reads it."""
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "Facebook returned an error.")
    trace = error.get("fbtrace_id")
    detail = f"{message} (code {code}{f'/{subcode}' if subcode else ''}{f', trace {trace}' if trace else ''})"
    failure = GraphFailure(status, code, subcode, message, detail, needs, regain_seconds)
    return next((row for row in GRAPH_ERRORS if row.matches(failure)), FALLBACK), failure


def from_envelope(status: int, error: dict, needs: tuple[str, ...] = (),
                  regain_seconds: float = 0.0) -> ProviderError:
    """The typed error for one Graph error object (``body["error"]``), as the table says."""
    row, failure = row_for(status, error, needs, regain_seconds)
    return row.make(failure)


def table_markdown() -> str:
    """:data:`GRAPH_ERRORS` as the Markdown table docs/plugins.md shows."""
    lines = ["| Graph error (code / subcode) | behaviour | why |", "| --- | --- | --- |"]
    lines += [f"| {row.match} | {row.behaviour} | {row.why} |" for row in (*GRAPH_ERRORS, FALLBACK)]
    return "\n".join(lines)
