"""Graph "Webhooks for Pages", delivered as Facebook delivers them.

An app subscribes a callback URL (here through the control API): Graph first checks it
with ``GET <url>?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`` and subscribes
only when the answer echoes the challenge. Then every change to a page's feed and every
Messenger message is POSTed as ``{"object": "page", "entry": [{"id", "time",
"changes": [{"field": "feed", "value": {…}}]}]}`` (or ``"messaging": [{…}]``), signed
``X-Hub-Signature-256: sha256=HMAC_SHA256(app secret, raw body)``. A delivery that does
not get a 200 is retried at once, then less and less often, for 36 hours of the
emulator's clock (so moving the clock forward through the control API speeds it up).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests

from emulators.outbox import Delivery, Outbox
from .seed import APP_SECRET

log = logging.getLogger(__name__)

#: Seconds after each failed attempt before the next (emulated clock): at once, then
#: with decreasing frequency; the last delay repeats until GIVE_UP_AFTER.
RETRY_DELAYS = (0, 5, 30, 120, 600, 1800, 3600)
GIVE_UP_AFTER = timedelta(hours=36)
#: Seconds Graph waits for a callback's answer.
CALLBACK_TIMEOUT = 20
#: Fields an app can subscribe pages to that the emulator delivers.
FIELDS = frozenset({"feed", "messages"})


class VerificationFailed(Exception):
    """The callback URL did not echo the challenge (Graph's error 2201)."""


@dataclass
class Subscription:
    """The app's page subscription: where, with which verify token, for which fields."""

    callback_url: str
    verify_token: str
    fields: frozenset[str]
    pages: frozenset[str] | None  # None: every page (a control-API convenience)
    verified_at: datetime


def _retry(delivery: Delivery, now: float) -> float | None:
    """Graph's policy: at once, then less and less often, until GIVE_UP_AFTER."""
    if now - delivery.first_at >= GIVE_UP_AFTER.total_seconds():
        return None
    return RETRY_DELAYS[min(delivery.attempts - 1, len(RETRY_DELAYS) - 1)]


@dataclass
class Deliverer:
    """The webhook side of one emulator: its subscription and the deliveries due
    (sent by an :class:`~emulators.outbox.Outbox`, outside the emulator's lock)."""

    state: object
    subscription: Subscription | None = None
    #: ``POST /{page-id}/subscribed_apps``: the fields each page subscribed the app to.
    page_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    outbox: Outbox = field(init=False)

    def __post_init__(self):
        self.outbox = Outbox(self.state.lock, lambda: self.state.now().timestamp(), _retry,
                             lambda status: status == 200, "emulator-facebook-webhooks", CALLBACK_TIMEOUT)

    def clear(self) -> None:
        """Back to the seed: no subscription, nothing pending, zero counters."""
        with self.state.lock:
            self.subscription, self.page_fields = None, {}
            self.outbox.clear()

    def subscribe(self, callback_url: str, verify_token: str, fields=FIELDS, pages=None) -> Subscription:
        """Verify ``callback_url`` (the challenge must come back) and subscribe it.
        Raises VerificationFailed with Graph's wording."""
        challenge = str(secrets.randbelow(10**10))
        try:
            answer = requests.get(callback_url, params={"hub.mode": "subscribe", "hub.challenge": challenge,
                                                        "hub.verify_token": verify_token}, timeout=CALLBACK_TIMEOUT)
        except requests.RequestException as exc:
            raise VerificationFailed(f"(#2200) Callback verification failed: could not reach {callback_url}: "
                                     f"{type(exc).__name__}") from None
        if answer.status_code != 200 or answer.text != challenge:
            raise VerificationFailed(f"(#2201) response does not match challenge, expected value=\"{challenge}\", "
                                     f"received=\"{answer.text[:40]}\" (HTTP {answer.status_code})")
        with self.state.lock:
            self.subscription = Subscription(callback_url, verify_token, frozenset(fields),
                                             frozenset(pages) if pages is not None else None, self.state.now())
            return self.subscription

    def feed_change(self, page_id: str, value: dict) -> None:
        """A change to ``page_id``'s feed (call under the emulator's lock)."""
        self._queue(page_id, "feed", {"changes": [{"field": "feed", "value": value}]})

    def message(self, page_id: str, event: dict) -> None:
        """A Messenger event of ``page_id`` (call under the emulator's lock)."""
        self._queue(page_id, "messages", {"messaging": [event]})

    def status(self) -> dict:
        """What the control API shows."""
        with self.state.lock:
            sub = self.subscription
            return {"subscription": None if sub is None else {
                        "callback_url": sub.callback_url, "fields": sorted(sub.fields),
                        "pages": sorted(sub.pages) if sub.pages is not None else "all",
                        "verified_at": int(sub.verified_at.timestamp())},
                    "subscribed_pages": {page: sorted(f) for page, f in sorted(self.page_fields.items())},
                    **self.outbox.counts()}

    def _queue(self, page_id: str, field_name: str, update: dict) -> None:
        sub = self.subscription
        if sub is None or field_name not in sub.fields:
            return
        # Graph delivers a page's changes only once the page subscribed the app (its
        # subscribed_apps edge); the control API's page list stands in for that too.
        if sub.pages is not None and page_id not in sub.pages and field_name not in self.page_fields.get(page_id, ()):
            return
        body = json.dumps({"object": "page", "entry": [{"id": page_id, "time": int(self.state.now().timestamp()),
                                                        **update}]}, separators=(",", ":")).encode()
        signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.outbox.add(sub.callback_url, body, {"X-Hub-Signature-256": f"sha256={signature}",
                                                 "User-Agent": "facebookexternalua"})


def comment_value(world, comment, verb: str = "add") -> dict:
    """The ``value`` of a feed change about ``comment``."""
    author = world.objects.get(comment.author_id)
    return {"from": {"id": comment.author_id, "name": getattr(author, "name", "")},
            "post_id": comment.post_id, "comment_id": comment.id, "parent_id": comment.parent_id or comment.post_id,
            "created_time": int(comment.created.timestamp()), "item": "comment", "verb": verb,
            **({"message": comment.message} if verb != "remove" else {})}


def post_value(world, post, verb: str = "add") -> dict:
    """The ``value`` of a feed change about a post (``item`` status, as Graph sends for text posts)."""
    author = world.objects.get(post.author_id)
    return {"from": {"id": post.author_id, "name": getattr(author, "name", "")}, "post_id": post.id,
            "created_time": int(post.created.timestamp()), "item": "status", "verb": verb,
            "published": 1, **({"message": post.message} if post.message and verb != "remove" else {})}


def message_event(convo, message) -> dict:
    """A ``messaging`` event for a message a person sent the page."""
    return {"sender": {"id": convo.psid}, "recipient": {"id": convo.page_id},
            "timestamp": int(message.created.timestamp() * 1000),
            "message": {"mid": message.id, "text": message.text}}
