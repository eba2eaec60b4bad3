"""The audit log: every action of the account (who, which stream, what, when, result,
provider id), for admins under Account settings → Activity and as CSV."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from peewee import JOIN

from .models import Action, Stream, User

#: Rows per page of the Activity list.
PAGE_SIZE = 100
#: CSV columns, in order.
COLUMNS = ("created_at", "sent_at", "person", "stream", "service", "action", "target_id", "text", "status",
           "error", "provider_id", "attempts")


@dataclass(frozen=True)
class Filters:
    """Who and which stream to show (None: everyone, every stream)."""

    user_id: int | None = None
    stream_id: int | None = None


def what(action: Action) -> str:
    """The action in words: unlike and unhide are the undone like and hide."""
    if action.undo:
        return {"like": "unlike", "hide": "unhide"}.get(action.kind, action.kind)
    return action.kind


def actions_of(account_id: int, filters: Filters, before: int | None = None, limit: int | None = PAGE_SIZE):
    """The account's actions, newest first, with their person and stream."""
    query = (Action.select(Action, User, Stream)
             .join(User, JOIN.LEFT_OUTER, on=(Action.user == User.id))
             .switch(Action).join(Stream, JOIN.LEFT_OUTER, on=(Action.stream == Stream.id))
             .where(Action.account == account_id))
    if filters.user_id is not None:
        query = query.where(Action.user == filters.user_id)
    if filters.stream_id is not None:
        query = query.where(Action.stream == filters.stream_id)
    if before is not None:
        query = query.where(Action.id < before)
    query = query.order_by(Action.id.desc())
    return query.limit(limit) if limit else query


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (or a tab or
    return) would be run as a formula, and the text of a post is anybody's."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: Actions read per query of the CSV download (and rows per chunk sent).
CSV_BATCH = 500


def all_actions(account_id: int, filters: Filters, batch: int | None = None) -> Iterator[Action]:
    """Every action the filters select, newest first, read ``batch`` at a time by keyset
    (``id <`` the last one read): memory stays one batch whatever the log's size, and no
    query skips rows with an OFFSET."""
    batch = batch or CSV_BATCH
    before = None
    while True:
        rows = list(actions_of(account_id, filters, before, batch))
        yield from rows
        if len(rows) < batch:
            return
        before = rows[-1].id


def _row(a: Action) -> list[str]:
    return [_cell(v) for v in (
        a.created_at.isoformat(sep=" ", timespec="seconds"),
        a.sent_at.isoformat(sep=" ", timespec="seconds") if a.sent_at else "",
        a.user.email if a.user_id else "(removed user)", a.stream_name, a.service, what(a),
        a.target_id, a.text, a.status, a.error, a.external_id, a.attempts)]


def csv_chunks(actions: Iterable[Action], rows_per_chunk: int | None = None) -> Iterator[str]:
    """The actions as CSV text, a header row then one row per action, in chunks of
    ``rows_per_chunk`` rows: what a streamed download sends as it reads."""
    rows_per_chunk = rows_per_chunk or CSV_BATCH
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    pending = 0
    for action in actions:
        writer.writerow(_row(action))
        pending += 1
        if pending >= rows_per_chunk:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue()

