"""The database: one peewee proxy, bound from ``DATABASE_URL`` by each process.

Connections are pooled (playhouse.pool): a web thread hands its connection back at the
end of a request and the next request takes it again, instead of paying a new
connection (a PostgreSQL backend process, SQLite's pragmas) every time.
"""
from __future__ import annotations

import os
import select
import time
import weakref
from functools import lru_cache
from pathlib import Path

import peewee
from playhouse.db_url import connect as connect_url, register_database
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.migrations import Runner

database = peewee.DatabaseProxy()

MIGRATIONS = Path(__file__).with_name("migrations")

# The busy timeout makes writers wait for each other instead of failing with "database
# is locked". These are set on every new connection (they last as long as it does).
SQLITE_PRAGMAS = {"busy_timeout": 10000, "foreign_keys": 1, "synchronous": "normal"}
# WAL lets the web server read while a worker writes. It is a property of the database
# file, kept across connections: set once by :func:`migrate`, not on every connection
# (each job of a worker opens one, and the statement costs a round of file locking).
SQLITE_JOURNAL_MODE = "wal"


def on_postgres() -> bool:
    """Whether the application's database is PostgreSQL (else SQLite): for the few
    statements written differently for each (hints, LATERAL joins, full-text search)."""
    return isinstance(getattr(database, "obj", database), peewee.PostgresqlDatabase)


class IdField(peewee.AutoField):
    """A row id that is never given to another row, even after its row is removed.

    SQLite hands out the highest id + 1, so removing the newest row frees its id for the
    next one: a job still holding the old id would then write into a stranger's row.
    ``AUTOINCREMENT`` forbids that; PostgreSQL's serial sequences never go back anyway.
    """

    def ddl(self, ctx):
        node = super().ddl(ctx)
        engine = self.model._meta.database
        if isinstance(getattr(engine, "obj", engine), peewee.SqliteDatabase):
            return peewee.NodeList((node, peewee.SQL("AUTOINCREMENT")))
        return node


class DatabaseError(Exception):
    """The database cannot be reached or opened; the message says why."""


#: Connections a pool keeps by default: one per thread that uses the database at once.
MAX_CONNECTIONS = 8
#: An idle pooled connection older than this (seconds) is closed, not reused: servers
#: and proxies drop long-idle connections, and a fresh one picks up server changes.
STALE_TIMEOUT = 300
#: Seconds a thread waits for a free connection when all are in use, before failing.
POOL_WAIT = 30

#: Seconds a connection handed back to the pool is trusted without a round trip (see
#: :class:`PooledPostgres`).
PING_AFTER = 10.0


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's pooled PostgreSQL database, without a round trip on every checkout of a
    connection that was in use moments ago.

    peewee checks each connection it hands out with a ``SELECT 1``: a quarter of a
    millisecond of every request, a tenth of the feed's new-stories poll. A connection
    handed back less than :data:`PING_AFTER` seconds ago is taken as it is when the
    driver says it is open and idle and its socket has nothing to read (a server that
    ends a session — a restart, ``pg_terminate_backend`` — says so on the socket, and a
    proxy that drops it closes the socket). One idle for longer, or with something to
    read, is checked with peewee's round trip first.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}

    def _close(self, conn, close_conn=False):
        self._returned[self.conn_key(conn)] = time.monotonic()
        return super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._returned.pop(self.conn_key(conn), None)  # closed for good: nothing to remember
        return super()._close_raw(conn)

    def _is_closed(self, conn) -> bool:
        returned = self._returned.pop(self.conn_key(conn), None)
        if (returned is not None and time.monotonic() - returned < PING_AFTER and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle and _quiet(conn.fileno())):
            return False
        return super()._is_closed(conn)


def _quiet(fd: int) -> bool:
    """Whether socket ``fd`` has nothing to read, asked without waiting. poll(), not
    select(): a busy server's descriptors pass select's limit of 1024. Where there is no
    poll() (Windows), False: the caller checks with a round trip."""
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return not poller.poll(0)


register_database(PooledPostgres, "streamdesk+postgresql")

#: The pools this process opened (see _after_fork_in_child).
_pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: Pools inherited by a forked child: kept referenced, never used and never closed.
_inherited: list = []


def open_database(url: str, max_connections: int = MAX_CONNECTIONS) -> peewee.Database:
    """Create (not connect) a pooled peewee database for ``url`` and bind the proxy to
    it. ``db.close()`` hands a connection back to the pool; ``db.close_all()`` ends them."""
    db = _pool(url, max_connections)
    _pools[db] = (url, max_connections)
    database.initialize(db)
    return db


def _pool(url: str, max_connections: int) -> peewee.Database:
    pool = {"max_connections": max_connections, "stale_timeout": STALE_TIMEOUT, "timeout": POOL_WAIT}
    if url.startswith("sqlite:"):
        # BEGIN IMMEDIATE: a transaction takes the write lock when it starts (waiting up
        # to busy_timeout), instead of failing with "database is locked" when a read
        # inside it is upgraded to a write after another process committed.
        # check_same_thread off: a pooled connection serves one thread at a time, but
        # not always the thread that opened it.
        db = connect_url(url.replace("sqlite:", "sqlite+pool:", 1), pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                         check_same_thread=False, **pool)
        _create_private(db.database)
    else:
        scheme, rest = url.split("://", 1)
        db = connect_url(f"streamdesk+postgresql://{rest}", **pool)
    return db


def _after_fork_in_child() -> None:
    """Never let a forked child (an RQ work-horse) touch its parent's connections.

    An inherited connection shares its socket (PostgreSQL) or its file locks (SQLite)
    with the parent: using it interleaves two processes' queries on one session, and
    closing it — even by garbage collection — ends the parent's session. So the child
    keeps each inherited pool referenced and untouched, and the proxy gets a new, empty
    pool for the same URL: the child's first query opens its own connection.
    """
    bound = database.obj
    inherited = list(_pools.items())
    _inherited.extend(db for db, _ in inherited)
    _pools.clear()
    for db, (url, max_connections) in inherited:
        if db is bound:
            open_database(url, max_connections)


os.register_at_fork(after_in_child=_after_fork_in_child)


def _create_private(path: str) -> None:
    """Create the SQLite file readable by its owner only (0600), whatever the umask.

    It holds password hashes and encrypted tokens. SQLite gives the -wal and -shm files
    the mode of the database file, so they follow. An existing file is left as it is.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # no such folder (yet): SQLite reports it when it connects


def check_connection(db: peewee.Database) -> None:
    """Connect once, turning driver errors into one readable DatabaseError."""
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        raise DatabaseError(f"cannot open the database: {str(exc).strip().splitlines()[0]}") from None
    except ImportError:
        raise DatabaseError(
            "PostgreSQL needs the driver: pip install 'streamdesk[postgres]'"
        ) from None


def id_list(ids) -> peewee.SQL:
    """``ids`` (row ids) as a parenthesised SQL list of integer literals, for ``IN``.

    peewee builds a parameter node per value, every time it builds the query: with a
    topic's hundred streams that took longer than the query it ran. Integers written
    by ``int()`` are safe as literals; anything else raises. An empty list matches
    nothing (``NULL`` equals no id)."""
    return peewee.SQL("(" + (",".join(str(int(i)) for i in ids) or "NULL") + ")")


def value_list(values) -> peewee.SQL:
    """``values`` (any, e.g. provider ids) as a parenthesised SQL list of parameters, for
    ``IN``: one node, not a node per value that peewee would build (see :func:`id_list`).
    An empty list matches nothing."""
    values = list(values)
    if not values:
        return peewee.SQL("(NULL)")
    return peewee.SQL("(" + ",".join([database.param] * len(values)) + ")", values)


#: Rows per statement (PostgreSQL: per round trip; SQLite: per executemany call), which
#: bounds the memory of one call on long pages.
BATCH = 500


def upsert(model, conflict: tuple[str, ...], rows: list[dict], update: tuple[str, ...],
           count_new: bool = False) -> int | None:
    """Insert ``rows`` into ``model``'s table; a row whose ``conflict`` columns match a
    stored one updates its ``update`` fields instead, and of two rows with the same
    ``conflict`` columns the later wins. The SQL is built once per table, not per value.

    SQLite runs one prepared statement per row (in-process, no round trips). PostgreSQL
    gets one multi-row statement per BATCH rows through ``execute_values``: executemany
    there is a round trip per row.

    With ``count_new``, returns how many rows were new (not updates): PostgreSQL says so
    in the same round trip (``RETURNING xmax = 0``), SQLite counts the stored keys first.
    """
    if not rows:
        return 0 if count_new else None
    postgres = isinstance(database.obj, peewee.PostgresqlDatabase)
    sql, fields = _upsert_statement(model, conflict, update, database.param, multirow=postgres,
                                    returning=postgres and count_new)
    params = [tuple(field.db_value(row.get(field.name)) for field in fields) for row in rows]
    key = [i for i, f in enumerate(fields) if f.column_name in conflict]
    # One statement may not touch a row twice on PostgreSQL ("ON CONFLICT DO UPDATE
    # command cannot affect row a second time"), and a key given twice is one new row:
    # keep the last of the rows that share a key.
    params = _last_per_key(params, key)
    cursor = database.cursor()
    new = 0
    if postgres:
        from psycopg2.extras import execute_values

        for start in range(0, len(params), BATCH):
            answer = execute_values(cursor, sql, params[start:start + BATCH], page_size=BATCH, fetch=count_new)
            new += sum(1 for (inserted,) in answer or () if inserted)
        return new if count_new else None
    for start in range(0, len(params), BATCH):
        batch = params[start:start + BATCH]
        if count_new:
            new += len(batch) - _stored(cursor, model, [fields[i].column_name for i in key],
                                        [tuple(row[i] for i in key) for row in batch])
        cursor.executemany(sql, batch)
    return new if count_new else None


def _stored(cursor, model, columns: list[str], keys: list[tuple]) -> int:
    """How many of ``keys`` (values of ``columns``) ``model``'s table holds already."""
    row = "(" + ", ".join("?" * len(columns)) + ")"
    table = model._meta.table_name
    # A join from the keys reads the unique index; ``(a, b) IN (VALUES …)`` would scan the table.
    same = " AND ".join(f'"{table}"."{c}" = k.column{n}' for n, c in enumerate(columns, 1))
    cursor.execute(f'SELECT COUNT(*) FROM (VALUES {", ".join([row] * len(keys))}) AS k JOIN "{table}" ON {same}',
                   [v for k in keys for v in k])
    return cursor.fetchone()[0]


def _last_per_key(params: list[tuple], key: list[int]) -> list[tuple]:
    """``params`` with only the last row of each conflict key (in first-seen order).

    A key holding NULL never conflicts (NULLs are distinct in a unique index), so those
    rows are all kept, as one by one inserts would keep them.
    """
    kept: dict = {}
    for n, row in enumerate(params):
        values = tuple(row[i] for i in key)
        kept[values if None not in values else ("<null>", n)] = row
    return list(kept.values())


@lru_cache(maxsize=None)
def _upsert_statement(model, conflict: tuple[str, ...], update: tuple[str, ...], param: str, multirow: bool,
                      returning: bool = False):
    """The upsert SQL and its fields: with ``multirow``, VALUES takes the one ``%s``
    that ``execute_values`` fills with a page of rows; else one row of ``param``. With
    ``returning`` (PostgreSQL), each row says whether it was inserted (``xmax`` is 0 for
    a row this statement created)."""
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    changes = ", ".join(f'"{model._meta.fields[n].column_name}" = excluded."{model._meta.fields[n].column_name}"'
                        for n in update)
    targets = ", ".join(f'"{c}"' for c in conflict)
    values = "%s" if multirow else f'({", ".join([param] * len(fields))})'
    # A row that comes back unchanged (a re-crawl's, mostly: the revisited posts and
    # their comments) is left alone: no new row version on PostgreSQL, and on SQLite no
    # full-text re-index by the UPDATE OF text trigger (migration 0011).
    differs = " IS DISTINCT FROM " if multirow else " IS NOT "
    table = model._meta.table_name
    changed = " OR ".join(f'"{table}"."{model._meta.fields[n].column_name}"{differs}'
                          f'excluded."{model._meta.fields[n].column_name}"' for n in update)
    sql = (f'INSERT INTO "{table}" ({columns}) VALUES {values} '
           f"ON CONFLICT ({targets}) DO UPDATE SET {changes} WHERE {changed}"
           + (" RETURNING (xmax = 0)" if returning else ""))
    return sql, fields


def migrator(db: peewee.Database) -> Runner:
    """The migration runner: ordered files in webapp/migrations, recorded in a table."""
    return Runner(db, directory=str(MIGRATIONS), table_name="schema_migration")


def migrate(db: peewee.Database, target: str | None = None) -> list[str]:
    """Apply pending migrations (up to ``target``); returns the names applied. A SQLite
    file is switched to WAL first (it stays so: see SQLITE_JOURNAL_MODE)."""
    if isinstance(getattr(db, "obj", db), peewee.SqliteDatabase):
        db.execute_sql(f"PRAGMA journal_mode = {SQLITE_JOURNAL_MODE}")
    return migrator(db).up(target)
