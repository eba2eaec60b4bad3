"""Error bodies exactly as X API v2 sends them.

X answers errors with RFC 7807 *problem details* (``application/problem+json``):
``{"title", "type", "status", "detail"}``, with an ``errors`` array for invalid
parameters. Lookups that fail for some (or all) resources are **not** HTTP errors: they
answer 200 with an ``errors`` array beside (or instead of) ``data``.
"""
from __future__ import annotations

import json

from flask import Response

PROBLEMS = "https://api.twitter.com/2/problems/"


class ApiError(Exception):
    """Raised anywhere in a handler; rendered as X's problem response."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(body.get("detail") or body.get("title"))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        """This error as a Flask response (``application/problem+json``)."""
        return Response(json.dumps(self.body), status=self.status, headers=self.headers,
                        content_type="application/problem+json")


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> ApiError:
    """A problem+json error: title, type, status, detail."""
    return ApiError(status, {"title": title, "type": type_, "status": status, "detail": detail})


def unauthorized() -> ApiError:
    """Missing, unknown, expired or revoked token: X says no more than this."""
    return problem(401, "Unauthorized", "Unauthorized")


def too_many_requests(headers: dict) -> ApiError:
    """The 429 problem, with the window's rate-limit headers."""
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    return ApiError(429, body, headers)


def server_error(status: int) -> ApiError:
    """A 5xx problem (forced by the control API)."""
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout"}
    title = titles.get(status, "Internal Server Error")
    return problem(status, title, title)


def forbidden(detail: str) -> ApiError:
    """A 403 problem with X's detail text."""
    return problem(403, "Forbidden", detail)


def unsupported_authentication() -> ApiError:
    """An app-only (bearer) token on an endpoint that needs a user."""
    return problem(
        403, "Unsupported Authentication",
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
        "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        PROBLEMS + "unsupported-authentication",
    )


def client_forbidden(client_id: str) -> ApiError:
    """The 403 for an app whose access level (project, plan) lacks the endpoint.

    X's body, as captured from the live API: no ``status`` member, a ``reason``.
    """
    return ApiError(403, {
        "client_id": client_id,
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
                  "from a Twitter developer App that is attached to a Project. You can create a project via the "
                  "developer portal.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": PROBLEMS + "client-forbidden",
    })


def missing_scope() -> ApiError:
    # X does not name the missing scope; the client knows what each endpoint needs.
    """The 403 for a user token without the scope the endpoint needs."""
    return forbidden("Forbidden")


class InvalidRequest:
    """Collects parameter errors so that one response reports all of them, as X does."""

    def __init__(self):
        self.errors: list[dict] = []

    def add(self, parameter: str | dict, value, message: str) -> None:
        """Record one invalid parameter."""
        parameters = parameter if isinstance(parameter, dict) else {parameter: [str(value)]}
        self.errors.append({"parameters": parameters, "message": message})

    def raise_if_any(self) -> None:
        """Raise the 400 problem when anything was recorded."""
        if self.errors:
            raise invalid_request(self.errors)


def invalid_request(errors: list[dict]) -> ApiError:
    """The 400 invalid-request problem listing ``errors``."""
    body = {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }
    return ApiError(400, body)


def invalid_body(message: str) -> ApiError:
    """A JSON body X could not use (missing or wrong fields)."""
    return invalid_request([{"message": message}])


def not_found_error(resource_type: str, parameter: str, value: str, label: str | None = None) -> dict:
    """One item of a partial-error ``errors`` array (HTTP 200)."""
    return {
        "value": value,
        "detail": f"Could not find {label or resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def suspended_error(parameter: str, value: str) -> dict:
    """One partial error for a suspended user."""
    return {
        "value": value,
        "detail": f"User has been suspended: [{value}].",
        "title": "Forbidden",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def not_authorized_error(resource_type: str, parameter: str, value: str) -> dict:
    """A protected account or tweet the token may not see."""
    return {
        "value": value,
        "detail": f"Sorry, you are not authorized to see the {resource_type} with {parameter}: [{value}].",
        "title": "Authorization Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "section": "data",
        "type": PROBLEMS + "not-authorized-for-resource",
    }


def field_not_authorized_error(field: str, tweet_id: str) -> dict:
    """Non-public metrics asked for a tweet the token's user did not write (or too old)."""
    return {
        "value": tweet_id,
        "detail": f"Sorry, you are not authorized to access '{field}' on the Tweet with ids: [{tweet_id}].",
        "title": "Field Authorization Error",
        "resource_type": "tweet",
        "parameter": field,
        "resource_id": tweet_id,
        "field": field,
        "section": "data",
        "type": PROBLEMS + "not-authorized-for-field",
    }
