"""X Activity API events → :class:`~streamdesk_contract.values.WebhookUpdate`.

Every event comes alone in X's envelope ``{"data": {"event_uuid", "filter": {"user_id"},
"event_type", "tag", "payload", "includes"}}``; ``filter.user_id`` is the subscribed
account (the stream's page id). The payloads read:

* ``post.mention.create``, ``post.reply.create``, ``post.quote.create`` — the post, as
  the v2 post object (``id``, ``text``, ``author_id``, ``conversation_id``,
  ``created_at``, ``referenced_tweets``), with ``includes.users``/``includes.tweets``.
  It goes through the crawl's own :func:`~.convert.tweets_to_rows`: a reply is a comment
  of its conversation's first post, the rest are stories, with the crawl's ids, so the
  core's upsert merges a webhook and a crawl of the same post into one row;
* ``dm.received`` — the DM event (``id``, ``text``, ``sender_id``,
  ``dm_conversation_id``, ``created_at``), read by :func:`~.convert.dm_to_message`;
* ``oauth.revoke`` — the account took back the app's access: the update says so
  (``revoked``) and the core expires its streams at once.

Any other event type carries nothing Streamdesk stores.
"""
from __future__ import annotations

from streamdesk_contract.pluginkit import Malformed
from streamdesk_contract.values import CrawlPage, ServiceConfig, WebhookUpdate

from .convert import dm_to_message, tweets_to_rows, users_by_id
from .weblinks import LINKS

POST_EVENTS = frozenset({"post.mention.create", "post.reply.create", "post.quote.create"})
DM_EVENTS = frozenset({"dm.received"})
REVOKE_EVENTS = frozenset({"oauth.revoke"})
#: What the app subscribes to (the emulator offers these).
EVENT_TYPES = POST_EVENTS | DM_EVENTS | REVOKE_EVENTS


def updates(config: ServiceConfig, payload) -> list[WebhookUpdate]:
    """The one account's update in an X Activity API event ([] for events not stored)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise Malformed("an X webhook event without its data object")
    owner = (data.get("filter") or {}).get("user_id") if isinstance(data.get("filter"), dict) else None
    if not _is_id(owner):
        raise Malformed("an X webhook event without filter.user_id")
    owner = str(owner)
    kind, body = data.get("event_type"), data.get("payload")
    if kind in REVOKE_EVENTS:
        return [WebhookUpdate(page_id=owner, revoked=True)]
    if kind not in POST_EVENTS | DM_EVENTS:
        return []
    if not isinstance(body, dict) or not _is_id(body.get("id")):
        raise Malformed(f"an X {kind} event without its {'post' if kind in POST_EVENTS else 'DM event'} id")
    includes = data.get("includes") if isinstance(data.get("includes"), dict) else {}
    if kind in DM_EVENTS:
        if not _is_id(body.get("sender_id")) or str(body.get("sender_id")) == owner:
            return []  # the account's own message (an echo): the crawl stores sent ones
        return [WebhookUpdate(page_id=owner, messages=(dm_to_message(body, users_by_id({"includes": includes})),))]
    page = {"data": [body], "includes": includes}
    username = next((u.get("username") for u in users_by_id(page).values() if u.get("id") == owner), None)
    stories, comments = tweets_to_rows(page, owner, username)
    # In sandbox mode stories link to the emulator's pages, as the crawl's do.
    relinked = next(iter(LINKS.crawl_pages(config, [CrawlPage(cursor=None, stories=tuple(stories))])))
    return [WebhookUpdate(page_id=owner, stories=relinked.stories, comments=tuple(comments))]


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) <= 19
