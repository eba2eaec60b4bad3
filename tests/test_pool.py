"""Pooled connections: a web thread keeps its connection across requests, and a forked
child (an RQ work-horse) never uses, nor closes, one it inherited."""
import os
import select
import time

import pytest

from webapp.db import database, open_database


def _request_connection(app):
    """The raw connection a request gets from the app's own hooks."""
    with app.test_request_context("/login"):
        app.preprocess_request()
        conn = database.connection()
        app.do_teardown_request()
    return conn


def test_a_thread_reuses_its_connection_from_request_to_request(app):
    first = _request_connection(app)
    assert all(_request_connection(app) is first for _ in range(5))
    assert database.is_closed()  # handed back to the pool between requests


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(settings, tmp_path):
    db = open_database(settings.database_url)
    db.connect()
    try:
        parent = _session_id(db)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report its session, then drop everything it can
            try:
                import gc

                child = _session_id(database)
                gc.collect()
                os.write(write, f"{child}".encode())
            finally:
                os._exit(0)
        os.close(write)
        child = os.read(read, 100).decode()
        os.waitpid(pid, 0)
        assert child and child != str(parent)
        # The parent's session survived the child (nothing closed it from there).
        assert _session_id(db) == parent
        db.execute_sql("SELECT 1")
    finally:
        db.close_all()


def _session_id(db):
    if db.database.endswith(".db") or "sqlite" in type(db).__name__.lower():
        # SQLite has no server session: the connection object's address in memory is
        # the same in parent and child exactly when the child reuses the parent's.
        return id(db.connection())
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def _postgres(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool (CI runs the suite on PostgreSQL as well)")
    import psycopg2

    other = psycopg2.connect(settings.database_url)
    other.autocommit = True
    return other


def test_a_connection_handed_back_moments_ago_is_reused_without_a_round_trip(app, settings):
    other = _postgres(settings)
    with app.test_request_context("/login"):
        app.preprocess_request()
        conn = database.connection()
        database.execute_sql("SELECT 'the last request''s query'")
        app.do_teardown_request()
    with app.test_request_context("/login"):
        app.preprocess_request()
        assert database.connection() is conn
        # What the server last ran for that session: still the last request's query, no ping.
        with other.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (conn.get_backend_pid(),))
            assert cursor.fetchone()[0] == "SELECT 'the last request''s query'"
        app.do_teardown_request()
    other.close()


def test_a_connection_the_server_ended_is_replaced_not_handed_out(app, settings):
    other = _postgres(settings)
    first = _request_connection(app)
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (first.get_backend_pid(),))
    deadline = time.monotonic() + 10
    while not select.select([first.fileno()], [], [], 0.1)[0] and time.monotonic() < deadline:
        pass  # until the server's goodbye reaches the socket
    with app.test_request_context("/login"):
        app.preprocess_request()
        assert database.execute_sql("SELECT 2").fetchone() == (2,)  # no error: a new session
        assert database.connection() is not first
        app.do_teardown_request()
    other.close()


def test_a_sockets_news_is_seen_past_selects_limit_of_1024_descriptors():
    """A busy web server holds more than 1024 descriptors: the pool's look at a socket
    must not fail there (select() cannot take them; poll() can)."""
    import resource
    import socket

    from webapp.db import _quiet

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1500:
        pytest.skip(f"this machine allows {hard} descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1500), hard))
    ours, theirs = socket.socketpair()
    high = os.dup2(ours.fileno(), 1400)
    try:
        assert _quiet(high)
        theirs.send(b"x")
        assert not _quiet(high)
    finally:
        os.close(high)
        ours.close()
        theirs.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
