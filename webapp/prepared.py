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

from peewee import ROW, SQL, Alias, Field, ModelSelect, Value

from .db import database, id_list, value_list


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


def ids_slot(name: str) -> SQL:
    """A placeholder for a list of row ids in a prepared query (``column.in_(ids_slot("x"))``):
    each call writes the ids it is given there as integer literals (:func:`webapp.db.id_list`),
    so a topic's hundred streams cost one string join, not a node per id."""
    return SQL(_ids_mark(name))


def _ids_mark(name: str) -> str:
    return f"(/*ids:{name}*/)"


class ValuesSlot(Slot):
    """Where a list of values goes (see :func:`values_slot`)."""

    __slots__ = ()


def values_slot(name: str) -> SQL:
    """A placeholder for a list of values of any type in a prepared query
    (``column.in_(values_slot("x"))``): each call writes a parameter mark per value
    there, and passes the values (:func:`webapp.db.value_list`)."""
    return SQL(_values_mark(name), [ValuesSlot(name)])


def _values_mark(name: str) -> str:
    return f"(/*values:{name}*/)"


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
        self._rows: Callable[[object], Iterator] | None = None

    def _for(self, db) -> tuple[object, str, list]:
        key = type(db)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                query = self._build()
                sql, params = query.sql()
                self._rows = _model_rows(query)
                compiled = self._compiled.setdefault(key, (query, sql, list(params)))
        return compiled

    def _run(self, values: dict):
        """The query and the driver's cursor of its run with ``values``."""
        db = database.obj
        query, sql, params = self._for(db)
        bound = []
        for p in params:
            if type(p) is ValuesSlot:
                listed = value_list(values[p.name])
                sql = sql.replace(_values_mark(p.name), listed.sql)
                bound.extend(listed.params or ())
            else:
                bound.append(values[p.name] if isinstance(p, Slot) else p)
        for name, ids in values.items():
            mark = _ids_mark(name)
            if mark in sql:
                sql = sql.replace(mark, id_list(ids).sql)
        return query, db.execute_sql(sql, bound)

    def rows(self, **values) -> Iterator:
        """Run the query with ``values`` for its slots (a list of ids for an
        :func:`ids_slot`); its rows as the query would give them."""
        query, cursor = self._run(values)
        if self._rows is not None:
            return self._rows(cursor)
        return iter(query._get_cursor_wrapper(cursor))

    def first(self, **values):
        """The first row, or None."""
        return next(self.rows(**values), None)

    def scalar(self, **values):
        """The first column of the first row (an aggregate's value), or None."""
        row = self._run(values)[1].fetchone()
        return row[0] if row else None

    def execute(self, **values) -> int:
        """Run a prepared write (INSERT, UPDATE, DELETE); returns the rows it changed."""
        return self._run(values)[1].rowcount


class PreparedShapes:
    """Prepared queries of one kind whose shape varies (which filters a feed has, say):
    ``build(**shape)`` makes the query of one shape, built the first time that shape is
    asked for (:meth:`of`) and kept, like a :class:`Prepared`, from then on. A shape is
    a few flags, so there are few of them."""

    def __init__(self, build: Callable[..., object]):
        self._build = build
        self._shapes: dict[tuple, Prepared] = {}
        self._lock = threading.Lock()

    def of(self, **shape) -> Prepared:
        """The prepared query of ``shape`` (keyword flags, each hashable)."""
        key = tuple(sorted(shape.items()))
        prepared = self._shapes.get(key)
        if prepared is None:
            with self._lock:
                prepared = self._shapes.get(key)
                if prepared is None:
                    prepared = self._shapes[key] = Prepared(lambda: self._build(**shape))
        return prepared


def _model_rows(query) -> Callable[[object], Iterator] | None:
    """For a query that selects model objects made of its own model's columns (it may
    join other tables to filter, and add another table's column under an alias, which
    lands on the object as an attribute, as ``.objects()`` puts it), a faster way to make
    its rows: each instance's field values are set in one dict, where peewee sets them
    one attribute at a time through their descriptors (half the time of a feed page's
    100 streams). Others (joined models, tuples, expressions) return None: peewee makes
    their rows."""
    if not isinstance(query, ModelSelect):
        return None
    model = query.model
    if query._row_type is not None and not (query._row_type == ROW.CONSTRUCTOR and query._constructor is model):
        return None
    fields, extras = [], []
    for node in query._returning:
        if isinstance(node, Field) and node.model is model:
            fields.append((node.name, node.python_value))
        elif isinstance(node, Alias) and isinstance(node.node, Field):
            extras.append((len(fields) + len(extras), node._alias, node.node.python_value))
        else:
            return None
    if extras and [i for i, _, _ in extras] != list(range(len(fields), len(fields) + len(extras))):
        return None  # the aliased columns come last
    new = model.__new__

    def rows(cursor) -> Iterator:
        for row in cursor:
            obj = new(model)
            obj.__data__ = {name: value if value is None else python(value)
                            for (name, python), value in zip(fields, row)}
            obj._dirty = set()
            obj.__rel__ = {}
            for i, name, python in extras:
                value = row[i]
                setattr(obj, name, value if value is None else python(value))
            yield obj
    return rows


def raw_rows(model, cursor) -> list:
    """The rows of a raw SQL ``cursor`` over ``model``'s table as model instances, made
    the fast way :func:`_model_rows` makes them: a column named as one of the model's
    columns becomes that field's value (converted as the field reads it), any other
    column an attribute of that name (as the driver gives it)."""
    by_column = {f.column_name: f for f in model._meta.sorted_fields}
    fields, extras = [], []
    for n, column in enumerate(d[0] for d in cursor.description):
        field = by_column.get(column)
        if field is not None:
            fields.append((n, field.name, field.python_value))
        else:
            extras.append((n, column))
    new, out = model.__new__, []
    for row in cursor.fetchall():
        obj = new(model)
        obj.__data__ = {name: row[n] if row[n] is None else python(row[n]) for n, name, python in fields}
        obj._dirty = set()
        obj.__rel__ = {}
        for n, name in extras:
            setattr(obj, name, row[n])
        out.append(obj)
    return out


def build_all() -> None:
    """Build the SQL of every prepared query for the bound database now."""
    for prepared in _ALL:
        prepared._for(database.obj)
