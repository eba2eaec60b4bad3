"""Fault tests (issue 9): a real worker process on real Valkey/Redis crawling the Facebook
emulator over HTTP, while its work-horse is killed, its queue server restarts, or the
provider throws a storm of 5xx answers and rate limits. Run with ``-s`` for the figures.
"""
import datetime
import os
import random
import re
import signal
import time

import redis
from faultkit import (ALEX, BLUEBIRD, RIVERSIDE, SAM, authorized_stream, compare, horse_of, kill_marked,
                      marker_of, page_token, start_worker, tail)
from rq import Queue
from rq.job import JobStatus
from test_worker import wait_for

from webapp.crawl import enqueue_crawl, job_id
from webapp.models import Story, Stream, Topic, utcnow

#: How many times the work-horse is killed in the middle of the crawl.
KILLS = 20


def test_a_crawl_killed_twenty_times_loses_and_duplicates_nothing(app, db, account, clean_redis, environ, tmp_path,
                                                                  emulator, emulator_urls):
    graph = emulator_urls["facebook"]
    # 2,000 more stories with 10 comments each: a first crawl of several seconds.
    emulator("facebook", "POST", "/posts/bulk", page_id=BLUEBIRD, count=2000, comments=8, replies=2)
    stream = authorized_stream(Topic.create(account=account, name="Own"),
                               page_token(graph, emulator, BLUEBIRD, ALEX), BLUEBIRD, "Bluebird Coffee")
    client = redis.Redis.from_url(clean_redis)
    crawls = Queue("crawl", connection=client)
    name = job_id(stream.id, stream.job_key)
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    # The schedule is triggered here as the cron would (same function, per stream): the
    # worker runs without its cron, so each kill is followed at once by the next crawl.
    worker, log = start_worker(environ, clean_redis, tmp_path, "--no-cron")
    landed, delays, progress = 0, [], []
    try:
        def queued():
            """the crawl queued again (its killed job released)"""
            return enqueue_crawl(client, stream.id, stream.job_key)

        def running():
            """the crawl job taken by a work-horse"""
            job = crawls.fetch_job(name)
            return job is not None and job.get_status() == JobStatus.STARTED and horse_of(worker.pid)

        while landed < KILLS:
            wait_for(queued, timeout=20)
            horse = wait_for(running, timeout=20, interval=0.02)
            delays.append(rng.uniform(0.1, 0.9))
            time.sleep(delays[-1])
            os.kill(horse, signal.SIGKILL)

            def ended():
                """the killed job marked by its worker"""
                job = crawls.fetch_job(name)
                return (job.get_status() if job else "gone") not in (JobStatus.STARTED, JobStatus.QUEUED)

            wait_for(ended, timeout=20, interval=0.02)
            job = crawls.fetch_job(name)
            if job is None:  # it finished before the kill: the crawl is over
                break
            assert job.get_status() == JobStatus.FAILED
            landed += 1
            progress.append(Story.select().where(Story.stream == stream.id).count())
        # Then let it finish.
        wait_for(queued, timeout=20)

        def finished():
            """the crawl finished"""
            return crawls.fetch_job(name) is None and Stream.get_by_id(stream.id).status == "active"

        wait_for(finished, timeout=90)
        assert worker.poll() is None, tail(log)  # the worker itself survived every kill
    finally:
        kill_marked(marker_of(environ))
    truth = emulator("facebook", "GET", f"/pages/{BLUEBIRD}/content")
    tallies = compare(stream, truth)
    print(f"\n[faults] seed {seed}: {landed} kills landed "
          f"(after {', '.join(f'{d:.2f}' for d in delays)} s of crawling)")
    print(f"[faults] stories stored at each kill: {progress}")
    for tally in tallies:
        print(f"[faults] {tally}")
    assert landed == KILLS, f"the crawl ended after {landed} kills: make it longer\n{tail(log)}"
    for tally in tallies:
        assert not tally.missing and not tally.unknown and not tally.duplicates, str(tally)
        assert tally.stored == tally.expected
    assert "Traceback" not in open(log).read(), tail(log)
