"""The stories CSV export at scale: 1,000,000 stories of one topic through the real
route (``/analytics/topics/<id>/stories.csv``, Flask test client, the streamed body read
chunk by chunk and dropped as a browser saving it would), against writing the same rows
with the ``csv`` module alone (into a buffer emptied as it fills; only ``writerows`` is
timed, not making the rows).

Memory: the process's peak RSS (``VmHWM`` in /proc/self/status) is reset before the
export (``/proc/self/clear_refs``, 5) so the growth measured is the export's own, not the
data generation's. Every 20th story has count figures (reactions, comments, shares), so
the per-batch figure lookup is exercised. Rows are written with raw bulk inserts
(:func:`bench.pages.insert_rows`); ``BENCH_SCALE`` sets the number of stories,
``BENCH_DATABASE_URL`` adds the PostgreSQL line.
"""
from __future__ import annotations

import csv
import datetime
import io
import re
import time
from pathlib import Path

from bench.pages import finish_load, insert_rows, scale, setup
from bench.scratch import engines, raw_connection

START = datetime.datetime(2025, 1, 1)
#: Rows per ``writerows`` of the raw writer: the export's own batch size.
RAW_BATCH = 1000
TEXT = "Fresh this week: our espresso blend, €4 — \"limited\", ask at the bar"


def _story(stream_id: int, i: int) -> tuple:
    at = START + datetime.timedelta(seconds=20 * i)
    return (stream_id, f"p{stream_id}_{i}", at.isoformat(" "), f"{TEXT} #{i}", f"fan-{i % 997}", "A fan",
            f"https://www.facebook.com/p/posts/{i}", False, i % 5000, i % 97)


def _figures(stream_id: int, n: int):
    for i in range(0, n, 20):
        for name, value in (("reactions", i % 50), ("comments", i % 7), ("shares", i % 3)):
            yield stream_id, "post", f"p{stream_id}_{i}", name, value, START.isoformat(" ")


def generate(url: str, stream_id: int, n: int) -> float:
    """The stories and their figures, raw; returns the seconds it took."""
    start = time.perf_counter()
    conn = raw_connection(url)
    cur = conn.cursor()
    insert_rows(url, cur, "story", "stream_id, external_id, created_at, text, author_id, author_name, url, "
                "is_hidden, views, engagements", (_story(stream_id, i) for i in range(n)))
    insert_rows(url, cur, "figure", "stream_id, level, object_id, name, value, updated_at", _figures(stream_id, n))
    finish_load(url, conn)
    return time.perf_counter() - start


def _peak_kb() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def _reset_peak() -> int:
    """Reset the peak RSS to the current RSS (Linux); returns it in KiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _peak_kb()


def raw_rate(n: int) -> float:
    """Rows per second of ``csv.writer`` writing the export's rows (same columns and
    values, built beforehand a batch at a time; only the writing is timed)."""
    from webapp.exports import STORY_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STORY_COLUMNS)
    spent = 0.0
    for first in range(0, n, RAW_BATCH):
        rows = []
        for i in range(first, min(n, first + RAW_BATCH)):
            counts = (None, None, i % 50, None, i % 3, None, None) if i % 20 == 0 else (None,) * 7
            rows.append((START + datetime.timedelta(seconds=20 * i), "Page 1", "facebook", f"p1_{i}", "A fan",
                         f"{TEXT} #{i}", f"https://www.facebook.com/p/posts/{i}", i % 5000, i % 97, *counts))
        begin = time.perf_counter()
        writer.writerows(rows)
        out.seek(0)
        out.truncate()
        spent += time.perf_counter() - begin
    return n / spent


def export(client, path: str) -> tuple[int, int, float]:
    """Ask ``path`` and read the streamed body to its end: (rows, bytes, seconds)."""
    begin = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200 and response.is_streamed, response.status_code
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return lines - 1, size, time.perf_counter() - begin


def run(tmp: Path) -> str:
    """One line per database: the export's rows/s as a ratio of the raw writer's, and
    the export's peak RSS growth (the issue's limit: under 50 MB)."""
    n = scale()
    lines = []
    for engine, scratch in engines(tmp, "exports"):
        with scratch as url:
            app, client, topic, stream_ids = setup(tmp / engine, url, streams=1)
            seconds = generate(url, stream_ids[0], n)
            end = (START + datetime.timedelta(seconds=20 * n)).date()
            path = f"/analytics/topics/{topic}/stories.csv?from={START.date().isoformat()}&to={end.isoformat()}"
            raw = raw_rate(n)
            before = _reset_peak()
            rows, size, spent = export(client, path)
            growth = max(0, _peak_kb() - before) / 1024
            assert rows == n, (rows, n)
            ours = rows / spent
            lines.append(f"export ({engine}): {ours:,.0f} rows/s — ratio {ours / raw:.2f} of raw csv "
                         f"{raw:,.0f} rows/s; peak RSS +{growth:.1f} MB ({rows:,} rows, {size / 1e6:.0f} MB "
                         f"in {spent:.1f} s; data generated in {seconds:.0f} s)")
    return "\n".join(lines)
