"""Ingest: stories stored by the crawl's upsert vs raw sqlite3 inserts of the same rows.

Both sides write the same rows, in transactions of one crawl page (100 stories), into
SQLite files with the same schema and pragmas: the ratio is what our layer costs.
"""
from __future__ import annotations

import datetime
import sqlite3
import time
from pathlib import Path

N = 20_000
PAGE = 100


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
    from streamdesk_contract.values import CrawlPage
    from webapp.crawl import ingest
    from webapp.db import database
    from webapp.models import Account, Stream

    stories = _stories()
    pages = [CrawlPage(cursor=str(i), stories=tuple(stories[i:i + PAGE])) for i in range(0, N, PAGE)]

    db, pragmas = _database(tmp / "ours.db")
    stream = Stream.create(account=Account.create(name="Bench"), service="facebook", page_id="104729384756102", name="Bluebird Coffee")
    start = time.perf_counter()
    for page in pages:
        with database.atomic():
            ingest(stream, page)
            Stream.update(cursor=page.cursor).where(Stream.id == stream.id).execute()
    ours = N / (time.perf_counter() - start)
    db.close()

    db, _ = _database(tmp / "raw.db")
    db.close()
    raw_db = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    for name, value in pragmas.items():
        raw_db.execute(f"PRAGMA {name} = {value}")
    raw_db.execute("INSERT INTO account (name, created_at) VALUES ('Bench', '2026-01-01')")
    raw_db.execute("INSERT INTO stream (account_id, service, page_id, name, authorized, status, scopes, created_at, "
                   "job_key, story_count) VALUES (1, 'facebook', '104729384756102', 'Bluebird Coffee', 0, 'queued', "
                   "'', '2026-01-01', 'bench', 0)")
    rows = [(1, s.external_id, s.created_at.isoformat(" "), None, s.text, s.author_id, s.author_name, s.url,
             s.raw_type, 0) for s in stories]
    start = time.perf_counter()
    for i in range(0, N, PAGE):
        raw_db.execute("BEGIN")
        raw_db.executemany("INSERT INTO story (stream_id, external_id, created_at, updated_at, text, author_id, "
                           "author_name, url, raw_type, is_hidden) VALUES (?,?,?,?,?,?,?,?,?,?)", rows[i:i + PAGE])
        raw_db.execute("UPDATE stream SET cursor = ? WHERE id = 1", (str(i),))
        raw_db.execute("COMMIT")
    raw = N / (time.perf_counter() - start)
    raw_db.close()
    return f"ingest: {ours:,.0f} stories/s — ratio {ours / raw:.2f} of raw sqlite3 {raw:,.0f}/s"
