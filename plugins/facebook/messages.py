"""Reading an authorized page's private messages (Messenger conversations) since the
messages watermark of the crawl cursor.

Conversations come sorted by last activity, each with its newest messages nested, so
an idle inbox costs nothing beyond the one call that brings the conversations (which
the crawl folds into its first call); only a conversation with more new messages than
fit in the nested page costs more calls.
"""
from __future__ import annotations

from collections.abc import Generator

from streamdesk_contract.values import CrawlPage

from . import convert
from .client import GraphClient
from .convert import items, next_link, node_id, unix
from .cursor import CrawlCursor, advance, is_new

CONVERSATIONS_LIMIT = 25
NESTED_MESSAGES = 50
MORE_LIMIT = 100
CONVERSATION_FIELDS = f"id,updated_time,messages.limit({NESTED_MESSAGES}){{id,created_time,from,message}}"
#: The conversations as a field of the page node, to ride along with another call.
CONVERSATIONS_FIELD = f"conversations.limit({CONVERSATIONS_LIMIT}){{{CONVERSATION_FIELDS}}}"
NEEDS_MESSAGES = ("pages_messaging", "pages_manage_metadata", "pages_read_engagement")


def read(client: GraphClient, page_id: str, before: CrawlCursor,
         first: dict | None = None) -> Generator[CrawlPage, None, CrawlCursor]:
    """Yield the new messages page by page; return the cursor that covers them.

    ``first`` is the conversations edge when an earlier call already brought it.
    """
    mark_at, mark_ids = before.messages_at, before.messages_ids
    seen: list[tuple[int, str]] = []
    body = first if first is not None else client.get(
        f"/{page_id}/conversations",
        {"platform": "messenger", "fields": CONVERSATION_FIELDS, "limit": CONVERSATIONS_LIMIT},
        needs=NEEDS_MESSAGES)
    while True:
        stop = False
        for convo in items(body):
            if mark_at is not None and unix(convo.get("updated_time")) < mark_at:
                stop = True  # sorted by last activity: the rest is known
                break
            convo_id = node_id(convo)
            for batch in _conversation(client, convo, mark_at, mark_ids):
                seen.extend((unix(m.get("created_time")), node_id(m)) for m in batch)
                # Intermediate pages keep the old watermark: a killed crawl rereads them.
                yield CrawlPage(cursor=before.dump(), messages=tuple(convert.message(m, convo_id) for m in batch))
        link = next_link(body)
        if stop or not link:
            break
        body = client.follow(link, needs=NEEDS_MESSAGES)
    at, ids = advance(mark_at, mark_ids, seen)
    after = before.with_(messages_at=at, messages_ids=ids)
    if after != before:
        yield CrawlPage(cursor=after.dump())
    return after


def _conversation(client: GraphClient, convo: dict, mark_at: int | None, mark_ids: tuple[str, ...]):
    """The conversation's new messages, newest first, one Graph page at a time."""
    block = convo.get("messages") or {}
    while True:
        data = items(block)
        fresh = []
        for message in data:
            if not is_new(unix(message.get("created_time")), node_id(message), mark_at, mark_ids):
                break
            fresh.append(message)
        if fresh:
            yield fresh
        link = next_link(block)
        if not link or len(fresh) < len(data) or not data:
            return
        block = client.follow(link, {"limit": MORE_LIMIT}, needs=NEEDS_MESSAGES)
