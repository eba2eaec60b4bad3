"""Queries that every request runs, with their SQL built once per process.

peewee builds a query's SQL from its expression tree each time it runs it: for the
login lookup and the navigation's expired streams (joins, some sixty columns) that
took longer than running them (1–4 ms a request, profiled with bench/pages.py). A
:class:`Prepared` query is built once with :class:`Slot` placeholders where the values
go; its SQL and parameters are kept per database, and each call puts the values in
and reads the rows through the query's own row wrapper (model instances, joined models).
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


class Prepared:
    """A query built once by ``build()`` (which places :func:`slot` values), run with
    the values of its slots by keyword."""

    def __init__(self, build: Callable[[], object]):
        self._build = build
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
