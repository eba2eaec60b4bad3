"""Worker memory: peak RSS of a burst worker crawling a 100,000-post Facebook page,
against the same worker running one no-op job (a heartbeat) — the raw limit.

The peak is the largest ``VmHWM`` of the worker and the work-horses it forks, sampled
while they run (bench/worker_crawl.py ``PeakRss``). ``BENCH_SCALE_RSS``
sets the number of posts (default 100,000); ``BENCH_DATABASE_URL`` adds PostgreSQL.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The issue's bar: a worker crawling a 100,000-post page stays under this.
LIMIT_MB = 150


def posts() -> int:
    """Posts on the crawled page."""
    return int(os.environ.get("BENCH_SCALE_RSS", "100000"))


def run(tmp: Path) -> str:
    """One line per database."""
    from bench.scratch import engines
    from bench.worker_crawl import queue_crawl, queue_noop, run_worker, stage

    n = posts()
    lines = []
    with stage(tmp / "rss", n) as st:
        for (engine, crawl_db), (_, bare_db) in zip(engines(tmp, "rss_crawl"), engines(tmp, "rss_bare")):
            with bare_db as url:
                bare = run_worker(queue_noop(st, tmp / f"rss-bare-{engine}", url))
            with crawl_db as url:
                ours = run_worker(queue_crawl(st, tmp / f"rss-crawl-{engine}", url), stories=n)
            lines.append(f"worker RSS ({engine}): {ours.peak_rss_mb:.0f} MB peak on a {n:,}-post crawl "
                         f"({ours.stored_after:.0f} s) — ratio {ours.peak_rss_mb / bare.peak_rss_mb:.2f} of a bare "
                         f"worker's {bare.peak_rss_mb:.0f} MB (bar: under {LIMIT_MB} MB)")
    return "\n".join(lines)
