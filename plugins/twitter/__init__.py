"""Twitter/X provider plugin (X API v2).

Every URL is built from the :class:`~streamdesk_contract.values.ServiceConfig`: ``api_url``
(``https://api.x.com`` in production, the emulator in sandbox mode) and ``auth_url``
(``https://x.com/i/oauth2``). Calls without a person's credentials (search, public
streams, their metrics) use the app-only bearer token ``config.app_token`` — X's
*Bearer Token* of the app, because X issues app-only tokens from the consumer keys,
not from the OAuth 2.0 client id and secret.

Each hook returns ``None`` for other services, so pluggy's first-result dispatch
reaches the plugin that serves the service asked for.

Every service hook is :func:`guarded` (and so is the crawl's page generator while it
runs): an answer of X that does not have the shape the plugin reads — a missing ``id``,
a number that is not one, ``data`` that is not an object — ends in ProviderUnavailable
(retried later) instead of a KeyError, ValueError, AttributeError or TypeError that the
core could only report as a plugin bug.
"""
from __future__ import annotations

from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.pluginkit import readable_answers
from streamdesk_contract.values import Service

from .crawl import crawl
from .interactions import MAX_CHARS, interact
from .link import LABELS, link_details, link_profile, managed_pages, refresh
from .metrics import metrics
from .search import search
from .weblinks import LINKS
from .subscribe import subscribe as webhook_subscribe
from .webhooks import updates as webhook_updates

NAME = "twitter"

SERVICE = Service(
    name=NAME,
    label="X (Twitter)",
    interactions=frozenset({"publish", "reply", "like", "hide", "delete", "message"}),
    private_messages=True,
    unauthorized_post_limit=100,
    # What crawl._public does: one timeline call for tweets newer than the cursor, replies
    # excluded; nothing else of a public account (mentions, DMs) is readable.
    unauthorized_note=("Only new posts are tracked, from the account's 100 most recent (replies "
                       "excluded); its mentions and private messages are not."),
    default_api_url="https://api.x.com",
    default_auth_url="https://x.com/i/oauth2",
    handle_hint="Profile URL or @handle",
    # Mentions, replies and a stopped timeline are caught up through recent search.
    # Replies to old posts need no revisit on X: a reply is a new post mentioning the
    # account, so the live search finds it on the next crawl whatever its parent's age.
    # Public accounts cannot have theirs tracked: that needs a conversation_id search per
    # post, which reaches only the last 7 days (full-archive search is not on our access
    # level), so their replies stay excluded (see unauthorized_note).
    catch_up_days=7,
    permission_help=(
        ("tweet.read", "read posts, mentions and replies"),
        ("users.read", "read the account's profile"),
        ("tweet.write", "publish posts and replies"),
        ("tweet.moderate.write", "hide replies"),
        ("like.write", "like posts"),
        ("dm.read", "read private messages"),
        ("dm.write", "answer private messages"),
        ("offline.access", "stay connected: renew the token without asking again"),
    ),
    permission_labels=dict(LABELS),
    text_limit=MAX_CHARS,
)

#: What reading a malformed answer raises (KeyError and IndexError are LookupErrors).
#: Decorates every hook: an answer of X that cannot be read (a missing ``data`` or ``id``)
#: ends in ProviderUnavailable, and so does one met while the crawl's iterator runs.
guarded = readable_answers("X")


@hookimpl
def streamdesk_services():
    """Declare the X (Twitter) service."""
    return SERVICE


@hookimpl
@guarded
def streamdesk_link_details(service, config):
    """OAuth 2.0 with PKCE (S256): authorize on x.com, exchange at ``{api_url}/2/oauth2/token``.

    Scopes include ``offline.access`` so X issues a (rotating) refresh token.
    """
    if service != NAME:
        return None

    return link_details(config)


@hookimpl
@guarded
def streamdesk_link_profile(service, config, token):
    """Read ``/2/users/me`` with the new token: the profile, its credentials (refresh token,
    expiry), the scopes granted and the requested ones declined.

    Raises TokenExpired, PermissionMissing, RateLimited, ProviderUnavailable.
    """
    if service != NAME:
        return None

    return link_profile(config, token)


@hookimpl
@guarded
def streamdesk_refresh(service, config, credentials):
    """Refresh with the refresh token; the returned credentials carry the *rotated* refresh
    token (the old one stops working) and must be stored at once.

    Returns None when there is no refresh token (``offline.access`` not granted).
    Raises TokenExpired only when X refuses the refresh token; RateLimited and
    ProviderUnavailable otherwise (the profile stays connected).
    """
    if service != NAME:
        return None

    return refresh(config, credentials)


@hookimpl
@guarded
def streamdesk_managed_pages(service, config, credentials):
    """The connected account itself, as the one page its person administers (is_admin).

    Missing essential scopes (tweet.read, users.read, offline.access) are listed.
    Raises TokenExpired, RateLimited, ProviderUnavailable.
    """
    if service != NAME:
        return None

    return LINKS.managed(config, managed_pages(config, credentials))


@hookimpl
@guarded
def streamdesk_search(service, config, query, credentials):
    """Find the X account a profile URL or handle names (``/2/users/by/username``).

    Bad handles and non-X URLs raise InvalidQuery before any call; the typed URL is
    never fetched. Uses the person's token, or the app's bearer token when None.
    Returns [] when no such account exists (or it is suspended).
    Raises InvalidQuery, RateLimited, ProviderUnavailable, TokenExpired, PermissionMissing.
    """
    if service != NAME:
        return None

    return LINKS.pages(config, search(config, query, credentials))


@hookimpl
@guarded
def streamdesk_crawl(service, config, stream, credentials, cursor):
    """A lazy iterator of CrawlPage: authorized streams get their tweets, mentions (replies
    threaded as comments) and direct messages; unauthorized streams their newest tweets,
    within X's 100 most recent. An idle re-crawl costs at most two calls (three where
    the app's access level lacks recent search).

    Raises TokenExpired (also for an authorized stream without credentials),
    PermissionMissing, RateLimited, NotFound, ProviderUnavailable.
    """
    if service != NAME:
        return None

    # @guarded guards it as it runs; in sandbox mode stories link to the emulator's pages.
    return LINKS.crawl_pages(config, crawl(config, stream, credentials, cursor))


@hookimpl
@guarded
def streamdesk_metrics(service, config, stream, credentials, story_ids):
    """Post figures (impressions, likes, reposts, replies, quotes, bookmarks; link and
    profile clicks for the account's own posts under 30 days) and account figures.
    Reach, engagements and account impressions are ``None`` with the note "not provided
    by X"; every figure of a post deleted since is ``None`` with the note "the post no
    longer exists on X".

    Raises TokenExpired, PermissionMissing, RateLimited, NotFound, ProviderUnavailable.
    """
    if service != NAME:
        return None

    return metrics(config, stream, credentials, story_ids)


@hookimpl
@guarded
def streamdesk_interact(service, config, stream, credentials, interaction):
    """Publish, reply, like (undo: unlike), hide a reply (undo: unhide), delete a post or
    send a direct message as the authorized account.

    Raises TokenExpired (also for an unauthorized stream or missing credentials),
    PermissionMissing, RateLimited, NotFound, ProviderUnavailable,
    InvalidQuery (empty or too long text, duplicate post, unsupported kind).
    """
    if service != NAME:
        return None

    return interact(config, stream, credentials, interaction)


@hookimpl
@guarded
def streamdesk_webhook_events(service, config, payload):
    """One X Activity API event (``{"data": {event_uuid, filter, event_type, payload}}``):
    a mention, reply or quote becomes the story or comment the crawl would store, a
    ``dm.received`` a message, an ``oauth.revoke`` an update with ``revoked`` set.
    No provider call. Raises ProviderUnavailable for an event not in X's shape.
    """
    if service != NAME:
        return None

    return webhook_updates(config, payload)


@hookimpl
@guarded
def streamdesk_webhook_subscribe(service, config, stream, credentials, subscribe):
    """Subscribe the account to the app's X Activity API webhook (registered at
    ``config.webhook_url`` first, after X's CRC) for post.mention.create,
    post.reply.create, post.quote.create, dm.received and oauth.revoke, or delete its
    subscriptions. Raises PermissionMissing (``dm.read``, or no app token),
    TokenExpired, RateLimited, ProviderUnavailable (a failed CRC among them)."""
    if service != NAME:
        return None

    return webhook_subscribe(config, stream, credentials, bool(subscribe))
