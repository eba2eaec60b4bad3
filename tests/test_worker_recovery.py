"""A worker that dies is restarted, and what it held is recovered through RQ's
registries: no stream waits forever behind a job record nobody will run (issue 8,
items 2 and 11)."""
import datetime
import logging
import os
import signal
import time

import redis
from conftest import PASSWORD, login
from rq import Queue
from rq.job import JobStatus
from stack import Run, log_in, processes_with
from test_worker import start_worker, wait_for

from webapp import create_app
from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.crawl import enqueue_crawl, job_id
from webapp.models import Heartbeat, utcnow
from webapp.queue import QUEUED_TTL, release_if_stuck


def crawl_queue(url):
    return Queue("crawl", connection=redis.Redis.from_url(url))


def test_a_queued_job_record_expires_and_a_lost_one_is_released(clean_redis, caplog):
    q = crawl_queue(clean_redis)
    assert enqueue_crawl(q.connection, 7, "k7")
    key = f"rq:job:{job_id(7, 'k7')}"
    assert 0 < q.connection.ttl(key) <= QUEUED_TTL  # a record nobody takes goes by itself
    assert not enqueue_crawl(q.connection, 7, "k7")  # really queued: one job per stream
    # A worker popped it and died before running it: the record says queued, no list has it.
    q.connection.lrem(q.key, 0, job_id(7, "k7"))
    with caplog.at_level(logging.WARNING):
        assert enqueue_crawl(q.connection, 7, "k7")
    assert "was taken by a worker that stopped before running it" in caplog.text
    assert q.job_ids == [job_id(7, "k7")]


def test_a_job_stuck_in_the_intermediate_list_is_released_after_a_minute(clean_redis):
    """RQ moves a job to an intermediate list while a worker takes it; a live worker
    moves it on at once. One still there a minute later belongs to a dead worker."""
    q = crawl_queue(clean_redis)
    assert enqueue_crawl(q.connection, 8, "k8")
    name = job_id(8, "k8")
    q.connection.lmove(q.key, q.intermediate_queue_key)  # what a worker's dequeue does
    assert not enqueue_crawl(q.connection, 8, "k8")  # first seen now: give it time
    assert not enqueue_crawl(q.connection, 8, "k8")
    seen = q.intermediate_queue.get_first_seen_key(name)
    q.connection.set(seen, (datetime.datetime.now(datetime.timezone.utc)
                            - datetime.timedelta(minutes=2)).timestamp())  # a minute passes
    assert enqueue_crawl(q.connection, 8, "k8")
    assert q.job_ids == [name] and q.connection.lrange(q.intermediate_queue_key, 0, -1) == []


def test_a_job_whose_worker_was_killed_is_released(app, db, clean_redis, environ, tmp_path):
    q = crawl_queue(clean_redis)
    job = q.enqueue("time.sleep", 60, job_id="crawl-9-k9", result_ttl=0, job_timeout=120)
    worker = start_worker(environ, clean_redis, tmp_path, "--no-cron")
    try:
        def started():
            """the job taken by the worker"""
            return job.get_status(refresh=True) == JobStatus.STARTED

        wait_for(started, timeout=60)
    finally:
        # The worker and its work-horse die at once: nobody will finish the job.
        for pid in processes_with(f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}"):
            os.kill(pid, signal.SIGKILL)
        worker.wait(10)
    assert not release_if_stuck(q, job.id)  # its heartbeat has not run out yet
    registry = q.started_job_registry
    for entry in q.connection.zrange(registry.key, 0, -1):  # …and now it has (90 s later)
        q.connection.zadd(registry.key, {entry: time.time() - 1})
    assert release_if_stuck(q, job.id)
    assert q.fetch_job(job.id) is None


def test_status_says_when_no_worker_has_been_seen(app, db, clean_redis, environ):
    status_app = create_app(load_settings({**environ, "REDIS_URL": clean_redis}))
    create_user(create_account("Ops"), "ops@acme.test", PASSWORD, "admin")
    client = status_app.test_client()
    login(client, "ops@acme.test")
    Heartbeat.create(name="scheduler", ran_at=utcnow() - datetime.timedelta(minutes=10))
    html = client.get("/account/status").get_data(as_text=True)
    assert html.count("No worker has been seen since") == 2  # the scheduler and the workers
    Heartbeat.update(ran_at=utcnow()).execute()
    html = client.get("/account/status").get_data(as_text=True)
    assert "No worker has been seen" not in html
    assert "the queue server probably restarted without its data" in html


def test_a_worker_survives_a_queue_server_that_lost_its_data(app, db, clean_redis, environ, tmp_path):
    """Redis restarted without persistence: the worker registers again, and a job that
    finishes after its record vanished is one log line, not a traceback."""
    client = redis.Redis.from_url(clean_redis)
    worker = start_worker(environ, clean_redis, tmp_path, "--no-cron", "--worker-ttl", "20")
    try:
        job = crawl_queue(clean_redis).enqueue("time.sleep", 3, job_id="slow", result_ttl=0)

        def started():
            """the slow job running"""
            return job.get_status(refresh=True) == JobStatus.STARTED

        wait_for(started)
        client.flushdb()

        def registered():
            """the worker registered again"""
            return client.scard("rq:workers") == 1

        wait_for(registered, timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert "finished, but its record was lost" in output
    assert "was not registered (did Redis restart?): registering again" in output
    assert "Traceback" not in output and "InvalidJobOperation" not in output


def test_run_restarts_a_killed_worker(environ, tmp_path):
    run = Run(environ, tmp_path)
    try:
        run.wait_for("Streamdesk is running on")
        password = run.wait_for(r"password: (\S+)").group(1)
        marker = f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}"

        def worker():
            """the runner's worker process"""
            return next((pid for pid in processes_with(marker)
                         if _parent(pid) == run.proc.pid and b"worker" in _cmdline(pid)), None)

        first = wait_for(worker)

        def group():
            """the worker with its cron child and RQ's scheduler"""
            found = [pid for pid in processes_with(marker) if _group(pid) == first]
            return found if len(found) >= 3 else None

        group = wait_for(group, timeout=60)
        os.kill(first, signal.SIGKILL)
        run.wait_for(r"The worker stopped \(killed by SIGKILL\); restarting it in 1 s\.")
        second = wait_for(lambda: (pid := worker()) not in (None, first) and pid)
        wait_for(lambda: not set(group) & set(processes_with(marker)), timeout=10)  # nothing left behind
        session = log_in(run.url, "admin@example.com", password)

        def registered():
            """the new worker on the Status page"""
            html = session.get(f"{run.url}/account/status").text
            return "Last heartbeat:" in html and "No worker has been seen" not in html and "<td>idle</td>" in html

        wait_for(registered, timeout=60)
        assert _group(second) == second
    finally:
        assert run.interrupt() == 0
    assert "Traceback" not in run.log()


def _cmdline(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().split(b"\0")
    except OSError:
        return []


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return ["", "0", "0"]


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


def _group(pid: int) -> int:
    return int(_stat(pid)[2])
