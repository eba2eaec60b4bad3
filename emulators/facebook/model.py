"""The emulator's in-memory objects: people, pages, posts, comments, conversations, tokens.

Graph ids are strings; every object is also reachable through :meth:`World.get` because
the Graph API addresses all nodes through one ``/{id}`` namespace.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from emulators.sortedfeed import SortedFeed


@dataclass
class Person:
    """A Facebook user: one who can log in through the dialog, or a fan who comments."""

    id: str
    name: str
    email: str | None
    can_login: bool = False
    #: Bumped when the person changes their password: older sessions die (190/460).
    password_epoch: int = 0
    kind: str = "User"


@dataclass
class Page:
    """A Facebook Page; ``roles`` maps a person's id to their tasks on it."""

    id: str
    name: str
    username: str | None
    category: str
    fan_count: int
    followers_count: int
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = "Page"


@dataclass
class Post:
    """A story of a page's feed (the page's own post or a visitor post)."""

    id: str
    page_id: str
    author_id: str
    message: str | None
    story: str | None
    status_type: str
    created: datetime
    updated: datetime
    shares: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    likers: set[str] = field(default_factory=set)
    is_hidden: bool = False
    is_published: bool = True
    deleted: bool = False
    link: str | None = None
    kind: str = "Post"

    @property
    def local_id(self) -> str:
        """The post's own part of ``{page-id}_{post-id}``."""
        return self.id.split("_", 1)[1]


@dataclass
class Comment:
    """A comment under a post; ``parent_id`` is set for a reply to another comment."""

    id: str
    post_id: str
    parent_id: str | None
    author_id: str
    message: str
    created: datetime
    is_hidden: bool = False
    likers: set[str] = field(default_factory=set)
    deleted: bool = False
    kind: str = "Comment"


@dataclass
class Message:
    """One Messenger message; ``from_page`` tells who sent it."""

    id: str
    created: datetime
    from_page: bool
    text: str


@dataclass
class Conversation:
    """A Messenger conversation between a page and one person (known to it by a PSID)."""

    id: str
    page_id: str
    psid: str
    person_id: str
    messages: list[Message] = field(default_factory=list)
    kind: str = "Conversation"

    @property
    def updated(self) -> datetime:
        """Time of the last message: what orders the inbox."""
        return self.messages[-1].created


@dataclass
class Token:
    """An access token the emulator issued.

    ``kind`` is USER, PAGE or APP. Page tokens hang off the user token they came from
    (``parent``), so revoking or invalidating the user's session kills them too.
    ``expires_at`` of None means the token never expires (page tokens from long-lived
    user tokens).
    """

    value: str
    kind: str
    user_id: str | None = None
    page_id: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    password_epoch: int = 0
    parent: str | None = None
    #: None while valid; "expired", "revoked" (app removed), "invalid" after control calls.
    killed: str | None = None
    killed_at: datetime | None = None


@dataclass
class AuthCode:
    """A code from the OAuth dialog: single use, bound to its redirect_uri, 10 minutes."""

    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    created: datetime
    used: bool = False


def post_key(post: Post) -> tuple[int, str]:
    """Where a story sits in its page's feed: (unix created time, its own id), the order
    Graph's feed pages in and what its ``__paging_token`` encodes."""
    return int(post.created.timestamp()), post.local_id


def comment_key(comment: Comment) -> tuple[datetime, str]:
    """Where a comment sits under its post: (created time, id), oldest first."""
    return comment.created, comment.id


class World:
    """Every object of the emulator, addressable by id, plus indexes the routes need.

    A page's stories and a post's comments are kept sorted as they are added
    (:class:`SortedFeed`), so that a page of a million-story feed costs what a page of a
    hundred-story one does. Deleted objects stay in them, flagged, and are skipped.
    """

    def __init__(self) -> None:
        self.objects: dict[str, object] = {}
        self.posts_by_page: dict[str, SortedFeed] = {}
        self.comments_by_post: dict[str, SortedFeed] = {}
        self.conversations_by_page: dict[str, list[Conversation]] = {}

    def add(self, obj) -> None:
        """Register ``obj`` under its id and in the indexes of its kind."""
        self.objects[obj.id] = obj
        if isinstance(obj, Post):
            self.feed(obj.page_id).add(obj)
        elif isinstance(obj, Comment):
            self.comments_by_post.setdefault(obj.post_id, SortedFeed(comment_key)).add(obj)
        elif isinstance(obj, Conversation):
            self.conversations_by_page.setdefault(obj.page_id, []).append(obj)

    def add_posts(self, page_id: str, posts: Iterable[Post]) -> int:
        """Register many stories of one page at once (one merge into its feed); returns
        how many."""
        posts = list(posts)
        for post in posts:
            self.objects[post.id] = post
        self.feed(page_id).extend(posts)
        return len(posts)

    def feed(self, page_id: str) -> SortedFeed:
        """The page's stories, deleted ones included, oldest first by :func:`post_key`."""
        feed = self.posts_by_page.get(page_id)
        if feed is None:
            feed = self.posts_by_page[page_id] = SortedFeed(post_key)
        return feed

    def get(self, object_id: str):
        """The live object with ``object_id``, or None (deleted objects are gone)."""
        obj = self.objects.get(object_id)
        if obj is None or getattr(obj, "deleted", False):
            return None
        return obj

    def page_by_username(self, username: str) -> Page | None:
        """Pages are found by username case-insensitively, as on facebook.com."""
        wanted = username.lower()
        for obj in self.objects.values():
            if isinstance(obj, Page) and obj.username and obj.username.lower() == wanted:
                return obj
        return None

    def pages(self) -> list[Page]:
        """Every page of the world."""
        return [obj for obj in self.objects.values() if isinstance(obj, Page)]

    def posts(self, page_id: str) -> list[Post]:
        """The page's live stories, newest first (by created time, then id). O(stories):
        Graph routes page through :meth:`feed` instead."""
        return [p for p in self.feed(page_id).older() if not p.deleted]

    def comments(self, post_id: str) -> list[Comment]:
        """The post's live comments and replies, oldest first."""
        comments = self.comments_by_post.get(post_id)
        return [c for c in comments.newer() if not c.deleted] if comments is not None else []

    def conversations(self, page_id: str) -> list[Conversation]:
        """The page's conversations, most recently updated first."""
        return sorted(self.conversations_by_page.get(page_id, []), key=lambda c: (c.updated, c.id), reverse=True)
