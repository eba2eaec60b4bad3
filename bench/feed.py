"""Feed at the issue's size: a topic of 100 streams holding 1,000,000 stories and
3,000,000 comments (``BENCH_SCALE`` sets the number of stories; comments are 3 per
story). Measured through the app, logged in, as median server time of the first page,
a page 10,000 stories deep (keyset), a filtered page, a search and the new-stories
poll, each against the bare route of the same app (bench/bare.py) in the same run;
the raw SQL of the first page is printed beside it for scale. SQLite always;
PostgreSQL as well with ``BENCH_DATABASE_URL``.

``BENCH_KEEP=<dir>`` keeps the SQLite scratch database in ``<dir>`` and reuses it on
the next run when it was generated at the same ``BENCH_SCALE`` (generation takes
minutes; this is for profiling the pages again and again, never for the figures a
report quotes first).

Stories and comments are written with the raw bulk inserts of bench/pages.py (the
full-text index follows through its triggers on SQLite, its GIN indexes on PostgreSQL).
Every story has a fan's comment the page answered; one in ten has a fan's comment the
page did not answer (the "unanswered" filter), and one story (and one comment) in 1,000
holds the word searched for, so a search ranks ~1,000 stories and ~3,000 comments;
a common word (:data:`COMMON`, in ~270,000 stories) is searched too.
"""
from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

from bench import pages
from bench.bare import BARE_PATH
from bench.scratch import engines, raw_connection

STREAMS = 100
COMMENTS_PER_STORY = 3
DEEP = 10_000
#: One story (and comment) in RARE holds :data:`WORD`.
RARE = 1000
WORD = "pumpkin"
VOCABULARY = ("espresso", "blend", "fresh", "roast", "week", "beans", "oat", "milk", "latte", "cup", "morning",
              "open", "today", "new", "menu", "team", "barista", "cold", "brew", "sale", "order", "shop")
START = datetime.datetime(2022, 1, 1)
#: A word of :data:`VOCABULARY` that about a quarter of the stories and comments hold.
COMMON = "espresso"


def _text(i: int, salt: int) -> str:
    words = [VOCABULARY[(i * 7 + k * 13 + salt) % len(VOCABULARY)] for k in range(6)]
    if (i + salt) % RARE == 0:
        words.insert(2, WORD)
    return f"Story {i}: " + " ".join(words) if salt == 0 else " ".join(words).capitalize() + "?"


def _stories(streams: list[tuple[int, str]], n: int):
    for i in range(n):
        stream_id, page_id = streams[i % len(streams)]
        at = (START + datetime.timedelta(seconds=30 * i)).isoformat(" ")
        yield (stream_id, f"s{i}", at, at, _text(i, 0), page_id, "Bluebird Coffee",
               f"https://www.facebook.com/p/posts/{i}", "mobile_status_update", False)


def _comments(streams: list[tuple[int, str]], n: int):
    """Per story: a fan's comment, the page's reply to it, and a third comment: a fan's
    left unanswered for one story in ten, else the page's."""
    for i in range(n):
        stream_id, page_id = streams[i % len(streams)]
        for k in range(COMMENTS_PER_STORY):
            at = (START + datetime.timedelta(seconds=30 * i + 5 + k)).isoformat(" ")
            fan = k == 0 or (k == 2 and i % 10 == 1)
            yield (stream_id, f"c{i}_{k}", f"s{i}", f"c{i}_0" if k == 1 else None, at, _text(i * 3 + k, 1),
                   f"fan-{i % 997}" if fan else page_id, "A fan" if fan else "Bluebird Coffee", False)


def generate(url: str, stream_ids: list[int], n: int) -> float:
    """Write ``n`` stories and 3 × ``n`` comments; returns the seconds it took."""
    start = time.perf_counter()
    conn = raw_connection(url)
    try:
        _write(url, conn, stream_ids, n)
    finally:
        conn.close()
    return time.perf_counter() - start


def _write(url: str, conn, stream_ids: list[int], n: int) -> None:
    cur = conn.cursor()
    mark = "?" if url.startswith("sqlite:") else "%s"
    # Half the topic's streams unauthorized: the filtered page keeps those.
    cur.executemany(f"UPDATE stream SET authorized = {mark} WHERE id = {mark}",
                    [(n % 2 == 0, s) for n, s in enumerate(stream_ids)])
    cur.execute(f"SELECT id, page_id FROM stream WHERE id IN ({','.join([mark] * len(stream_ids))})", stream_ids)
    streams = sorted(cur.fetchall())
    pages.insert_rows(url, cur, "story", pages.TABLES["story"][0], _stories(streams, n))
    pages.insert_rows(url, cur, "comment", pages.TABLES["comment"][0], _comments(streams, n))
    conn.commit()
    if url.startswith("sqlite:"):
        cur.execute("ANALYZE")
    else:
        conn.autocommit = True
        cur.execute("ANALYZE")  # as autovacuum would soon after such a load


def _position(url: str, stream_ids: list[int], offset: int) -> str:
    """The feed's cursor (``<time>,<id>``) of the story ``offset`` stories from the newest."""
    conn = raw_connection(url)
    try:  # closed whatever happens: an open transaction would block dropping the scratch schema
        cur = conn.cursor()
        mark = "?" if url.startswith("sqlite:") else "%s"
        cur.execute(f"SELECT created_at, id FROM story WHERE stream_id IN ({','.join([mark] * len(stream_ids))}) "
                    f"ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {offset}", stream_ids)
        created_at, ident = cur.fetchone()
    finally:
        conn.close()
    if isinstance(created_at, str):
        created_at = datetime.datetime.fromisoformat(created_at)
    return f"{created_at.isoformat()},{ident}"


def _raw_first_page_ms(url: str, stream_ids: list[int]) -> float:
    """Median milliseconds of the first page's story query in raw SQL (for scale only)."""
    from webapp.feed import PAGE_SIZE

    mark = "?" if url.startswith("sqlite:") else "%s"
    sql = (f"SELECT * FROM story WHERE stream_id IN ({','.join([mark] * len(stream_ids))}) "
           f"ORDER BY created_at DESC, id DESC LIMIT {PAGE_SIZE + 1}")
    times = []
    conn = raw_connection(url)
    try:
        cur = conn.cursor()
        for _ in range(3 + pages.REQUESTS):
            start = time.perf_counter()
            cur.execute(sql, stream_ids)
            cur.fetchall()
            times.append(time.perf_counter() - start)
    finally:
        conn.close()
    times = sorted(times[3:])
    return times[len(times) // 2] * 1000


def run(tmp: Path) -> str:
    """One line per figure and database, each against the bare route in the same run."""
    from urllib.parse import urlencode

    n = pages.scale()
    deep = min(DEEP, n // 2)  # a small BENCH_SCALE has no page 10,000 deep
    lines = []
    keep = os.environ.get("BENCH_KEEP")
    if keep:
        tmp = Path(keep)
        tmp.mkdir(parents=True, exist_ok=True)
    for engine, scratch in engines(tmp, "feed"):
        with scratch as url:
            # A kept database is reused when its generation finished at this size.
            done = tmp / f"feed-{engine}.generated" if keep and engine == "sqlite" else None
            reuse = done is not None and done.exists() and done.read_text() == str(n)
            if done is not None and not reuse:
                done.unlink(missing_ok=True)
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            # 2 × STREAMS streams, alternately in two topics: the first topic has STREAMS.
            app, client, topic, all_ids = pages.setup(tmp / f"feed-{engine}", url, streams=2 * STREAMS,
                                                      reuse=reuse)
            stream_ids = all_ids[0::2]
            seconds = 0.0 if reuse else generate(url, stream_ids, n)
            if done is not None and not reuse:
                done.write_text(str(n))
            feed = f"/topics/{topic}"
            newest = _position(url, stream_ids, 0)
            last = (START + datetime.timedelta(seconds=30 * n)).date()
            searched = {
                "first page": (feed, {}),
                f"page {deep:,} stories deep": (feed + "?" + urlencode({"before": _position(url, stream_ids, deep)}),
                                                {}),
                "filtered page (unauthorized, unanswered comments, 30 days)":
                    (feed + "?" + urlencode({"connection": "unauthorized", "unanswered": "1",
                                             "from": (last - datetime.timedelta(days=30)).isoformat(),
                                             "to": last.isoformat()}), {}),
                f"search “{WORD}”": (feed + "?" + urlencode({"q": WORD}), {}),
                # A word in a quarter of the stories and comments: past search.RANKED.
                f"search of a common word “{COMMON}”": (feed + "?" + urlencode({"q": COMMON}), {}),
            }
            bare = pages.median_ms(client, BARE_PATH)
            size = f"{engine}, {n:,} stories"
            for label, (path, headers) in searched.items():
                ours = pages.median_ms(client, path, headers=headers)
                lines.append(f"feed {label} ({size}): {ours:.1f} ms — ratio {ours / bare:.1f} of bare route "
                             f"{bare:.1f} ms")
            poll = pages.median_ms(client, f"{feed}/new?" + urlencode({"after": newest}), 204,
                                   headers={"HX-Request": "true"})
            lines.append(f"feed new-stories poll ({size}): {poll:.2f} ms — ratio {poll / bare:.1f} of bare route "
                         f"{bare:.1f} ms")
            lines.append(f"  ({engine}: raw SQL of the first page's stories {_raw_first_page_ms(url, stream_ids):.2f} ms; "
                         f"{n:,} stories, {n * COMMENTS_PER_STORY:,} comments in {STREAMS} streams "
                         + ("reused from BENCH_KEEP)" if reuse else f"generated in {seconds:.0f} s)"))
            from webapp.db import database
            database.close()
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(run(Path(tmp)), flush=True)
    sys.exit(0)
