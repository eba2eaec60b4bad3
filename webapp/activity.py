"""The audit log: every action of the account (who, which stream, what, when, result,
provider id), for admins under Account settings → Activity and as CSV."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from peewee import JOIN

from . import csvexport
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


#: Actions read per query of the CSV download (and rows per chunk sent).
CSV_BATCH = 500


def all_actions(account_id: int, filters: Filters, batch: int | None = None) -> Iterator[list[Action]]:
    """Every action the filters select, newest first, in batches of ``batch`` read by
    keyset (``id <`` the last one read; see :func:`csvexport.keyset_batches`)."""
    return csvexport.keyset_batches(lambda before, size: list(actions_of(account_id, filters, before, size)),
                                    lambda action: action.id, batch or CSV_BATCH)


def csv_row(a: Action) -> tuple:
    """One action as the CSV's values, in :data:`COLUMNS` order."""
    return (a.created_at, a.sent_at, a.user.email if a.user_id else "(removed user)", a.stream_name, a.service,
            what(a), a.target_id, a.text, a.status, a.error, a.external_id, a.attempts)


def csv_chunks(batches: Iterable[list[Action]]) -> Iterator[str]:
    """The actions as CSV text (:func:`csvexport.csv_chunks`): a chunk per batch."""
    return csvexport.csv_chunks(COLUMNS, ([csv_row(a) for a in batch] for batch in batches))
