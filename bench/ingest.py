"""Ingest: stories stored by the crawl's upsert vs raw inserts of the same rows.

Both sides write the same rows, in transactions of one crawl page (100 stories), into
SQLite files with the same schema and pragmas: the ratio is what our layer costs. With
``BENCH_DATABASE_URL`` (postgresql://…) the same again on PostgreSQL against raw
psycopg2 ``execute_values``, each side in a schema of its own that is dropped afterwards.
Each side runs :data:`ROUNDS` times, alternating (ours, raw, then raw, ours), into a
fresh database each time, and its best rate counts: neither side is always the first
one on a warm or cold machine.
"""
from __future__ import annotations

import datetime
import os
import sqlite3
import time
from pathlib import Path

N = 20_000
PAGE = 100
ROUNDS = 2


def _alternated(ours, raw) -> tuple[float, float]:
    """The best rate of ``ours(n)`` and of ``raw(n)`` over :data:`ROUNDS` rounds, run
    in alternating order (``n``: the round, for a fresh database per run)."""
    rates: dict = {ours: [], raw: []}
    for n in range(ROUNDS):
        for side in ((ours, raw) if n % 2 == 0 else (raw, ours)):
            rates[side].append(side(n))
    return max(rates[ours]), max(rates[raw])


def _stories():
    from streamdesk_contract.values import Story

    base = datetime.datetime(2026, 1, 1)
    return [Story(external_id=f"104729384756102_{i}", created_at=base + datetime.timedelta(minutes=i),
                  text=f"Story {i}: fresh this week, our espresso blend.", author_id="104729384756102",
                  author_name="Bluebird Coffee", url=f"https://www.facebook.com/104729384756102/posts/{i}",
                  raw_type="mobile_status_update") for i in range(N)]


def _database(path: Path):
    from webapp.db import SQLITE_PRAGMAS, migrate, open_database

    db = open_database(f"sqlite:///{path}")
    db.connect()
    migrate(db)
    return db, SQLITE_PRAGMAS


def run(tmp: Path) -> str:
    """The crawl through a real worker, then the in-process ingest, on SQLite and (with
    BENCH_DATABASE_URL) PostgreSQL."""
    lines = run_worker_crawl(tmp)
    lines.append(run_sqlite(tmp))
    if os.environ.get("BENCH_DATABASE_URL"):
        lines.append(run_postgres(os.environ["BENCH_DATABASE_URL"]))
    return "\n".join(lines)


def _ours(db_url: str, stories) -> float:
    """Stories/s through the crawl's ingest, a page per transaction with its cursor."""
    from streamdesk_contract.values import CrawlPage
    from webapp.crawl import ingest
    from webapp.db import database, migrate, open_database
    from webapp.models import Account, Stream

    db = open_database(db_url)
    db.connect()
    migrate(db)
    pages = [CrawlPage(cursor=str(i), stories=tuple(stories[i:i + PAGE])) for i in range(0, N, PAGE)]
    stream = Stream.create(account=Account.create(name="Bench"), service="facebook", page_id="104729384756102", name="Bluebird Coffee")
    start = time.perf_counter()
    for page in pages:
        with database.atomic():
            ingest(stream, page)
            Stream.update(cursor=page.cursor).where(Stream.id == stream.id).execute()
    rate = N / (time.perf_counter() - start)
    db.close_all()
    return rate


def run_postgres(url: str) -> str:
    """Ours vs raw psycopg2 execute_values on PostgreSQL, each run in a throwaway schema."""
    import psycopg2
    from psycopg2.extras import execute_values

    from webapp.db import migrate, open_database

    stories = _stories()
    admin = psycopg2.connect(url)
    admin.autocommit = True
    sep = "&" if "?" in url else "?"
    schemas: list[str] = []

    def schema(side: str, n: int) -> str:
        name = f"bench_{side}{n}_{os.getpid()}"
        admin.cursor().execute(f"CREATE SCHEMA {name}")
        schemas.append(name)
        return name

    def ours(n: int) -> float:
        return _ours(f"{url}{sep}options=-csearch_path%3D{schema('ours', n)}", stories)

    def raw(n: int) -> float:
        name = schema("raw", n)
        db = open_database(f"{url}{sep}options=-csearch_path%3D{name}")
        db.connect()
        migrate(db)
        db.close_all()
        raw_db = psycopg2.connect(url, options=f"-csearch_path={name}")
        cur = raw_db.cursor()
        cur.execute("INSERT INTO account (name, created_at) VALUES ('Bench', now()) RETURNING id")
        cur.execute("INSERT INTO stream (account_id, service, page_id, name, authorized, status, scopes, created_at, "
                    "job_key, story_count) VALUES (%s, 'facebook', '104729384756102', 'Bluebird Coffee', false, "
                    "'queued', '', now(), 'bench', 0) RETURNING id", cur.fetchone())
        stream_id = cur.fetchone()[0]
        raw_db.commit()
        rows = [(stream_id, s.external_id, s.created_at, None, s.text, s.author_id, s.author_name, s.url,
                 s.raw_type, False) for s in stories]
        start = time.perf_counter()
        for i in range(0, N, PAGE):
            execute_values(cur, "INSERT INTO story (stream_id, external_id, created_at, updated_at, text, author_id, "
                                "author_name, url, raw_type, is_hidden) VALUES %s", rows[i:i + PAGE], page_size=PAGE)
            cur.execute("UPDATE stream SET cursor = %s WHERE id = %s", (str(i), stream_id))
            raw_db.commit()
        rate = N / (time.perf_counter() - start)
        raw_db.close()
        return rate

    try:
        best, raw_best = _alternated(ours, raw)
    finally:
        for name in schemas:
            admin.cursor().execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.close()
    return (f"ingest in-process (postgresql): {best:,.0f} stories/s — ratio {best / raw_best:.2f} of raw psycopg2 "
            f"{raw_best:,.0f}/s (best of {ROUNDS} alternated runs each)")


def run_sqlite(tmp: Path) -> str:
    """Ours vs raw sqlite3 executemany, the same rows, the same pragmas."""
    stories = _stories()

    def ours(n: int) -> float:
        return _ours(f"sqlite:///{tmp / f'ours{n}.db'}", stories)

    def raw(n: int) -> float:
        db, pragmas = _database(tmp / f"raw{n}.db")
        db.close_all()
        raw_db = sqlite3.connect(tmp / f"raw{n}.db", isolation_level=None)
        for name, value in pragmas.items():
            raw_db.execute(f"PRAGMA {name} = {value}")
        raw_db.execute("INSERT INTO account (name, created_at) VALUES ('Bench', '2026-01-01')")
        raw_db.execute("INSERT INTO stream (account_id, service, page_id, name, authorized, status, scopes, "
                       "created_at, job_key, story_count) VALUES (1, 'facebook', '104729384756102', "
                       "'Bluebird Coffee', 0, 'queued', '', '2026-01-01', 'bench', 0)")
        rows = [(1, s.external_id, s.created_at.isoformat(" "), None, s.text, s.author_id, s.author_name, s.url,
                 s.raw_type, 0) for s in stories]
        start = time.perf_counter()
        for i in range(0, N, PAGE):
            raw_db.execute("BEGIN")
            raw_db.executemany("INSERT INTO story (stream_id, external_id, created_at, updated_at, text, author_id, "
                               "author_name, url, raw_type, is_hidden) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               rows[i:i + PAGE])
            raw_db.execute("UPDATE stream SET cursor = ? WHERE id = 1", (str(i),))
            raw_db.execute("COMMIT")
        rate = N / (time.perf_counter() - start)
        raw_db.close()
        return rate

    best, raw_best = _alternated(ours, raw)
    return (f"ingest in-process (sqlite): {best:,.0f} stories/s — ratio {best / raw_best:.2f} of raw sqlite3 "
            f"{raw_best:,.0f}/s (best of {ROUNDS} alternated runs each)")


# --- the crawl of a 20,000-post page through the real plugin and a real worker ---------

def fetch_raw(st, made: list[dict]) -> tuple[float, list[tuple]]:
    """Raw limit (a): the Graph calls the plugin made (``made``: the emulator's request
    log of the crawl, in order: the page node with its first feed page, the feed pages,
    the comment pages), made again with plain ``requests`` + json, the page token in
    the header as the plugin sends it; returns the seconds and the story rows parsed
    from the answers (each story once)."""
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {st.page_token}"}
    start = time.perf_counter()
    rows = {}
    for call in made:
        body = session.get(f"{st.emulator_url}{call['path']}", params=call["query"], headers=headers,
                           timeout=60).json()
        for post in (body.get("feed") or body).get("data", ()):
            if "created_time" in post and "comments" in post:  # a story (comments have no comments)
                rows[post["id"]] = (post["id"], post["created_time"], post.get("updated_time"),
                                    post.get("message") or "", post.get("from", {}).get("id"),
                                    post.get("from", {}).get("name"), post.get("permalink_url"),
                                    post.get("status_type"), bool(post.get("is_hidden")))
    return time.perf_counter() - start, list(rows.values())


def upsert_raw(url: str, rows: list[tuple]) -> float:
    """Raw limit (b): the same rows upserted by raw sqlite3 executemany / psycopg2
    execute_values, a page of 100 per transaction with its cursor; returns the seconds."""
    from bench.scratch import raw_connection

    from webapp.db import migrate, open_database

    db = open_database(url)
    with db.connection_context():
        migrate(db)
    db.close_all()
    conn = raw_connection(url)
    cur = conn.cursor()
    sqlite = url.startswith("sqlite:")
    mark = "?" if sqlite else "%s"
    cur.execute("INSERT INTO account (name, created_at) VALUES ('Bench', '2026-01-01')")
    cur.execute("INSERT INTO stream (account_id, service, page_id, name, authorized, status, scopes, created_at, "
                "job_key, story_count) VALUES (1, 'facebook', 'p', 'Bluebird Coffee', true, 'queued', '', "
                "'2026-01-01', 'bench', 0)")
    conn.commit()
    sql = ("INSERT INTO story (stream_id, external_id, created_at, updated_at, text, author_id, author_name, url, "
           "raw_type, is_hidden) VALUES {} ON CONFLICT (stream_id, external_id) DO UPDATE SET "
           "updated_at = excluded.updated_at, text = excluded.text, is_hidden = excluded.is_hidden, url = excluded.url")
    values = [(1, *row) for row in rows]
    start = time.perf_counter()
    for i in range(0, len(values), PAGE):
        if sqlite:
            cur.executemany(sql.format("(?,?,?,?,?,?,?,?,?,?)"), values[i:i + PAGE])
        else:
            from psycopg2.extras import execute_values

            execute_values(cur, sql.format("%s"), values[i:i + PAGE], page_size=PAGE)
        cur.execute(f"UPDATE stream SET cursor = {mark}, story_count = story_count + {mark} WHERE id = 1",
                    (str(i), len(values[i:i + PAGE])))
        conn.commit()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def run_worker_crawl(tmp: Path) -> list[str]:
    """One line per database: the crawl of a 20,000-post page by a real worker, from the
    start of its job until the stories are stored (the worker's start-up before it is
    printed beside it), against the slower of the same Graph calls made raw and a raw
    upsert of the same rows."""
    from bench.scratch import engines
    from bench.worker_crawl import queue_crawl, run_worker, stage

    lines = []
    with stage(tmp / "crawl", N) as st:
        for (engine, ours_db), (_, raw_db) in zip(engines(tmp, "crawl_ours"), engines(tmp, "crawl_raw")):
            with ours_db as url:
                env = queue_crawl(st, tmp / f"crawl-{engine}", url)
                st.control("DELETE", "calls")
                worker = run_worker(env, stories=N, calls=lambda: st.control("GET", "calls")["total"])
            # The calls the crawl had made when its stories were stored (the request log
            # keeps them in order); the metrics and messages read after that are not timed.
            made = st.control("GET", "requests")["requests"][:worker.calls]
            assert len(made) == worker.calls, "the emulator's request log is shorter than the crawl"
            fetch_seconds, rows = fetch_raw(st, made)
            assert len(rows) == N, len(rows)
            with raw_db as url:
                upsert_seconds = upsert_raw(url, rows)
            limit = max(fetch_seconds, upsert_seconds)
            which = "fetch" if fetch_seconds >= upsert_seconds else "upsert"
            crawl = worker.crawl_seconds
            lines.append(f"crawl of a {N:,}-post page by a worker ({engine}): {crawl:.1f} s (after a worker "
                         f"start-up of {worker.started_after:.1f} s) — ratio {limit / crawl:.2f} of raw "
                         f"{limit:.1f} s (the slower of the same {len(made)} HTTP calls fetched + parsed "
                         f"{fetch_seconds:.1f} s and a raw upsert {upsert_seconds:.1f} s: {which})")
    return lines
