"""Pooled connections: a web thread keeps its connection across requests, and a forked
child (an RQ work-horse) never uses, nor closes, one it inherited."""
import os

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
