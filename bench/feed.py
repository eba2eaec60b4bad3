"""Feed: a topic feed page (webapp.feed.feed_page: stories, figures, gaps) at the newest
stories and deep in history, as ratios of a raw ``sqlite3`` query for the same page.

200,000 stories over 4 streams of one topic, plus one stream of another topic. Keyset
paging reads the ``story (created_at, id)`` index from the position on, so the deep page
should cost what the first does; an OFFSET page would read every row it skips.
"""
from __future__ import annotations

import datetime
import sqlite3
import time
from pathlib import Path

STORIES = 200_000
DEEP = 150_000  # stories newer than the deep page
REPEAT = 200


def _timed(fn) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(REPEAT):
        fn()
    return (time.perf_counter() - start) / REPEAT


def run(tmp: Path) -> str:
    from webapp.db import database, migrate, open_database
    from webapp.feed import PAGE_SIZE, Cursor, Filters, feed_page
    from webapp.models import Account, Stream, Topic, TopicStream

    path = tmp / "feed.sqlite3"
    db = open_database(f"sqlite:///{path}")
    with db.connection_context():
        migrate(db)
        account = Account.create(name="bench")
        topic, other = Topic.create(account=account, name="t"), Topic.create(account=account, name="o")
        streams = []
        for n in range(5):
            stream = Stream.create(account=account, service="facebook", page_id=str(n), name=f"s{n}")
            TopicStream.create(topic=topic if n < 4 else other, stream=stream)
            streams.append(stream)
    t0 = datetime.datetime(2020, 1, 1)
    raw = sqlite3.connect(path)
    with raw:
        raw.executemany('INSERT INTO story (stream_id, external_id, created_at, text, is_hidden) VALUES (?, ?, ?, ?, 0)',
                        ((streams[n % 5].id, f"s{n}", str(t0 + datetime.timedelta(seconds=n)), f"story {n}")
                         for n in range(STORIES)))
        raw.execute("ANALYZE")
    ids = [s.id for s in streams[:4]]
    deep_at = raw.execute(f"SELECT created_at, id FROM story WHERE stream_id IN ({','.join('?' * 4)}) "
                          "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?", (*ids, DEEP)).fetchone()
    deep = Cursor(datetime.datetime.fromisoformat(deep_at[0]), deep_at[1])
    marks = ",".join("?" * 4)

    def raw_page(before=None):
        where = "" if before is None else " AND (created_at, id) < (?, ?)"  # a row value: one index seek
        args = () if before is None else (str(before.created_at), before.id)
        return raw.execute(f"SELECT * FROM story WHERE stream_id IN ({marks}){where} "
                           f"ORDER BY created_at DESC, id DESC LIMIT ?", (*ids, *args, PAGE_SIZE + 1)).fetchall()

    with db.connection_context():
        topic_streams = list(Stream.select().where(Stream.id.in_(ids)))
        first_ours = _timed(lambda: feed_page(topic_streams, Filters()))
        deep_ours = _timed(lambda: feed_page(topic_streams, Filters(), deep))
    first_raw, deep_raw = _timed(raw_page), _timed(lambda: raw_page(deep))
    raw.close()
    db.close_all()
    database.initialize(None)
    return (f"feed (sqlite, {STORIES:,} stories): first page {first_ours * 1e3:.2f} ms = "
            f"{first_ours / first_raw:.1f}x raw; page {DEEP:,} stories deep {deep_ours * 1e3:.2f} ms = "
            f"{deep_ours / deep_raw:.1f}x raw; deep / first = {deep_ours / first_ours:.2f}")
