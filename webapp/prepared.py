"""Queries that every request or job runs, with their SQL built once per process.

peewee builds a query's SQL from its expression tree each time it runs it: for the
login lookup and the navigation's expired streams (joins, some sixty columns) that
took longer than running them (1–4 ms a request, profiled with bench/pages.py). A
:class:`Prepared` query is built once with :class:`Slot` placeholders where the values
go; its SQL and parameters are kept per database, and each call puts the values in
and reads the rows through the query's own row wrapper (model instances, joined models).

A worker builds every prepared query before it forks (:func:`build_all`, called by
``runtime.prepare_worker``): SQL built inside a work-horse dies with it, and building
the job's stream SELECT and crawl-interval query cost some 3.6 ms a job.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from peewee import Value

from .db import database


class Slot:
    """Where a value of a prepared query goes (see :func:`slot`)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


def slot(name: str) -> Value:
    """A placeholder for the value ``name`` in a prepared query's expression. The value
    is passed as the database driver takes it (no field conversion: an int, a str, a
    naive datetime)."""
    return Value(Slot(name), converter=False)


#: Every prepared query of the process, for :func:`build_all`.
_ALL: list[Prepared] = []


class Prepared:
    """A query built once by ``build()`` (which places :func:`slot` values), run with
    the values of its slots by keyword."""

    def __init__(self, build: Callable[[], object]):
        self._build = build
        _ALL.append(self)
        # By database class: the SQL differs by dialect (quoting, parameter marks) only.
        self._compiled: dict[type, tuple[object, str, list]] = {}
        self._lock = threading.Lock()

    def _for(self, db) -> tuple[object, str, list]:
        key = type(db)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                query = self._build()
                sql, params = query.sql()
                compiled = self._compiled.setdefault(key, (query, sql, list(params)))
        return compiled

    def rows(self, **values) -> Iterator:
        """Run the query with ``values`` for its slots; its rows as the query would give them."""
        db = database.obj
        query, sql, params = self._for(db)
        bound = [values[p.name] if isinstance(p, Slot) else p for p in params]
        return iter(query._get_cursor_wrapper(db.execute_sql(sql, bound)))

    def first(self, **values):
        """The first row, or None."""
        return next(self.rows(**values), None)

    def scalar(self, **values):
        """The first column of the first row (an aggregate's value), or None."""
        db = database.obj
        _, sql, params = self._for(db)
        row = db.execute_sql(sql, [values[p.name] if isinstance(p, Slot) else p for p in params]).fetchone()
        return row[0] if row else None


def build_all() -> None:
    """Build the SQL of every prepared query for the bound database now."""
    for prepared in _ALL:
        prepared._for(database.obj)
