"""Analytics dashboards at scale: server time of a stream's dashboard (a stream with
100,000 stories and a year of daily roll-up) and of a topic's dashboard over 20 such
streams, against a bare route of the same app (bench/bare.py).

Rows are written with raw bulk inserts (bench/pages.py ``insert_rows``: ``executemany``
on SQLite, ``COPY`` on PostgreSQL) into a scratch database the app migrated; the
account, topics and streams are made by the app. Each page is asked through the Flask
test client as a logged-in admin (its median over bench/pages.py ``REQUESTS``), with
the default range (the last 28 days) and the 90-day one.
``BENCH_ANALYTICS_STORIES`` sets the stories per stream (default 100,000: the issue's
size), and so do the other 19 streams of the topic, as the issue asks (2,000,000 stories:
the build takes about a minute and a half on two cores); ``BENCH_ANALYTICS_OTHERS=10``
gives them a tenth of that for a quicker run.
``BENCH_DATABASE_URL`` (postgresql://…) adds the PostgreSQL lines.
"""
from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

from bench.bare import BARE_PATH as BARE
from bench.pages import finish_load, insert_rows, median_ms, setup
from bench.scratch import engines, raw_connection

#: Streams of the measured topic (the bench makes twice as many: pages.setup splits them over two topics).
TOPIC_STREAMS = 20
DAYS = 366
#: The other streams of the topic hold 1/OTHERS of the first one's stories (BENCH_ANALYTICS_OTHERS).
OTHERS = int(os.environ.get("BENCH_ANALYTICS_OTHERS", "1"))
#: The roll-up's figures of a stream, a row per day each.
NAMES = ("impressions", "reach", "followers", "new_followers", "post_views", "post_engagements",
         "posts_published", "comments_received")


def stories_per_stream() -> int:
    """``BENCH_ANALYTICS_STORIES`` or the issue's 100,000."""
    return int(os.environ.get("BENCH_ANALYTICS_STORIES", "100000"))


def _stories(stream_id: int, n: int, today: datetime.date):
    start = datetime.datetime.combine(today - datetime.timedelta(days=DAYS - 1), datetime.time())
    step = DAYS * 86400 / n
    for i in range(n):
        at = (start + datetime.timedelta(seconds=int(i * step))).isoformat(" ")
        yield (stream_id, f"p{stream_id}_{i}", at, f"Story {i}: our espresso blend.", (i * 37) % 5000,
               (i * 13) % 400, False)


def _days(stream_id: int, today: datetime.date):
    for n in range(DAYS):
        day = (today - datetime.timedelta(days=DAYS - 1 - n)).isoformat()
        for name in NAMES:
            value = 10_000 + 3 * n if name == "followers" else 100 + (n * 7 + len(name)) % 900
            yield (stream_id, name, day, value, f"page_{name}", "v23.0", None, None, day)


def generate(url: str, stream_ids: list[int], per_stream: int, today: datetime.date) -> float:
    """The stories and roll-up of the topic's streams; returns the seconds it took."""
    start = time.perf_counter()
    conn = raw_connection(url)
    cur = conn.cursor()
    for k, stream_id in enumerate(stream_ids):
        n = per_stream if k == 0 else per_stream // OTHERS
        insert_rows(url, cur, "story", "stream_id, external_id, created_at, text, views, engagements, is_hidden",
                    _stories(stream_id, n, today))
        insert_rows(url, cur, "figure_day", "stream_id, name, day, value, provider_metric, api_version, replaces, "
                    "note, updated_at", _days(stream_id, today))
    finish_load(url, conn)
    return time.perf_counter() - start


def _first_ms(client, path: str) -> float:
    """One request with no chart drawn yet (webapp/charts.py keeps the charts it drew)."""
    from webapp.charts import _drawn

    client.get(path)  # the SQL statements' caches warm, as in the median
    _drawn.cache_clear()
    start = time.perf_counter()
    assert client.get(path).status_code == 200
    return (time.perf_counter() - start) * 1000


def run(tmp: Path) -> str:
    """Lines per database: the stream dashboard (target ≤ 100 ms and ≤ 10× a bare
    route) and the topic dashboard over 20 streams (target ≤ 250 ms)."""
    per_stream = stories_per_stream()
    today = datetime.datetime.now(datetime.timezone.utc).date()
    lines = []
    for engine, scratch in engines(tmp, "analytics"):
        with scratch as url:
            app, client, topic, ids = setup(tmp / engine, url, streams=2 * TOPIC_STREAMS)
            held = ids[::2]  # pages.setup puts the even streams in the first topic
            seconds = generate(url, held, per_stream, today)
            bare = median_ms(client, BARE)
            for label, path in ((f"stream dashboard, {per_stream:,} stories, a year of days", f"/analytics/streams/{held[0]}"),
                                (f"topic dashboard over {len(held)} streams", f"/analytics/topics/{topic}"),
                                ("competitors over the same", f"/analytics/topics/{topic}/competitors")):
                for query in ("", "?range=90"):
                    first = _first_ms(client, path + query)
                    ours = median_ms(client, path + query)
                    lines.append(f"{label}, {'90' if query else '28'} days ({engine}): {ours:.1f} ms median — "
                                 f"ratio {ours / bare:.1f} of raw {bare:.1f} ms (a bare route); "
                                 f"{first:.1f} ms with its charts drawn afresh")
            lines.append(f"  ({engine}: {per_stream:,} + {len(held) - 1} × {per_stream // OTHERS:,} stories and "
                         f"{len(held)} × {DAYS} × {len(NAMES)} roll-up rows generated in {seconds:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(run(Path(tmp)))
