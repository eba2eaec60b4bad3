"""Typed provider errors, shared by every plugin.

A plugin turns its provider's error bodies into one of these; the core maps each to one
behaviour: expire the stream, show the missing permission, reschedule, show a message.
Every error carries a ``message`` written for the person using Streamdesk.
"""
from __future__ import annotations


class ProviderError(Exception):
    """Base of all provider errors. ``message`` is safe to show in the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TokenExpired(ProviderError):
    """The token no longer works (expired, revoked, password changed).

    The core stops crawling the stream, e-mails the account's admins and asks for a
    reconnect. ``revoked`` tells a revocation from a plain expiry.
    """

    def __init__(self, message: str = "The access token has expired.", revoked: bool = False):
        super().__init__(message)
        self.revoked = revoked


class PermissionMissing(ProviderError):
    """The token lacks a permission the call needs; ``permission`` names it."""

    def __init__(self, permission: str, message: str | None = None):
        super().__init__(message or f"The permission {permission!r} is missing.")
        self.permission = permission


class RateLimited(ProviderError):
    """The provider asks us to slow down; retry after ``retry_after`` seconds.

    Not a failure: the core reschedules the job for when the provider allows it, and
    no other job calls the service with the same token until then. ``scope`` is
    ``"token"`` (the limit of one token, the default) or ``"service"`` (a limit on the
    whole app: every call to the service waits); any other scope (e.g. a limit on
    posting only) is not shared.
    """

    def __init__(self, retry_after: float, message: str | None = None, scope: str = "token"):
        super().__init__(message or f"Rate limited; retry in {int(retry_after)} seconds.")
        self.retry_after = retry_after
        self.scope = scope


class NotFound(ProviderError):
    """The page, post or comment does not exist (or is not visible to this token)."""


class ProviderUnavailable(ProviderError):
    """The provider failed or could not be reached; transient, worth retrying later."""


class InvalidQuery(ProviderError):
    """What the person typed cannot name a page of this service (bad URL or handle)."""
