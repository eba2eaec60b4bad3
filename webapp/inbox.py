"""The Inbox's reading of crawled comments and messages: who wrote to whom.

Plugins return a message's sender only (``Message.sender_id``/``sender_name``); whether
it was sent or received follows from the stream: a message whose sender is the stream's
own page was sent by the page. The person on the other side of a sent message is the
other participant of its conversation, known from the messages they wrote in it, so no
provider call (and no extra column) is needed to name them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .db import database, on_postgres
from .models import Comment, Message, Stream
from .prepared import raw_rows

#: Named when a conversation holds only the page's messages so far.
UNKNOWN_PARTICIPANT = "someone not yet known"


@dataclass(frozen=True)
class MessageLine:
    """A message as the Inbox shows it: ``sender → recipient``."""

    message: Message
    sender: str
    recipient: str
    outgoing: bool


#: Streams per IN list on SQLite.
STREAMS_PER_QUERY = 200


#: A comment's place in a story view, read with it: its story's row id and the first
#: topic (by id) holding its stream. None: its story was not crawled.
_PLACE = ('(SELECT st."id" FROM "story" AS st WHERE st."stream_id" = {row}."stream_id" '
          'AND st."external_id" = {row}."story_external_id") AS "story_row", '
          '(SELECT MIN(ts."topic_id") FROM "topic_stream" AS ts WHERE ts."stream_id" = {row}."stream_id") AS "topic_row"')
#: For a message the page sent, whoever else wrote in its conversation (over the whole
#: conversation, by the (stream_id, conversation_id) index, not only the messages shown).
_OTHER = ('CASE WHEN {row}."sender_id" = {stream}."page_id" THEN (SELECT o."sender_name" FROM "message" AS o '
          'WHERE o."stream_id" = {row}."stream_id" AND o."conversation_id" = {row}."conversation_id" '
          'AND o."sender_name" IS NOT NULL AND (o."sender_id" IS NULL OR o."sender_id" != {stream}."page_id") '
          'LIMIT 1) END AS "other_name"')


def newest(model, streams: dict[int, Stream], limit: int, not_by_page: str | None = None, extra: str = "") -> list:
    """The newest ``limit`` rows of ``model`` (comments, messages) of ``streams``; with
    ``not_by_page``, only rows whose ``not_by_page`` column is not the stream's own page;
    ``extra``: more result columns (SQL with ``{row}`` and ``{stream}`` for the row's and
    its stream's aliases), computed for the rows returned only, set on each row.

    Never a sort of every row of the streams (a plain ORDER BY over an IN list reads
    and sorts them all: 250–400 ms at 1,000,000 stories). SQLite walks the time index
    backwards (``INDEXED BY``: its planner prefers the stream index) and stops at
    ``limit`` rows of these streams — as fast as it gets on one team's install, and
    longer only in proportion to other accounts' newer rows. PostgreSQL's planner does
    not take hints: a LATERAL join reads one ``(stream_id, created_at)`` index range per
    stream, in one plan: with the stream fixed by the join, ordering by time walks that
    index backwards (PostgreSQL has no time-only index to prefer: migration 0010 drops
    it there). Each range is cut at a few rows first (twice the stream's fair share of
    the page); only the streams whose few all made the page can hold more of it, and
    only their ranges are read again, to ``limit`` rows — in the same statement. (Every
    range read to ``limit`` took 6.4 ms for 200 streams at 3,000,000 comments; this,
    2.5 ms.) The ranges yield ids and times only, and the ``limit`` rows kept are read
    whole afterwards: with comments' covering index (migration 0013) the ranges are
    index-only scans, so a page that wrote most of its own comments (``not_by_page``
    skips them) costs index entries, not a heap row per skipped comment.
    """
    if not streams:
        return []
    table, p = model._meta.table_name, database.param
    mine = f' AND (r."{not_by_page}" IS NULL OR r."{not_by_page}" != s."page_id")' if not_by_page else ""
    ids = list(streams)
    if not on_postgres():
        rows = []
        for start in range(0, len(ids), STREAMS_PER_QUERY):
            chunk = ids[start:start + STREAMS_PER_QUERY]
            more = ", " + extra.format(row="r", stream="s") if extra else ""
            sql = (f'SELECT r.*{more} FROM "{table}" AS r INDEXED BY "{table}_created_at" '
                   f'JOIN "stream" AS s ON s."id" = r."stream_id" '
                   f'WHERE r."stream_id" IN ({", ".join([p] * len(chunk))}){mine} '
                   f'ORDER BY r."created_at" DESC LIMIT {p}')
            rows += raw_rows(model, database.execute_sql(sql, [*chunk, limit]))
        return sorted(rows, key=lambda row: row.created_at, reverse=True)[:limit]
    mine = mine.replace('r."', 'x."')
    few = max(2, -(-2 * limit // len(ids)))  # twice a stream's fair share of the page, rounded up

    def newest_of(streams: str, per_stream: str) -> str:
        return (f'SELECT s."id" AS sid, r."id", r."created_at" FROM {streams} CROSS JOIN LATERAL '
                f'(SELECT x."id", x."created_at" FROM "{table}" AS x WHERE x."stream_id" = s."id"{mine} '
                f'ORDER BY x."created_at" DESC LIMIT {per_stream}) AS r')

    # The stream's row only where the extra columns read it (each join costs planning).
    join_stream = 'JOIN s ON s."id" = w."stream_id" ' if "{stream}" in extra else ""
    sql = (f'WITH s AS MATERIALIZED (SELECT "id", "page_id" FROM "stream" WHERE "id" = ANY({p})), '
           f'few AS ({newest_of("s", p)}), '
           f'top AS (SELECT * FROM few ORDER BY "created_at" DESC LIMIT {p}), '
           f'filled AS (SELECT sid FROM top GROUP BY sid HAVING COUNT(*) >= {p}), '
           f'more AS ({newest_of("filled JOIN s ON s.id = filled.sid", p)}) '
           f'SELECT w.*{", " + extra.format(row="w", stream="s") if extra else ""} '
           f'FROM (SELECT "id", "created_at" FROM top UNION SELECT "id", "created_at" FROM more '
           f'ORDER BY "created_at" DESC LIMIT {p}) AS t JOIN "{table}" AS w ON w."id" = t."id" '
           f'{join_stream}ORDER BY t."created_at" DESC')
    return raw_rows(model, database.execute_sql(sql, (ids, few, limit, few, limit, limit)))


def outsiders_comments(streams: dict[int, Stream], limit: int) -> list[Comment]:
    """The newest comments of ``streams`` written by others: a page's own comments and
    replies are answers already given, not comments needing attention. Each comes with
    its place in a story view (:func:`places`), read in the same statement."""
    return newest(Comment, streams, limit, not_by_page="author_id", extra=_PLACE)


def places(comments: list[Comment]) -> dict[int, tuple[int, int]]:
    """For each comment read by :func:`outsiders_comments`, ``(topic id, story id)`` of
    its place in a story view; a comment whose story was not crawled has none."""
    return {c.id: (c.topic_row, c.story_row) for c in comments
            if c.story_row is not None and c.topic_row is not None}


def message_lines(streams: dict[int, Stream], limit: int) -> list[MessageLine]:
    """The newest messages of ``streams``, each with its sender and recipient (one
    statement: the other participant of a sent message is read with it)."""
    if not streams:
        return []
    lines = []
    for message in newest(Message, streams, limit, extra=_OTHER):
        stream = streams[message.stream_id]
        outgoing = bool(message.sender_id) and message.sender_id == stream.page_id
        if outgoing:
            lines.append(MessageLine(message, stream.name, message.other_name or UNKNOWN_PARTICIPANT, True))
        else:
            lines.append(MessageLine(message, message.sender_name or "Someone", stream.name, False))
    return lines
