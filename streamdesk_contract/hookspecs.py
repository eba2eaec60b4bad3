"""The provider plugin contract.

A provider plugin is a module registered under the ``streamdesk`` entry-point group
that implements some of these hooks with ``@hookimpl``. Only
:func:`streamdesk_services` is required; a hook a plugin does not implement is simply
absent, and the core offers only what the service can do.

Every hook but :func:`streamdesk_services` is called for one service at a time: it
receives ``service`` (the name) and ``config`` (a :class:`~streamdesk_contract.values.ServiceConfig`)
and must return ``None`` when ``service`` is not one of its own, so that pluggy's
first-result dispatch reaches the right plugin. Hooks are called with keyword arguments.

Errors: a hook raises only the types in :mod:`streamdesk_contract.errors`. Anything else is a bug in
the plugin and is reported as such.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("streamdesk")
hookimpl = pluggy.HookimplMarker("streamdesk")


@hookspec
def streamdesk_services():
    """Declare the services this plugin provides.

    Arguments: none.
    Returns: a :class:`~streamdesk_contract.values.Service`, or a list of them.
    Raises: nothing; called at start-up to build the service registry.
    """


@hookspec(firstresult=True)
def streamdesk_link_details(service, config):
    """Describe how a person links their profile on ``service`` (OAuth 2.0).

    Arguments: ``service`` (str), ``config`` (ServiceConfig: client id/secret, base URLs).
    Returns: :class:`~streamdesk_contract.values.OAuthDetails` (authorize and token URLs, scopes,
    PKCE method, whether the dialog can ask for one missing permission alone), or
    ``None`` if ``service`` is not this plugin's.
    Raises: nothing.
    """


@hookspec(firstresult=True)
def streamdesk_link_profile(service, config, token):
    """Turn the token returned by the OAuth flow into a connected profile.

    Arguments: ``token`` (dict: the token endpoint's JSON, with ``access_token`` and,
    where issued, ``refresh_token``, ``expires_in``/``expires_at``, ``scope``).
    Returns: :class:`~streamdesk_contract.values.LinkedProfile` — the person's id and name, the
    credentials to store (exchanged for a long-lived token where the service allows it),
    the granted and declined permissions.
    Raises: TokenExpired, PermissionMissing, RateLimited, ProviderUnavailable.
    """


@hookspec(firstresult=True)
def streamdesk_refresh(service, config, credentials):
    """Refresh ``credentials`` (a :class:`~streamdesk_contract.values.Credentials`) before expiry.

    Returns: new Credentials (with the rotated refresh token where the service rotates
    them), or ``None`` if the service's tokens cannot be refreshed.
    Raises: TokenExpired when the refresh is refused (the profile must be relinked),
    RateLimited, ProviderUnavailable.
    """


@hookspec(firstresult=True)
def streamdesk_managed_pages(service, config, credentials):
    """List the pages the connected person can add as authorized streams.

    Arguments: ``credentials`` of the person's connected profile.
    Returns: a list of :class:`~streamdesk_contract.values.ManagedPage`; pages the person cannot add
    (not an Admin, missing permissions) are included with ``reason`` set.
    Raises: TokenExpired, PermissionMissing (the person's token cannot list pages at
    all), RateLimited, ProviderUnavailable.
    """


@hookspec(firstresult=True)
def streamdesk_search(service, config, query, credentials):
    """Find public pages by URL, handle or free text, most relevant first.

    Arguments: ``query`` (str, exactly as typed), ``credentials`` (Credentials or None:
    an app-level call is used when None). Never fetch the URL the person typed.
    Returns: a list of :class:`~streamdesk_contract.values.PageInfo` (empty when nothing matches).
    Raises: InvalidQuery (the query cannot name a page of this service, with a message
    saying so), RateLimited, ProviderUnavailable, TokenExpired, PermissionMissing (the
    app lacks the access public lookups need, e.g. an app-only token).
    """


@hookspec(firstresult=True)
def streamdesk_crawl(service, config, stream, credentials, cursor):
    """Bring ``stream`` up to date from ``cursor``.

    Arguments: ``stream`` (:class:`~streamdesk_contract.values.StreamRef`), ``credentials``
    (Credentials or None for unauthorized streams), ``cursor`` (str or None for the first
    crawl: whatever the previous :class:`~streamdesk_contract.values.CrawlPage` returned).
    Returns: an iterable of CrawlPage, fetched lazily page by page; the core stores each
    page's rows with its cursor in one transaction. Unauthorized streams honour the
    service's ``unauthorized_post_limit``.
    Raises: TokenExpired, PermissionMissing, RateLimited, NotFound, ProviderUnavailable.
    """


@hookspec(firstresult=True)
def streamdesk_metrics(service, config, stream, credentials, story_ids, history_since):
    """Read post-level figures for ``story_ids`` and page-level figures for ``stream``.

    Arguments: ``story_ids`` (the stream's most recent stories' ids), ``history_since``
    (a ``datetime.date`` or None): the first day whose *daily* page figures are wanted.
    The core asks 90 days back on a stream's first refresh (a backfill), then from the
    last day it stored minus two (late corrections by the provider are picked up). A
    service with daily figures returns one Figure per metric and day from that day on,
    each with ``day`` set to the provider's day; None means "only the latest days". A
    plugin without daily figures may leave the argument out of its implementation.
    Returns: a list of :class:`~streamdesk_contract.values.Figure`, each naming the provider metric
    it came from and the API version it was read with (and the retired metric it
    replaces, where the provider renamed it); a figure the service does not provide
    has ``value=None`` and a note. Readings of now (a post's lifetime counts, a page's
    followers) have ``day=None``.
    Raises: TokenExpired, PermissionMissing, RateLimited, NotFound, ProviderUnavailable.
    """


@hookspec(firstresult=True)
def streamdesk_interact(service, config, stream, credentials, interaction):
    """Send an :class:`~streamdesk_contract.values.Interaction` (publish, reply, comment, like, hide,
    delete, message) as the authorized ``stream``.

    Returns: :class:`~streamdesk_contract.values.InteractionResult`.
    Raises: TokenExpired, PermissionMissing, RateLimited, NotFound, ProviderUnavailable,
    InvalidQuery (the provider refused the content, e.g. a duplicate post).
    """


@hookspec(firstresult=True)
def streamdesk_webhook_events(service, config, payload):
    """Read one webhook event the core received (and checked the signature of) for
    ``service``.

    Arguments: ``payload`` (the event's JSON, parsed: a dict in the provider's own
    envelope format, holding one update).
    Returns: a list of :class:`~streamdesk_contract.values.WebhookUpdate` (one per page the
    event is about; empty when the event carries nothing to store, e.g. a reaction), or
    ``None`` if ``service`` is not this plugin's. No provider call is made.
    Raises: ProviderUnavailable when the payload is not in the shape the service
    documents (the core marks the event failed and keeps it for replay).
    """


@hookspec(firstresult=True)
def streamdesk_webhook_subscribe(service, config, stream, credentials, subscribe):
    """Switch the provider's webhook deliveries for an authorized ``stream``'s page on
    (``subscribe`` True) or off (False).

    Arguments: ``stream`` (:class:`~streamdesk_contract.values.StreamRef`, authorized),
    ``credentials`` (the stream's Credentials), ``subscribe`` (bool). Called from a
    background job after the stream is added, and after the last stream of the page
    is removed; it must be safe to repeat.
    Returns: a tuple of the field names the page is subscribed to afterwards (empty
    after unsubscribing), or ``None`` if ``service`` is not this plugin's (or its pages
    need no subscription).
    Raises: PermissionMissing (the token lacks the permission subscribing needs: the
    core shows "real-time off" and goes on polling), TokenExpired, RateLimited,
    NotFound, ProviderUnavailable.
    """
