"""Plain values that cross the plugin boundary.

Plugins receive and return these dataclasses and nothing else: no Flask objects, no
database rows. That keeps a provider plugin testable on its own and lets a third party
write one by reading this module, ``streamdesk_contract.errors`` and ``streamdesk_contract.hookspecs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

#: Every interaction a service may allow; a service declares the subset it supports.
INTERACTIONS = ("publish", "reply", "comment", "like", "hide", "delete", "message")


@dataclass(frozen=True)
class Service:
    """What a provider plugin declares about the social network it serves.

    ``name`` is the stable identifier used in URLs and the database (lower case letters,
    digits and dashes); ``label`` is what people read. ``interactions`` lists what an
    authorized stream can send (a subset of :data:`INTERACTIONS`).
    ``unauthorized_post_limit`` is how many of a public page's most recent posts can be
    tracked (``None``: no limit); ``unauthorized_note`` says in one sentence, for people,
    what an unauthorized stream of the service tracks (each service has its own rules:
    Facebook tracks updates to the 100 most recent posts, X only new ones). The UI shows
    the note as given; without one it states the bare limit. ``default_api_url`` and
    ``default_auth_url`` are the production base URLs; the core swaps them for the
    emulators' in sandbox mode.
    ``api_version`` names the provider API version the plugin is pinned to, where the
    provider versions its API, and ``api_version_end_of_life`` the first day the provider
    no longer serves it (None: not announced): the core shows both and warns admins
    as that day nears. ``catch_up_days`` is how far back a crawl can still fetch what
    was posted while a stream was not crawled (X's recent search: 7 days; ``None``: as
    far as the stream's history goes): after a reconnect, what lies beyond it is shown
    as a gap in the stream's data. ``permission_help`` says, for each permission the
    plugin asks for, what it enables, in words for people (shown on the token health
    pages). ``permission_labels`` names, in words for people, each permission (scope)
    a person can grant, as the consent dialog shows it: a stream refused for one of
    these shows a "Grant it" link that links the profile again asking for it.
    ``text_limit`` is the most characters a post, comment or reply may have on the
    service (``None``: no limit the core needs to know); the UI counts against it and
    refuses longer text before anything is sent.
    """

    name: str
    label: str
    interactions: frozenset[str] = frozenset()
    private_messages: bool = False
    unauthorized_post_limit: int | None = None
    unauthorized_note: str | None = None
    default_api_url: str = ""
    default_auth_url: str = ""
    handle_hint: str = "URL or handle"
    api_version: str | None = None
    api_version_end_of_life: date | None = None
    catch_up_days: int | None = None
    permission_help: tuple[tuple[str, str], ...] = ()
    permission_labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    text_limit: int | None = None


@dataclass(frozen=True)
class ServiceConfig:
    """How to reach a service: app credentials and base URLs, from the configuration.

    ``app_token`` is an app-level token for calls made without a person's credentials,
    where the service issues one separately from the OAuth client (X: the app's
    *Bearer Token*, ``TWITTER_APP_TOKEN``); empty when unused.

    ``webhook_url`` is where this installation receives the service's webhook
    deliveries (``PUBLIC_URL/webhooks/<service>``): what a plugin registers with a
    provider that takes the callback URL through its API (X's ``POST /2/webhooks``).
    """

    client_id: str = ""
    client_secret: str = ""
    api_url: str = ""
    auth_url: str = ""
    sandbox: bool = False
    app_token: str = ""
    webhook_url: str = ""


@dataclass(frozen=True)
class OAuthDetails:
    """The OAuth 2.0 authorization-code parameters of a service.

    ``code_challenge_method`` is ``"S256"`` for services that require PKCE.
    ``extra_authorize_params`` are added to the authorization URL as given.
    ``asks_one_permission``: the consent dialog can ask again for one permission alone
    (Facebook, with ``auth_type=rerequest``); otherwise granting a missing permission
    asks for the full set of ``scopes`` again (X has no way to add one scope).
    """

    authorize_url: str
    access_token_url: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    code_challenge_method: str | None = None
    token_endpoint_auth_method: str = "client_secret_post"
    extra_authorize_params: dict[str, str] = field(default_factory=dict)
    asks_one_permission: bool = False


@dataclass(frozen=True)
class Credentials:
    """A token as the core stores it (encrypted at rest) and hands back to plugins."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkedProfile:
    """The person behind a freshly authorized token: becomes a connected profile."""

    external_id: str
    name: str
    credentials: Credentials
    granted: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    picture_url: str | None = None


@dataclass(frozen=True)
class PageInfo:
    """A page or account that can become a stream (search results, managed pages)."""

    page_id: str
    name: str
    handle: str | None = None
    url: str | None = None
    picture_url: str | None = None
    followers: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class ManagedPage:
    """A page the connected person administers, and whether it can be added.

    ``can_add`` is false when the person is not an Admin or a permission is missing;
    ``reason`` then says why and what to do, in words for the person.
    ``credentials`` carries the page's own token where the service issues one.
    """

    page: PageInfo
    is_admin: bool
    missing_permissions: tuple[str, ...] = ()
    reason: str | None = None
    credentials: Credentials | None = None

    @property
    def can_add(self) -> bool:
        return self.is_admin and not self.missing_permissions


@dataclass(frozen=True)
class StreamRef:
    """The stream a crawl, metrics or interaction call is about."""

    page_id: str
    authorized: bool
    handle: str | None = None


@dataclass(frozen=True)
class Story:
    """One item of a stream's feed. ``raw_type`` keeps the provider's own kind."""

    external_id: str
    created_at: datetime
    text: str = ""
    author_id: str | None = None
    author_name: str | None = None
    url: str | None = None
    raw_type: str | None = None
    updated_at: datetime | None = None
    is_hidden: bool = False


@dataclass(frozen=True)
class Comment:
    """A reply under a story; ``parent_id`` is set for a reply to another comment."""

    external_id: str
    story_id: str
    created_at: datetime
    text: str = ""
    author_id: str | None = None
    author_name: str | None = None
    parent_id: str | None = None
    is_hidden: bool = False


@dataclass(frozen=True)
class Message:
    """A private message in a conversation (authorized streams only)."""

    external_id: str
    conversation_id: str
    created_at: datetime
    text: str = ""
    sender_id: str | None = None
    sender_name: str | None = None


@dataclass(frozen=True)
class CrawlPage:
    """One page of crawl results and the cursor that follows it.

    The core stores the rows and ``cursor`` in one transaction, so a crawl that stops
    after any page resumes from there without losing or duplicating anything.
    """

    cursor: str | None
    stories: tuple[Story, ...] = ()
    comments: tuple[Comment, ...] = ()
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class WebhookUpdate:
    """What one webhook event tells about one page: rows to store as a crawl stores
    them (upserted by ``external_id``, so a webhook and a crawl of the same item never
    duplicate it), and the ids of comments the provider says were removed.
    ``revoked``: the page's person took back the app's access (X's ``oauth.revoke``):
    the core expires the page's authorized streams at once."""

    page_id: str
    stories: tuple[Story, ...] = ()
    comments: tuple[Comment, ...] = ()
    messages: tuple[Message, ...] = ()
    removed_comments: tuple[str, ...] = ()
    revoked: bool = False


@dataclass(frozen=True)
class Figure:
    """One metric figure. ``provider_metric`` names the provider metric it came from;
    ``value`` is ``None`` when the service does not provide it (never a made-up 0)."""

    name: str
    value: int | None
    provider_metric: str | None
    level: str  # "post" or "page"
    object_id: str
    note: str | None = None
    #: The provider API version the figure was read with (e.g. "v25.0" for Graph, "2" for X).
    api_version: str | None = None
    #: The retired provider metric ``provider_metric`` succeeds, when the provider renamed
    #: it (Graph's ``page_impressions`` → ``page_media_view``): the mapping is kept with the
    #: figure, so a chart spanning the change says where its numbers come from.
    replaces: str | None = None
    #: The provider day a *daily* figure counts (page views on that day); None for a
    #: reading of now (a post's lifetime views, a page's followers).
    day: date | None = None


@dataclass(frozen=True)
class Interaction:
    """Something the team sends: ``kind`` is one of :data:`INTERACTIONS`."""

    kind: str
    target_id: str | None = None
    text: str | None = None
    undo: bool = False


@dataclass(frozen=True)
class InteractionResult:
    """What the provider answered: the id of what was created, if anything."""

    ok: bool
    external_id: str | None = None
