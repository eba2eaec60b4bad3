"""Scratch databases for benchmarks: a SQLite file, and a throwaway PostgreSQL schema
when ``BENCH_DATABASE_URL`` is set (never ``DATABASE_URL``: a production setting must
not be able to start a bench that drops what it made)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def engines(tmp: Path, name: str) -> Iterator[tuple[str, contextlib.AbstractContextManager[str]]]:
    """(engine label, context giving a scratch database URL) for SQLite and, with
    ``BENCH_DATABASE_URL``, PostgreSQL (alone with ``BENCH_SKIP_SQLITE=1``)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if not (url and os.environ.get("BENCH_SKIP_SQLITE") == "1"):  # a PostgreSQL run alone (an hour's data)
        yield "sqlite", contextlib.nullcontext(f"sqlite:///{tmp / f'{name}.db'}")
    if url:
        yield "postgresql", postgres_schema(url, name)


@contextlib.contextmanager
def postgres_schema(url: str, name: str) -> Iterator[str]:
    """A URL of ``url``'s database whose search path is a new schema, dropped afterwards."""
    import psycopg2

    schema = f"bench_{name}_{os.getpid()}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        admin.cursor().execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        admin.cursor().execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()


def raw_connection(url: str):
    """A DB-API connection to a scratch URL from :func:`engines` (for raw bulk writes)."""
    if url.startswith("sqlite:"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        # Millions of rows land in random places of several indexes: with SQLite's 2 MB
        # default cache every insert reads pages back from the file.
        conn.execute("PRAGMA cache_size = -524288")  # KiB: 512 MB
        return conn
    import psycopg2
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    options = parse_qs(parts.query).get("options", [""])[0]
    return psycopg2.connect(parts._replace(query="").geturl(), options=options)
