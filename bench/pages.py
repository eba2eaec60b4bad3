"""Pages at scale: server time of the pages that list an account's streams, with
1,000,000 stories (and a comment for every 5 stories, a message for every 20) in 50
streams, against a bare route of the same app and the same pages at 1,000 stories.

Rows are written with raw bulk inserts (sqlite3 ``executemany`` in one transaction,
PostgreSQL ``COPY``) into a scratch database migrated by the app; accounts, users,
topics and streams are made by the app. Each page is asked through the Flask test
client, logged in as an admin, and its median time over :data:`REQUESTS` requests is
compared with a bare route's: a route of the same app, registered by this bench only,
that renders the same layout (``base.html`` with its navigation, for the same logged-in
admin) around an empty body — what any page costs before it reads its own data.
``BENCH_SCALE`` sets the number of stories (default
1,000,000); ``BENCH_DATABASE_URL`` (postgresql://…) adds the PostgreSQL lines.
"""
from __future__ import annotations

import datetime
import io
import os
import re
import statistics
import time
from pathlib import Path

from bench.bare import BARE_PATH as BARE, add_bare_route
from bench.scratch import engines, raw_connection

STREAMS = 50
#: The size the full-size pages are compared with.
SMALL = 1000
REQUESTS = 25
PASSWORD = "correct horse battery"
#: (label, path) of each page measured; {topic} is the first topic's id.
PAGES = (("topics list", "/account/topics/"), ("inbox", "/inbox"), ("topics page", "/topics"),
         ("topic page", "/account/topics/{topic}"))
START = datetime.datetime(2024, 1, 1)

def scale() -> int:
    """Stories to generate: ``BENCH_SCALE`` or the issue's 1,000,000."""
    return int(os.environ.get("BENCH_SCALE", "1000000"))


def _stories(stream_ids: list[int], first: int, n: int):
    for i in range(first, n):
        stream_id = stream_ids[i % len(stream_ids)]
        at = (START + datetime.timedelta(seconds=60 * i)).isoformat(" ")
        yield (stream_id, f"p{stream_id}_{i}", at, at, f"Story {i}: fresh this week, our espresso blend.",
               f"page-{stream_id}", "Bluebird Coffee", f"https://www.facebook.com/p/posts/{i}",
               "mobile_status_update", False)


def _comments(stream_ids: list[int], first: int, n: int):
    for i in range(first, n, 5):
        stream_id = stream_ids[i // 5 % len(stream_ids)]
        at = (START + datetime.timedelta(seconds=60 * i + 30)).isoformat(" ")
        by_page = i % 50 == 0  # the page's own replies: the Inbox leaves them out
        yield (stream_id, f"c{stream_id}_{i}", f"p_{i}", None, at, "Is this still available?",
               f"page-{stream_id}" if by_page else f"fan-{i % 997}", "Bluebird Coffee" if by_page else "A fan",
               False)


def _messages(stream_ids: list[int], first: int, n: int):
    for i in range(first, n, 20):
        stream_id = stream_ids[i // 20 % len(stream_ids)]
        at = (START + datetime.timedelta(seconds=60 * i + 45)).isoformat(" ")
        outgoing = i % 40 == 0
        yield (stream_id, f"m{stream_id}_{i}", f"t_{stream_id}_{i // 400}", at, "Hello, are you open today?",
               f"page-{stream_id}" if outgoing else f"fan-{i % 997}", "Bluebird Coffee" if outgoing else "A fan")


TABLES = {
    "story": ("stream_id, external_id, created_at, updated_at, text, author_id, author_name, url, raw_type, "
              "is_hidden", _stories),
    "comment": ("stream_id, external_id, story_external_id, parent_external_id, created_at, text, author_id, "
                "author_name, is_hidden", _comments),
    "message": ("stream_id, external_id, conversation_id, created_at, text, sender_id, sender_name", _messages),
}


def generate(url: str, stream_ids: list[int], n: int, first: int = 0) -> float:
    """Write rows ``first`` to ``n`` with raw bulk inserts; returns the seconds it took."""
    start = time.perf_counter()
    conn = raw_connection(url)
    cur = conn.cursor()
    for table, (columns, rows) in TABLES.items():
        insert_rows(url, cur, table, columns, rows(stream_ids, first, n))
    per_stream = {s: 0 for s in stream_ids}
    for i in range(n):
        per_stream[stream_ids[i % len(stream_ids)]] += 1
    mark = "?" if url.startswith("sqlite:") else "%s"
    cur.executemany(f"UPDATE stream SET story_count = {mark} WHERE id = {mark}",
                    [(count, s) for s, count in per_stream.items()])
    finish_load(url, conn)
    return time.perf_counter() - start


def finish_load(url: str, conn) -> None:
    """Commit a bulk load and close ``conn``; on PostgreSQL, vacuum and analyze first."""
    conn.commit()
    if not url.startswith("sqlite:"):
        conn.autocommit = True
        # As autovacuum does soon after such a load (PostgreSQL 13+ vacuums insert-only
        # tables too): statistics, and the visibility map that index-only scans need.
        conn.cursor().execute("VACUUM ANALYZE")
    conn.close()


def insert_rows(url: str, cur, table: str, columns: str, rows) -> None:
    """Bulk-insert ``rows`` (tuples in ``columns`` order): ``executemany`` on SQLite, COPY on PostgreSQL."""
    if url.startswith("sqlite:"):
        marks = ",".join("?" * len(columns.split(",")))
        cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    else:
        _copy(cur, table, columns, rows)


def _copy(cur, table: str, columns: str, rows, chunk: int = 100_000) -> None:
    """PostgreSQL COPY of ``rows`` in chunks (tab-separated text; NULL as \\N)."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else ("t" if v is True else "f" if v is False else str(v))
                               for v in row))
        buffer.write("\n")
        count += 1
        if count % chunk == 0:
            buffer.seek(0)
            cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def setup(tmp: Path, url: str, streams: int = STREAMS, reuse: bool = False):
    """The app on ``url``, an admin logged in, two topics sharing ``streams`` streams
    (odd and even); returns (app, client, first topic id, stream ids). With ``reuse``
    the database already holds them (made by an earlier call): they are only read."""
    from webapp import create_app
    from webapp.config import load_settings
    from webapp.db import migrate
    from webapp.models import Stream, Topic

    app = create_app(load_settings({"STREAMDESK_INSTANCE": str(tmp / "pages"), "SANDBOX": "1",
                                    "DATABASE_URL": url}))
    db = app.extensions["streamdesk.db"]
    with db.connection_context():
        migrate(db)
        if reuse:
            topics = list(Topic.select().order_by(Topic.id))
            ids = [s.id for s in Stream.select(Stream.id).order_by(Stream.id)]
        else:
            topics, ids = _make(streams)
    add_bare_route(app)  # before the first request: Flask refuses routes after it
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": "admin@bench.test", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return app, client, topics[0].id, ids


def _make(streams: int):
    """The bench's account, admin, two topics and ``streams`` streams; (topics, stream ids)."""
    from webapp.accounts import create_account, create_user
    from webapp.models import Stream, Topic, TopicStream

    account = create_account("Bench")
    create_user(account, "admin@bench.test", PASSWORD, "admin")
    topics = [Topic.create(account=account, name=name) for name in ("Our pages", "Rivals")]
    ids = []
    for n in range(streams):
        stream = Stream.create(account=account, service="facebook", page_id=f"page-{n + 1}",
                               name=f"Page {n + 1}", authorized=n % 2 == 0, status="active")
        TopicStream.create(topic=topics[n % 2], stream=stream)
        ids.append(stream.id)
    return topics, ids


def median_ms(client, path: str, status: int = 200, headers: dict | None = None) -> float:
    """Median milliseconds of ``REQUESTS`` requests of ``path`` (after a warm-up)."""
    times = []
    for n in range(3 + REQUESTS):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == status, (path, response.status_code)
        if n >= 3:
            times.append(elapsed)
    return statistics.median(times) * 1000


def run(tmp: Path) -> str:
    """One line per page and database: the page at the full size against the bare route
    (the issue's target: at most 5), and beside it the same page at :data:`SMALL`
    stories (a page that does not grow with the data is near 1)."""
    n = scale()
    small = min(SMALL, n)
    lines = []
    for engine, scratch in engines(tmp, "pages"):
        with scratch as url:
            app, client, topic, stream_ids = setup(tmp / engine, url)
            generate(url, stream_ids, small)
            before = {label: median_ms(client, path.format(topic=topic)) for label, path in PAGES}
            seconds = generate(url, stream_ids, n, first=small)
            bare = median_ms(client, BARE)
            for label, path in PAGES:
                ours = median_ms(client, path.format(topic=topic))
                lines.append(f"{label} at {n:,} stories ({engine}): {ours:.1f} ms median — ratio "
                             f"{ours / bare:.1f} of a bare route's {bare:.1f} ms (at {small:,} stories: "
                             f"{before[label]:.1f} ms, ratio {ours / before[label]:.2f})")
            lines.append(f"  ({engine}: {n:,} stories, {n // 5:,} comments, {n // 20:,} messages in {STREAMS} "
                         f"streams generated in {seconds:.0f} s)")
    return "\n".join(lines)
