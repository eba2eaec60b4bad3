"""Graph API errors exactly as the real API sends them.

Every failure is the envelope ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id", …}}`` with the HTTP status Graph uses for that code: 400 for most, 403 for
permission and app-throttling errors, 500 for the transient codes 1 and 2.
"""
from __future__ import annotations

import secrets
import string
from datetime import datetime

from flask import jsonify

TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


def fbtrace_id() -> str:
    """A request trace id in Graph's style (opaque, 11–27 characters)."""
    return "A" + "".join(secrets.choice(TRACE_ALPHABET) for _ in range(22))


class GraphError(Exception):
    """An error the emulator answers with; :meth:`response` renders the envelope."""

    def __init__(self, message: str, code: int, subcode: int | None = None, *,
                 type_: str = "OAuthException", status: int = 400, transient: bool | None = None,
                 user_title: str | None = None, user_msg: str | None = None):
        super().__init__(message)
        self.message, self.code, self.subcode = message, code, subcode
        self.type, self.status, self.transient = type_, status, transient
        self.user_title, self.user_msg = user_title, user_msg

    def body(self) -> dict:
        """The error envelope as Graph sends it."""
        error = {"message": self.message, "type": self.type}
        if self.transient is not None:
            error["is_transient"] = self.transient
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def response(self):
        """The envelope as a Flask response with Graph's status and headers."""
        response = jsonify(self.body())
        response.status_code = self.status
        response.headers["WWW-Authenticate"] = (
            f'OAuth "Facebook Platform" "{"invalid_token" if self.code == 190 else "invalid_request"}" '
            f'"{self.message[:120]}"')
        return response


def _fb_date(at: datetime) -> str:
    # Graph words expiry in Pacific time; the emulator keeps UTC but the same layout.
    return at.strftime("%A, %d-%b-%y %H:%M:%S UTC")


# --- tokens (code 190 and friends) -----------------------------------------------------

def token_required() -> GraphError:
    """Code 104: the call carried no token."""
    return GraphError("An access token is required to request this resource.", 104)


def token_unparsable() -> GraphError:
    """Code 190 without subcode: a token Graph never issued."""
    return GraphError("Invalid OAuth access token - Cannot parse access token", 190)


def token_expired(expired_at: datetime, now: datetime) -> GraphError:
    """190/463: the token's lifetime ran out."""
    return GraphError(f"Error validating access token: Session has expired on {_fb_date(expired_at)}. "
                      f"The current time is {_fb_date(now)}.", 190, 463)


def password_changed() -> GraphError:
    """190/460: the person changed their password."""
    return GraphError("Error validating access token: The session has been invalidated because the user "
                      "changed their password or Facebook has changed the session for security reasons.",
                      190, 460)


def app_not_authorized(user_id: str, app_id: str) -> GraphError:
    """190/458: the person removed the app (or revoked this token)."""
    return GraphError(f"Error validating access token: User {user_id} has not authorized application {app_id}.",
                      190, 458)


def session_invalid() -> GraphError:
    """190/467: the session was invalidated (logged out)."""
    return GraphError("Error validating access token: The session is invalid because the user logged out.",
                      190, 467)


def bad_appsecret_proof() -> GraphError:
    """Code 100: the appsecret_proof does not match the token."""
    return GraphError("Invalid appsecret_proof provided in the API argument", 100, type_="GraphMethodException")


# --- objects and parameters (code 100, 803) ---------------------------------------------

def unknown_object(object_id: str, method: str = "get") -> GraphError:
    """100/33: no such object, or not visible to this token."""
    return GraphError(
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api", 100, 33,
        type_="GraphMethodException")


def unknown_alias(alias: str) -> GraphError:
    """Code 803: no page or person has this username."""
    return GraphError(f"(#803) Some of the aliases you requested do not exist: {alias}", 803)


def unknown_path(path: str) -> GraphError:
    """Code 2500: the path has components Graph does not know."""
    return GraphError(f"Unknown path components: /{path}", 2500)


def nonexisting_field(name: str, node: str) -> GraphError:
    """Code 100: a field the node type does not have."""
    return GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})", 100)


def invalid_parameter(message: str) -> GraphError:
    """Code 100: a parameter with a bad value."""
    return GraphError(f"(#100) {message}", 100)


def invalid_metric() -> GraphError:
    """Code 100: an unknown or retired insights metric fails the whole request."""
    return GraphError("(#100) The value must be a valid insights metric", 100)


def duplicate_post() -> GraphError:
    """Code 506: the same text as a recent post."""
    return GraphError("(#506) Duplicate status message", 506,
                      user_title="Duplicate Post",
                      user_msg="This status update is identical to the last one you posted.")


def outside_messaging_window() -> GraphError:
    """10/2018278: a reply outside Messenger's 24-hour window."""
    return GraphError("(#10) This message is sent outside of allowed window.", 10, 2018278, status=403)


# --- permissions (codes 10, 200–299) -----------------------------------------------------

def permission_missing_read(permission: str) -> GraphError:
    """Code 10: reading needs a permission the token lacks."""
    return GraphError(
        f"(#10) This endpoint requires the '{permission}' permission or the 'Page Public Content Access' "
        "feature. Refer to https://developers.facebook.com/docs/apps/review/login-permissions#manage-pages "
        "and https://developers.facebook.com/docs/apps/review/feature#reference-PAGES_ACCESS for details.",
        10, status=403)


def permission_missing(permission: str) -> GraphError:
    """Code 200: managing needs a permission the token lacks."""
    return GraphError(f"(#200) Requires {permission} permission to manage the object", 200, status=403)


def publish_not_allowed() -> GraphError:
    """Code 200: publishing needs pages_read_engagement and pages_manage_posts."""
    return GraphError("(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts "
                      "as an admin with sufficient administrative permission", 200, status=403)


def task_missing(task: str) -> GraphError:
    """Code 200: the person's tasks on the page do not allow the action."""
    return GraphError(f"(#200) The user does not have sufficient administrative permission for this action "
                      f"on this page. This action requires the {task} task.", 200, status=403)


def page_token_required() -> GraphError:
    """Code 210: the call needs the page's own token."""
    return GraphError("(#210) A page access token is required to request this resource.", 210, status=403)


def page_access_token_required() -> GraphError:
    """Code 190 *without* a subcode: a page-only method (page insights) called with a
    user token. Graph answers HTTP 400 with code 190 although the token is fine."""
    return GraphError("(#190) This method must be called with a Page Access Token", 190)


def insights_not_allowed() -> GraphError:
    """Code 10: insights need read_insights and the ANALYZE task."""
    return GraphError("(#10) Requires read_insights permission and the ANALYZE task on the page", 10, status=403)


# --- throttling and outages -------------------------------------------------------------

RATE_LIMITS = {
    4: ("(#4) Application request limit reached", 403),
    17: ("(#17) User request limit reached", 400),
    32: ("(#32) Page request limit reached", 400),
    613: ("(#613) Calls to this api have exceeded the rate limit.", 400),
}
#: Business-use-case rate limits: which product's quota of the page ran out.
BUSINESS_USE_CASES = {
    80001: "this Page account", 80002: "this Instagram account", 80003: "this ad account (custom audience)",
    80004: "this ad-account", 80005: "this ad account (lead generation)", 80006: "this Page account (Messenger)",
    80007: "this WhatsApp Business account", 80008: "this WhatsApp Business account (catalog)",
    80009: "this catalog",
}
RATE_LIMIT_DOCS = "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."


def rate_limited(code: int) -> GraphError:
    """A throttling error (4 app, 17 user, 32 page, 613 API, 80001–80009 business use
    case), transient."""
    if code in BUSINESS_USE_CASES:
        return GraphError(f"(#{code}) There have been too many calls to {BUSINESS_USE_CASES[code]}. Wait a bit "
                          f"and try again. {RATE_LIMIT_DOCS}", code, transient=True, status=400)
    message, status = RATE_LIMITS.get(code, (f"(#{code}) Too many calls, please wait and retry.", 400))
    return GraphError(message, code, transient=True, status=status)


def reduce_data() -> GraphError:
    """Code 1 for a request whose answer would be too big: the same request fails again."""
    return GraphError("Please reduce the amount of data you're asking for, then retry your request", 1, status=500)


def posting_too_fast() -> GraphError:
    """368/1390008: the page posted or commented too fast and is blocked for a while."""
    return GraphError("(#368) The action attempted has been deemed abusive or is otherwise disallowed", 368, 1390008,
                      user_title="You Can't Use This Feature Right Now",
                      user_msg="It looks like you were misusing this feature by going too fast. "
                               "You\u2019ve been temporarily blocked from using it.")


def transient(code: int) -> GraphError:
    """Codes 1 and 2: Graph's own temporary failures (HTTP 500)."""
    if code == 1:
        return GraphError("An unknown error occurred", 1, transient=True, status=500)
    return GraphError("An unexpected error has occurred. Please retry your request later.", 2,
                      transient=True, status=500)


#: Graph's own words for the codes a forced ``error`` fault may carry without a message.
TOKEN_TEXT = {
    458: "Error validating access token: User {user} has not authorized application {app}.",
    459: "Error validating access token: You cannot access the app till you log in to www.facebook.com and "
         "follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user changed their "
         "password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired on Tuesday, 01-Dec-26 12:00:00 UTC. The current "
         "time is Thursday, 03-Dec-26 12:00:00 UTC.",
    464: "Error validating access token: Sessions for the user are not allowed because the user is not a "
         "confirmed user.",
    467: "Error validating access token: The session is invalid because the user logged out.",
    492: "Error validating access token: The user does not have a role on the page.",
}
CODE_TEXT = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    10: "(#10) Application does not have permission for this action",
    200: "(#200) Permissions error",
    341: "(#341) Application limit reached",
}
#: The HTTP status Graph answers a code with when the fault does not say.
CODE_STATUS = {1: 500, 2: 500, 4: 403, 10: 403}


def forced(code: int, subcode: int | None, message: str | None, status: int | None) -> GraphError:
    """Any Graph error (the control API's ``error`` fault): ``code``/``subcode`` with
    ``message`` (default: Graph's words for it) at ``status`` (default: Graph's status
    for the code — 403 for permissions, 500 for 1 and 2, 400 otherwise)."""
    if message is None:
        if code == 190 and subcode in TOKEN_TEXT:
            message = TOKEN_TEXT[subcode].format(user="0", app="0")
        elif code in RATE_LIMITS:
            message = RATE_LIMITS[code][0]
        else:
            message = CODE_TEXT.get(code) or (f"(#{code}) Permissions error" if 200 <= code <= 299
                                              else f"(#{code}) An error occurred")
    if status is None:
        status = CODE_STATUS.get(code) or (403 if 200 <= code <= 299 else 400)
    return GraphError(message, code, subcode, status=status,
                      transient=True if code in (1, 2, 4, 17, 32, 341, 613) else None)
