"""X Activity API webhooks, delivered as X delivers them.

An app registers a webhook (``POST /2/webhooks {"url"}``): X first runs the
Challenge-Response Check — ``GET <url>?crc_token=…`` must answer ``{"response_token":
"sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}`` — and registers the URL
only then. Subscriptions (``POST /2/activity/subscriptions {"event_type", "filter":
{"user_id"}, "tag", "webhook_id"}``) say which events of which account go there.
Every matching event is POSTed as ``{"data": {"event_uuid", "filter", "event_type",
"tag", "payload", "includes"}}``, signed ``x-twitter-webhooks-signature: sha256=<base64
HMAC-SHA256(consumer secret, raw body)>``. A delivery that does not get a 2xx is retried
a few times within minutes of the emulator's clock (RETRY_DELAYS, our own choice: X does
not publish its schedule), then dropped.

Events come from :class:`~.state.State` itself (a tweet, a DM, a revoked grant), so
whatever creates them — the v2 API, the control API — delivers them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

import requests

from emulators.outbox import Delivery, Outbox

from .clock import x_time
from .render import dm_json, tweet_json, user_json

#: Event types the emulator delivers.
EVENT_TYPES = frozenset({"post.mention.create", "post.reply.create", "post.quote.create", "dm.received",
                         "oauth.revoke"})
#: Seconds (emulated clock) after each failed attempt before the next; then given up.
RETRY_DELAYS = (0, 30, 120, 300)
#: Seconds X waits for a callback's answer (CRC and deliveries).
CALLBACK_TIMEOUT = 10
TWEET_FIELDS = {"created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets"}
DM_FIELDS = {"created_at", "sender_id", "dm_conversation_id", "participant_ids"}


class CrcFailed(Exception):
    """The URL did not answer the CRC with the right response_token."""


def sign(secret: str, data: bytes) -> str:
    """``sha256=<base64 HMAC-SHA256(secret, data)>``: X's CRC answer and signature."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


@dataclass
class Webhook:
    id: str
    url: str
    created_at: float
    valid: bool = True

    def json(self) -> dict:
        """As ``GET /2/webhooks`` lists it."""
        return {"id": self.id, "url": self.url, "valid": self.valid, "created_at": x_time(self.created_at)}


@dataclass
class Subscription:
    id: str
    webhook_id: str
    event_type: str
    user_id: str | None  # None: every account (a control-API convenience, like sandbox mode's)
    tag: str | None
    created_at: float

    def json(self) -> dict:
        """As the subscriptions endpoints show it."""
        return {"subscription_id": self.id, "webhook_id": self.webhook_id, "event_type": self.event_type,
                "filter": {"user_id": self.user_id} if self.user_id else {}, **({"tag": self.tag} if self.tag else {}),
                "created_at": x_time(self.created_at), "updated_at": x_time(self.created_at)}


def _retry(delivery: Delivery, now: float) -> float | None:
    """The emulator's policy: RETRY_DELAYS after each failed attempt, then give up."""
    if delivery.attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[delivery.attempts - 1]


@dataclass
class Activity:
    """The Activity API of one emulator world: webhooks, subscriptions, and the
    deliveries due (sent by an :class:`~emulators.outbox.Outbox` outside the world's
    lock, ended with :meth:`stop`)."""

    state: object
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    outbox: Outbox = field(init=False)

    def __post_init__(self):
        self.outbox = Outbox(self.state.lock, self.state.clock.now, _retry, lambda status: 200 <= status < 300,
                             "emulator-twitter-activity", CALLBACK_TIMEOUT)

    # -- registration (the caller holds no lock: the CRC calls out) ----------------------
    def register(self, url: str) -> Webhook:
        """Run the CRC against ``url`` and register it; raises CrcFailed."""
        self.crc(url)
        with self.state.lock:
            hook = Webhook(str(self.state.ids.next()), url, self.state.clock.now())
            self.webhooks[hook.id] = hook
            return hook

    def recheck(self, webhook_id: str) -> None:
        """``PUT /2/webhooks/:id``: the CRC again; the webhook is valid only if it passes
        (raises CrcFailed otherwise, the webhook then invalid: nothing is delivered)."""
        hook = self.webhooks[webhook_id]
        try:
            self.crc(hook.url)
        except CrcFailed:
            hook.valid = False
            raise
        hook.valid = True

    def crc(self, url: str) -> None:
        """X's Challenge-Response Check of ``url``; raises CrcFailed with the reason."""
        token = secrets.token_urlsafe(24)
        try:
            answer = requests.get(url, params={"crc_token": token}, timeout=CALLBACK_TIMEOUT)
            given = answer.json().get("response_token") if answer.status_code == 200 else None
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise CrcFailed(f"The CRC request to {url} failed: {type(exc).__name__}") from None
        if not isinstance(given, str) or not hmac.compare_digest(given, sign(self._secret(), token.encode())):
            raise CrcFailed(f"{url} did not answer the CRC with the expected response_token "
                            f"(HTTP {answer.status_code})")

    def subscribe(self, webhook_id: str, event_type: str, user_id: str | None, tag: str | None) -> Subscription:
        """A subscription (call under the lock)."""
        sub = Subscription(str(self.state.ids.next()), webhook_id, event_type, user_id, tag, self.state.clock.now())
        self.subscriptions[sub.id] = sub
        return sub

    def status(self) -> dict:
        """What the control API shows."""
        with self.state.lock:
            return {"webhooks": [w.json() for w in self.webhooks.values()],
                    "subscriptions": [s.json() for s in self.subscriptions.values()],
                    **self.outbox.counts()}

    def remove_webhook(self, webhook_id: str) -> bool:
        """Delete a webhook with its subscriptions and pending deliveries (under the lock)."""
        hook = self.webhooks.pop(webhook_id, None)
        if hook is None:
            return False
        self.subscriptions = {k: s for k, s in self.subscriptions.items() if s.webhook_id != webhook_id}
        self.outbox.pending = [d for d in self.outbox.pending if d.url != hook.url or
                               any(w.url == hook.url for w in self.webhooks.values())]
        return True

    def stop(self) -> None:
        """The world was replaced (control reset): deliver nothing more."""
        self.outbox.stop()

    # -- events (called by State under its lock) ----------------------------------------
    def tweet_created(self, tweet) -> None:
        """A new post: a reply to, mention of or quote of a subscribed account."""
        st = self.state
        told: set[str] = set()
        parent = st.tweets.get(tweet.ref("replied_to") or "")
        quoted = st.tweets.get(tweet.ref("quoted") or "")
        for kind, user_ids in (("post.reply.create", [parent.author_id] if parent else []),
                               ("post.quote.create", [quoted.author_id] if quoted else []),
                               ("post.mention.create", st.mention_ids(tweet))):
            for user_id in user_ids:
                if user_id != tweet.author_id and user_id not in told and self._queue(kind, user_id, *self._post(tweet)):
                    told.add(user_id)  # one event per account and post: the most specific

    def dm_created(self, event) -> None:
        """A new direct message: ``dm.received`` for its recipient."""
        sender = self.state.users.get(event.sender_id)
        for user_id in event.participant_ids:
            if user_id != event.sender_id:
                self._queue("dm.received", user_id, dm_json(event, DM_FIELDS),
                            {"users": [user_json(self.state, sender, set())]} if sender else {})

    def grant_revoked(self, grant) -> None:
        """The account took back the app's access: ``oauth.revoke``."""
        self._queue("oauth.revoke", grant.user_id, {"user_id": grant.user_id, "client_id": grant.client_id,
                                                    "revoked_at": x_time(self.state.clock.now())}, {})

    def _post(self, tweet) -> tuple[dict, dict]:
        st = self.state
        users = {tweet.author_id}
        tweets = []
        for _kind, ref in tweet.referenced:
            other = st.tweets.get(ref)
            if other is not None:
                tweets.append(tweet_json(st, other, TWEET_FIELDS))
                users.add(other.author_id)
        root = st.tweets.get(tweet.conversation_id)
        if root is not None and root.id != tweet.id and all(t["id"] != root.id for t in tweets):
            tweets.append(tweet_json(st, root, TWEET_FIELDS))
            users.add(root.author_id)
        includes = {"users": [user_json(st, st.users[u], set()) for u in sorted(users) if u in st.users]}
        if tweets:
            includes["tweets"] = tweets
        return tweet_json(st, tweet, TWEET_FIELDS), includes

    def _queue(self, kind: str, user_id: str, payload: dict, includes: dict) -> bool:
        matched = False
        sent_to: set[str] = set()
        for sub in self.subscriptions.values():
            hook = self.webhooks.get(sub.webhook_id)
            if sub.event_type != kind or sub.user_id not in (None, user_id) or hook is None or not hook.valid:
                continue
            if hook.id in sent_to:  # an account's own subscription beside a catch-all one: one delivery
                continue
            sent_to.add(hook.id)
            body = json.dumps({"data": {"event_uuid": str(self.state.ids.next()), "filter": {"user_id": user_id},
                                        "event_type": kind, "tag": sub.tag, "payload": payload,
                                        "includes": includes}}, separators=(",", ":")).encode()
            self.outbox.add(hook.url, body, {"x-twitter-webhooks-signature": sign(self._secret(), body)})
            matched = True
        return matched

    # -- delivery -------------------------------------------------------------------
    def _secret(self) -> str:
        return next(iter(self.state.consumer_keys.values()))
