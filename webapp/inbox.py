"""The Inbox's reading of crawled comments and messages: who wrote to whom.

Plugins return a message's sender only (``Message.sender_id``/``sender_name``); whether
it was sent or received follows from the stream: a message whose sender is the stream's
own page was sent by the page. The person on the other side of a sent message is the
other participant of its conversation, known from the messages they wrote in it, so no
provider call (and no extra column) is needed to name them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .db import database
from .models import Comment, Message, Stream

#: Named when a conversation holds only the page's messages so far.
UNKNOWN_PARTICIPANT = "someone not yet known"


@dataclass(frozen=True)
class MessageLine:
    """A message as the Inbox shows it: ``sender → recipient``."""

    message: Message
    sender: str
    recipient: str
    outgoing: bool


#: Streams per compound query (SQLite allows 500 terms in one UNION ALL).
STREAMS_PER_QUERY = 200


def newest(model, streams: dict[int, Stream], limit: int, not_by_page: str | None = None) -> list:
    """The newest ``limit`` rows of ``model`` (comments, messages) of ``streams``; with
    ``not_by_page``, only rows whose ``not_by_page`` column is not the stream's own page.

    One ``(stream_id, created_at)`` index range per stream, newest first and cut at
    ``limit``, merged: reads at most ``limit`` rows a stream, however many the account
    has. (A single ORDER BY over all the streams reads and sorts every row of them.)
    """
    table, p = model._meta.table_name, database.param
    rows = []
    ids = list(streams)
    for start in range(0, len(ids), STREAMS_PER_QUERY):
        parts, params = [], []
        for n, stream_id in enumerate(ids[start:start + STREAMS_PER_QUERY]):
            mine = f'("{not_by_page}" IS NULL OR "{not_by_page}" != {p})' if not_by_page else "1 = 1"
            parts.append(f'SELECT * FROM (SELECT * FROM "{table}" WHERE "stream_id" = {p} AND {mine} '
                         f'ORDER BY "created_at" DESC LIMIT {p}) AS s{n}')
            params += [stream_id, *([streams[stream_id].page_id] if not_by_page else []), limit]
        sql = " UNION ALL ".join(parts) + f' ORDER BY "created_at" DESC LIMIT {p}'
        rows += list(model.raw(sql, *params, limit))
    return sorted(rows, key=lambda row: row.created_at, reverse=True)[:limit]


def outsiders_comments(streams: dict[int, Stream], limit: int) -> list[Comment]:
    """The newest comments of ``streams`` written by others: a page's own comments and
    replies are answers already given, not comments needing attention."""
    return newest(Comment, streams, limit, not_by_page="author_id")


def message_lines(streams: dict[int, Stream], limit: int) -> list[MessageLine]:
    """The newest messages of ``streams``, each with its sender and recipient."""
    if not streams:
        return []
    messages = newest(Message, streams, limit)
    others = _other_participants(streams, messages)
    lines = []
    for message in messages:
        stream = streams[message.stream_id]
        outgoing = bool(message.sender_id) and message.sender_id == stream.page_id
        if outgoing:
            recipient = others.get((message.stream_id, message.conversation_id), UNKNOWN_PARTICIPANT)
            lines.append(MessageLine(message, stream.name, recipient, True))
        else:
            lines.append(MessageLine(message, message.sender_name or "Someone", stream.name, False))
    return lines


def _other_participants(streams: dict[int, Stream], messages: list[Message]) -> dict[tuple[int, str], str]:
    """Per (stream, conversation) of ``messages``, the name of whoever wrote in it besides
    the page — looked up over the whole conversation, not only the messages shown."""
    conversations = {m.conversation_id for m in messages if m.sender_id == streams[m.stream_id].page_id}
    if not conversations:
        return {}
    names: dict[tuple[int, str], str] = {}
    rows = (Message.select(Message.stream, Message.conversation_id, Message.sender_id, Message.sender_name)
            .where(Message.stream.in_(list(streams)), Message.conversation_id.in_(list(conversations)),
                   Message.sender_name.is_null(False))
            .distinct())  # one row per participant, not per message of a long thread
    for row in rows:
        key = (row.stream_id, row.conversation_id)
        if row.sender_id != streams[row.stream_id].page_id and key not in names:
            names[key] = row.sender_name
    return names
