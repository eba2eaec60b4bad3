"""Facebook provider plugin (Graph API, the version pinned in :mod:`.versions`).

Every hook answers only for ``service == "facebook"`` (returning None otherwise, so
pluggy's first-result dispatch reaches the right plugin) and builds every URL from
``config.api_url`` / ``config.auth_url``: pointing those at ``emulators.facebook`` is all
sandbox mode changes. The work is done in one module per job: :mod:`.link`,
:mod:`.pages`, :mod:`.search` (with :mod:`.urls`), :mod:`.crawl` (with :mod:`.cursor`),
:mod:`.metrics` and :mod:`.interact`, over :mod:`.client` (HTTP, usage headers, error
mapping in :mod:`.graph_errors`). Every hook goes through :func:`.guard.readable`, which also
guards the crawl's iterator while it runs: an answer Facebook sent in a shape
the plugin cannot read ends in ProviderUnavailable, never in a Python error.
"""
from __future__ import annotations

from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.values import Service

from . import crawl as _crawl
from . import interact as _interact
from . import link as _link
from . import metrics as _metrics
from . import pages as _pages
from . import search as _search
from . import subscribe as _subscribe
from . import versions as _versions
from . import webhooks as _webhooks
from .guard import readable
from .rules import PERMISSION_HELP
from .rules import LABELS as _LABELS
from .weblinks import LINKS

NAME = "facebook"

SERVICE = Service(
    name=NAME,
    label="Facebook",
    interactions=frozenset({"publish", "reply", "comment", "like", "hide", "delete", "message"}),
    private_messages=True,
    # Graph API: for pages you do not manage only updates to the 100 most recent posts.
    unauthorized_post_limit=100,
    unauthorized_note="Only updates to the 100 most recent posts can be tracked.",
    default_api_url=f"https://graph.facebook.com/{_versions.PINNED}",
    default_auth_url=f"https://www.facebook.com/{_versions.PINNED}",
    handle_hint="Page URL or @handle",
    api_version=_versions.PINNED,
    api_version_end_of_life=_versions.end_of_life(),
    permission_help=PERMISSION_HELP,
    permission_labels=dict(_LABELS),
    # Graph refuses a page post longer than this (the limit Facebook's composer counts).
    text_limit=63206,
)


@hookimpl
@readable
def streamdesk_services():
    """Declare the Facebook service."""
    return SERVICE


@hookimpl
@readable
def streamdesk_link_details(service, config):
    """Facebook Login: the dialog at ``{auth_url}/dialog/oauth``, the token endpoint at
    ``{api_url}/oauth/access_token``, comma-separated page permissions, and
    ``auth_type=rerequest`` so a relink asks again for what was declined."""
    if service != NAME:
        return None
    return _link.details(config)


@hookimpl
@readable
def streamdesk_link_profile(service, config, token):
    """Exchange the dialog's token for a long-lived one (~60 days) and return the person
    (id, name, picture), the token's expiry and the granted and declined permissions.
    Raises TokenExpired, RateLimited, ProviderUnavailable."""
    if service != NAME:
        return None
    return _link.profile(config, token)


@hookimpl
@readable
def streamdesk_managed_pages(service, config, credentials):
    """The pages the person has a role on, each with its page token, whether the person
    is an Admin (MANAGE task), the missing permissions and, when it cannot be added, a
    reason that says what to enable in Facebook's Business integrations settings.
    Raises TokenExpired, PermissionMissing (pages_show_list off), RateLimited,
    ProviderUnavailable."""
    if service != NAME:
        return None
    return LINKS.managed(config, _pages.managed_pages(config, credentials))


@hookimpl
@readable
def streamdesk_search(service, config, query, credentials):
    """Public pages named by a page URL (any form people paste), an @handle or free text,
    most relevant first; never fetches the URL typed. Raises InvalidQuery ("not a
    Facebook page"), RateLimited, ProviderUnavailable, TokenExpired."""
    if service != NAME:
        return None
    return LINKS.pages(config, _search.search(config, query, credentials))


@hookimpl
@readable
def streamdesk_crawl(service, config, stream, credentials, cursor):
    """A lazy iterator of CrawlPages: stories with comments and replies (and, for
    authorized streams, private messages) since ``cursor``. Unauthorized streams track
    only the 100 most recent posts; authorized ones every post, revisiting older feed
    pages by age band (under 7 days every crawl, under 30 days hourly, older daily; see
    :mod:`.revisit`) for changed posts. An idle re-crawl costs one call (unauthorized) or
    one plus the revisited pages (authorized: about 43 calls an hour for a 20,000-post
    page crawled every 5 minutes). Raises
    TokenExpired, PermissionMissing, RateLimited, NotFound, ProviderUnavailable (while
    iterating)."""
    if service != NAME:
        return None
    # @readable guards it as it runs; in sandbox mode stories link to the emulator's pages.
    return LINKS.crawl_pages(config, _crawl.crawl(config, stream, credentials, cursor))


@hookimpl
@readable
def streamdesk_metrics(service, config, stream, credentials, story_ids, history_since):
    """Impressions (views) and reach (unique viewers) per post, and per page both as
    Facebook reports them (28 days) and summed over the posts; every post's public
    reactions, comments and shares and the page's followers; for authorized streams,
    the page's daily figures from ``history_since``. Each figure names its Graph metric,
    version and the retired metric it succeeds. Raises TokenExpired, PermissionMissing,
    RateLimited, NotFound, ProviderUnavailable."""
    if service != NAME:
        return None
    return _metrics.metrics(config, stream, credentials, story_ids, history_since)


@hookimpl
@readable
def streamdesk_interact(service, config, stream, credentials, interaction):
    """Publish, comment, reply, like (undo: unlike), hide (undo: unhide), delete or send
    a private message as the page; refuses with PermissionMissing what the person's
    tasks on the page do not allow. Raises TokenExpired, PermissionMissing, RateLimited,
    NotFound, ProviderUnavailable, InvalidQuery."""
    if service != NAME:
        return None
    return _interact.interact(config, stream, credentials, interaction)


@hookimpl
@readable
def streamdesk_webhook_events(service, config, payload):
    """A Graph "Webhooks for Pages" delivery as one WebhookUpdate per page: feed
    comments and posts added or edited, comments removed, and Messenger messages.
    Raises ProviderUnavailable for a delivery not in Graph's documented shape."""
    if service != NAME:
        return None
    return _webhooks.updates(payload)


@hookimpl
@readable
def streamdesk_webhook_subscribe(service, config, stream, credentials, subscribe):
    """Subscribe the page to the app's webhooks (fields feed and messages) through
    ``POST /{page-id}/subscribed_apps`` with the page token, or unsubscribe it
    (``DELETE``). Raises PermissionMissing (``pages_manage_metadata``), TokenExpired,
    RateLimited, NotFound, ProviderUnavailable."""
    if service != NAME:
        return None
    return _subscribe.subscribe(config, stream, credentials, bool(subscribe))
