"""The emulator's world: users, tweets, likes, direct messages, OAuth grants.

One :class:`State` per emulator app, guarded by one lock: the server is threaded and
every request reads or writes several of these tables at once.
"""
from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field

from emulators.sortedfeed import SortedFeed

from .clock import Clock, IdMaker, time_of
from .ratelimits import RateLimits

MENTION_RE = re.compile(r"(?<![A-Za-z0-9_])@([A-Za-z0-9_]{1,15})")
HASHTAG_RE = re.compile(r"(?<![A-Za-z0-9_])#(\w+)")

#: Access tokens live two hours (X's default for OAuth 2.0 user tokens).
ACCESS_TOKEN_TTL = 7200
#: Authorization codes are short-lived on X (about 30 seconds).
CODE_TTL = 30
#: Non-public metrics exist only for the author's posts younger than this.
PRIVATE_METRICS_DAYS = 30
#: The emulated developer app's numeric id.
APP_ID = "29184730"


@dataclass
class User:
    """An X account."""

    id: str
    username: str
    name: str
    created_at: float
    description: str = ""
    location: str = ""
    url: str = ""
    protected: bool = False
    verified: bool = False
    suspended: bool = False
    followers_count: int = 0
    following_count: int = 0
    listed_count: int = 0
    like_count: int = 0

    @property
    def profile_image_url(self) -> str:
        """Where X would serve the avatar."""
        return f"https://pbs.twimg.com/profile_images/{self.id}/{self.username}_normal.jpg"


@dataclass
class Tweet:
    """A post, with its threading and the counts behind its metrics."""

    id: str
    author_id: str
    text: str
    created_at: float
    conversation_id: str
    in_reply_to_user_id: str | None = None
    referenced: list[tuple[str, str]] = field(default_factory=list)  # (type, id)
    impressions: int = 0
    retweets: int = 0
    bookmarks: int = 0
    base_likes: int = 0  # likes by people outside the emulated world
    base_replies: int = 0
    base_quotes: int = 0
    link_clicks: int = 0
    profile_clicks: int = 0
    deleted: bool = False
    hidden: bool = False  # a reply hidden by the conversation's author

    def ref(self, kind: str) -> str | None:
        """The id this tweet references as ``kind`` (replied_to, quoted, retweeted)."""
        return next((tid for t, tid in self.referenced if t == kind), None)


@dataclass
class DMEvent:
    """One direct-message event."""

    id: str
    conversation_id: str
    sender_id: str
    participant_ids: tuple[str, str]
    text: str
    created_at: float
    event_type: str = "MessageCreate"


@dataclass
class AuthCode:
    """An authorization code waiting to be exchanged (single use)."""

    code: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scopes: tuple[str, ...]
    user_id: str
    created: float
    used: bool = False


@dataclass
class Grant:
    """One authorization: the access token and (with offline.access) its refresh token."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    revoked: bool = False


def id_key(item) -> int:
    """Where a tweet or DM event sits in a feed: its snowflake id, which grows with time."""
    return int(item.id)


def conversation_id_of(a: str, b: str) -> str:
    """X's id of a one-to-one DM conversation: both user ids, smaller first."""
    low, high = sorted((a, b), key=int)
    return f"{low}-{high}"


def new_token(prefix: str) -> str:
    # Opaque, URL-safe and recognisably typed, like X's base64-looking tokens.
    """A new opaque token with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(40)


class State:
    """Everything the emulator knows; reset to the seed by the control API."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.ids = IdMaker(self.clock)
        self.users: dict[str, User] = {}
        self.tweets: dict[str, Tweet] = {}
        self.likes: set[tuple[str, str]] = set()  # (user_id, tweet_id)
        self.dms: dict[str, DMEvent] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}  # access token -> grant
        self.refresh: dict[str, Grant] = {}  # refresh token -> grant
        #: X rotates refresh tokens; the control API can switch that off to play a
        #: service whose refresh answers carry no new refresh token.
        self.rotate_refresh = True
        self.owner_id = ""
        self.clients: dict[str, dict] = {}  # client_id -> {"secret": str|None, "name": str}
        self.consumer_keys: dict[str, str] = {}  # API key -> API secret (app-only tokens)
        self.app_token = ""
        self.app_tokens: set[str] = set()  # app-only bearer tokens
        self.limits = RateLimits()
        #: Scopes the app may be granted (its permission level in the developer portal).
        self.app_scopes: frozenset[str] | None = None
        #: Endpoints the app's access level lacks -> how X refuses them
        #: ("client-forbidden" or "unsupported-authentication").
        self.refused: dict[str, str] = {}
        #: The app's numeric id, as X names it in client-forbidden answers.
        self.app_id = APP_ID
        self.requests: Counter[str] = Counter()  # "GET /2/users/:id/tweets" -> calls
        self.paths: Counter[str] = Counter()  # "GET /2/users/123/tweets" -> calls
        # Live tweets kept in id order as they are posted, so that a page of a timeline,
        # of mentions or of search costs the same at a million tweets as at a hundred.
        self.everything = SortedFeed(id_key)
        self.by_author: dict[str, SortedFeed] = {}
        #: user id -> live tweets by others (never suspended: the seed fixes who is) mentioning them.
        self.mentioning: dict[str, SortedFeed] = {}
        self.mentioned: dict[str, list[str]] = {}  # tweet id -> the user ids its text mentions
        self.live_replies: Counter[str] = Counter()  # tweet id -> live replies to it
        self.live_quotes: Counter[str] = Counter()  # tweet id -> live quotes of it
        #: The Activity API (webhooks), attached once the world is seeded (:mod:`.activity`).
        self.activity = None

    # -- users ------------------------------------------------------------------
    def user_by_name(self, username: str) -> User | None:
        """The user with this username (case-insensitive)."""
        lowered = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == lowered), None)

    def user_ref(self, name_or_id: str) -> User | None:
        """A user named by id, username or @username (control API convenience)."""
        key = str(name_or_id).lstrip("@")
        return self.users.get(key) or self.user_by_name(key)

    # -- tweets -----------------------------------------------------------------
    def visible(self, tweet_id: str) -> Tweet | None:
        """The tweet if it exists, is not deleted and its author is not suspended."""
        tweet = self.tweets.get(tweet_id)
        if tweet is None or tweet.deleted or self.users[tweet.author_id].suspended:
            return None
        return tweet

    def mention_ids(self, tweet: Tweet) -> list[str]:
        """Ids of the known users the tweet's text mentions (read once per tweet: users
        are all seeded before any tweet)."""
        found = self.mentioned.get(tweet.id)
        if found is None:
            found = []
            for name in MENTION_RE.findall(tweet.text):
                user = self.user_by_name(name)
                if user and user.id not in found:
                    found.append(user.id)
            self.mentioned[tweet.id] = found
        return found

    def timeline(self, user_id: str) -> list[Tweet]:
        """The user's tweets, newest first (a copy: pages walk :meth:`tweets_of`)."""
        return self.tweets_of(user_id).newest_first()

    def tweets_of(self, user_id: str) -> SortedFeed:
        """The user's live tweets in id order."""
        return self.by_author.get(user_id) or SortedFeed(id_key)

    def mentions(self, user_id: str) -> list[Tweet]:
        """Tweets by others that mention the user, newest first (a copy: pages walk
        :meth:`mentions_of`)."""
        return self.mentions_of(user_id).newest_first()

    def mentions_of(self, user_id: str) -> SortedFeed:
        """Live tweets by others, not suspended, that mention the user, in id order."""
        return self.mentioning.get(user_id) or SortedFeed(id_key)

    def _index(self, tweets: list[Tweet]) -> None:
        """Put new tweets in every feed that lists them and count them as replies/quotes."""
        authors: dict[str, list[Tweet]] = {}
        mentioned: dict[str, list[Tweet]] = {}
        for tweet in tweets:
            authors.setdefault(tweet.author_id, []).append(tweet)
            if not self.users[tweet.author_id].suspended:
                for user_id in self.mention_ids(tweet):
                    if user_id != tweet.author_id:
                        mentioned.setdefault(user_id, []).append(tweet)
            self._count_refs(tweet, 1)
        self.everything.extend(tweets)
        for user_id, theirs in authors.items():
            self.by_author.setdefault(user_id, SortedFeed(id_key)).extend(theirs)
        for user_id, theirs in mentioned.items():
            self.mentioning.setdefault(user_id, SortedFeed(id_key)).extend(theirs)

    def _count_refs(self, tweet: Tweet, change: int) -> None:
        if tweet.ref("replied_to"):
            self.live_replies[tweet.ref("replied_to")] += change
        if tweet.ref("quoted"):
            self.live_quotes[tweet.ref("quoted")] += change

    def delete_tweet(self, tweet: Tweet) -> None:
        """The tweet is deleted: gone from timelines, mentions, search and reply counts."""
        if tweet.deleted:
            return
        tweet.deleted = True
        self._count_refs(tweet, -1)
        self.everything.remove(tweet)
        self.tweets_of(tweet.author_id).remove(tweet)
        for user_id in self.mention_ids(tweet):
            self.mentions_of(user_id).remove(tweet)

    def like_count(self, tweet: Tweet) -> int:
        """Likes from outside the emulated world plus emulated likes."""
        return tweet.base_likes + sum(1 for _, tid in self.likes if tid == tweet.id)

    def reply_count(self, tweet: Tweet) -> int:
        """Replies counted by X plus live replies."""
        return tweet.base_replies + self.live_replies[tweet.id]

    def quote_count(self, tweet: Tweet) -> int:
        """Quotes counted by X plus live quotes."""
        return tweet.base_quotes + self.live_quotes[tweet.id]

    def private_metrics_allowed(self, tweet: Tweet, viewer_id: str | None) -> bool:
        """Non-public metrics: the author's own posts, created within the last 30 days."""
        young = self.clock.now() - tweet.created_at < PRIVATE_METRICS_DAYS * 86400
        return viewer_id == tweet.author_id and young

    def add_tweet(self, author_id: str, text: str, reply_to: str | None = None,
                  quote_of: str | None = None, created_at: float | None = None,
                  retweet_of: str | None = None, **metrics) -> Tweet:
        """Create a tweet as X would: thread it under its conversation, give it an id."""
        tweet_id = str(self.ids.next() if created_at is None else self.ids.at(created_at))
        created_at = time_of(int(tweet_id))
        referenced: list[tuple[str, str]] = []
        conversation_id = tweet_id
        in_reply_to_user_id = None
        if reply_to:
            parent = self.tweets[reply_to]
            referenced.append(("replied_to", parent.id))
            conversation_id = parent.conversation_id
            in_reply_to_user_id = parent.author_id
        if quote_of:
            referenced.append(("quoted", quote_of))
        if retweet_of:
            referenced.append(("retweeted", retweet_of))
        tweet = Tweet(
            id=tweet_id, author_id=author_id, text=text, created_at=created_at,
            conversation_id=conversation_id, in_reply_to_user_id=in_reply_to_user_id,
            referenced=referenced, **metrics,
        )
        self.tweets[tweet.id] = tweet
        self._index([tweet])
        if self.activity is not None:
            self.activity.tweet_created(tweet)
        return tweet

    def add_tweets(self, author_id: str, texts_and_times: list[tuple[str, float]]) -> list[Tweet]:
        """Many plain tweets (no replies or quotes) by one author at the given unix times,
        indexed in one merge: a big account's history in one call."""
        tweets = []
        for text, at in texts_and_times:
            tweet_id = str(self.ids.at(at))
            tweet = Tweet(id=tweet_id, author_id=author_id, text=text, created_at=time_of(int(tweet_id)),
                          conversation_id=tweet_id)
            self.tweets[tweet_id] = tweet
            tweets.append(tweet)
        self._index(tweets)
        return tweets

    # -- direct messages ----------------------------------------------------------
    def add_dm(self, sender_id: str, recipient_id: str, text: str,
               created_at: float | None = None) -> DMEvent:
        """Send a direct message; the id says when."""
        event_id = str(self.ids.next() if created_at is None else self.ids.at(created_at))
        event = DMEvent(
            id=event_id, conversation_id=conversation_id_of(sender_id, recipient_id),
            sender_id=sender_id, participant_ids=(sender_id, recipient_id), text=text,
            created_at=time_of(int(event_id)),
        )
        self.dms[event.id] = event
        if self.activity is not None:
            self.activity.dm_created(event)
        return event

    def dm_events(self, user_id: str) -> list[DMEvent]:
        """The user's DM events of the last 30 days, newest first (as X keeps them)."""
        horizon = self.clock.now() - 30 * 86400
        events = [e for e in self.dms.values() if user_id in e.participant_ids and e.created_at >= horizon]
        return sorted(events, key=lambda e: int(e.id), reverse=True)

    # -- OAuth --------------------------------------------------------------------
    def issue_grant(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> Grant:
        """A new access token (two hours) and, with offline.access, a refresh token."""
        grant = Grant(
            user_id=user_id, client_id=client_id, scopes=scopes,
            access_token=new_token("ZW11LWF0-"),
            expires_at=self.clock.now() + ACCESS_TOKEN_TTL,
            refresh_token=new_token("ZW11LXJ0-") if "offline.access" in scopes else None,
        )
        self.grants[grant.access_token] = grant
        if grant.refresh_token:
            self.refresh[grant.refresh_token] = grant
        return grant

    def revoke_grant(self, grant: Grant) -> None:
        """Revoking either token ends the whole authorization, as on X."""
        if not grant.revoked and self.activity is not None:
            self.activity.grant_revoked(grant)
        grant.revoked = True
        self.refresh.pop(grant.refresh_token or "", None)

    def grants_of(self, user_id: str) -> list[Grant]:
        """The user's live authorizations."""
        return [g for g in self.grants.values() if g.user_id == user_id and not g.revoked]
