"""The Inbox's reading of crawled comments and messages: who wrote to whom.

Plugins return a message's sender only (``Message.sender_id``/``sender_name``); whether
it was sent or received follows from the stream: a message whose sender is the stream's
own page was sent by the page. The person on the other side of a sent message is the
other participant of its conversation, known from the messages they wrote in it, so no
provider call (and no extra column) is needed to name them.
"""
from __future__ import annotations

from dataclasses import dataclass

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


def outsiders_comments(streams: dict[int, Stream], limit: int) -> list[Comment]:
    """The newest comments of ``streams`` written by others: a page's own comments and
    replies are answers already given, not comments needing attention."""
    if not streams:
        return []
    own = Comment.author_id.is_null() | (Comment.author_id != Stream.page_id)
    return list(Comment.select(Comment).join(Stream, on=(Comment.stream == Stream.id))
                .where(Comment.stream.in_(list(streams)), own)
                .order_by(Comment.created_at.desc()).limit(limit))


def message_lines(streams: dict[int, Stream], limit: int) -> list[MessageLine]:
    """The newest messages of ``streams``, each with its sender and recipient."""
    if not streams:
        return []
    messages = list(Message.select().where(Message.stream.in_(list(streams)))
                    .order_by(Message.created_at.desc()).limit(limit))
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
