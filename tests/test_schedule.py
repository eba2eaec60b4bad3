"""The crawl schedule at scale (issue 9): a cron pass claims the due streams in one
statement and queues them in pipelined batches; passes running at once never queue a
stream twice; a crawl that died is noticed in RQ's registries and queued again, with
the stream saying so. Real Valkey/Redis, real worker processes, real database."""
import dataclasses
import logging
import os
import signal
import socket
import threading

import pytest
import redis
from rq import Queue
from rq.job import JobStatus
from test_worker import start_worker, wait_for

from webapp import queue
from webapp.crawl import CRAWL_JOB, crawl, enqueue_due_crawls, job_id
from webapp.db import database
from webapp.jobs import queue_due
from webapp.models import Figure, Stream, Topic, TopicStream, utcnow
from webapp.runtime import runtime

#: The seed page of the Facebook emulator.
PAGE_ID = "101938475620394"


@pytest.fixture
def configured(environ, clean_redis, db, monkeypatch):
    """The test's configuration in this process's environment, as a worker has it."""
    for name, value in {**environ, "REDIS_URL": clean_redis}.items():
        monkeypatch.setenv(name, value)
    runtime.cache_clear()
    yield redis.Redis.from_url(clean_redis)
    runtime.cache_clear()


def make_streams(account, count: int, page_id=None) -> list[Stream]:
    topic = Topic.create(account=account, name=f"Topic {Topic.select().count()}")
    rows = [dict(account=account.id, service="facebook", page_id=page_id or f"made-up-{topic.id}-{i}",
                 name=f"Stream {i}") for i in range(count)]
    with database.atomic():
        for i in range(0, count, 400):
            Stream.insert_many(rows[i:i + 400]).execute()
        made = list(Stream.select().where(Stream.page_id.in_([r["page_id"] for r in rows])).order_by(Stream.id))
        TopicStream.insert_many([dict(topic=topic.id, stream=s.id) for s in made]).execute()
    return made


def commands(client: redis.Redis) -> dict[str, int]:
    """How often the server ran each command so far."""
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()}


def test_a_pass_claims_due_streams_in_one_statement_and_queues_them_in_batches(configured, account, caplog):
    count = 2 * queue.BATCH + 100  # three batches
    streams = make_streams(account, count)
    before = commands(configured)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert enqueue_due_crawls() == count
    statements = [r.getMessage() for r in caplog.records if r.name == "peewee"]
    touching = [s for s in statements if '"stream"' in s]
    assert len(touching) == 1 and touching[0].startswith("('UPDATE") and "RETURNING" in touching[0], statements
    after = commands(configured)
    assert after.get("exec", 0) - before.get("exec", 0) == 3  # one pipelined transaction per batch
    assert after.get("evalsha", 0) == before.get("evalsha", 0)  # no per-job unique enqueue script
    crawl_queue = Queue("crawl", connection=configured)
    assert sorted(crawl_queue.job_ids) == sorted(job_id(s.id, s.job_key) for s in streams)
    assert all(s.next_crawl_at is not None for s in Stream.select())  # claimed: the next pass skips them
    assert enqueue_due_crawls() == 0 and crawl_queue.count == count


def test_a_stream_already_queued_from_the_web_is_not_queued_twice(configured, account):
    first, second = make_streams(account, 2)
    assert CRAWL_JOB.enqueue(configured, first.id, first.job_key)  # as adding a stream does
    assert enqueue_due_crawls() == 1
    assert sorted(Queue("crawl", connection=configured).job_ids) == sorted(
        [job_id(first.id, first.job_key), job_id(second.id, second.job_key)])


def test_a_stream_whose_job_just_finished_is_queued_again_at_once(configured, account):
    """A finished job's record stays RESULT_TTL seconds (RQ sets its expiry in the job's
    own pipeline; a record deleted at once cost a second connection per job): a stream
    queued meanwhile, from the web or by the schedule, releases it and is queued."""
    first, second = make_streams(account, 2)
    crawl_queue = Queue("crawl", connection=configured)
    for stream in (first, second):
        assert CRAWL_JOB.enqueue(configured, stream.id, stream.job_key)
    queue.StreamdeskWorker([crawl_queue], connection=configured).work(burst=True, logging_level="ERROR")
    for stream in (first, second):
        record = crawl_queue.fetch_job(job_id(stream.id, stream.job_key))
        assert record.get_status() == JobStatus.FINISHED and 0 < configured.ttl(record.key) <= queue.RESULT_TTL
    assert CRAWL_JOB.enqueue(configured, first.id, first.job_key)  # "Crawl now"
    Stream.update(next_crawl_at=None).where(Stream.id == second.id).execute()
    assert enqueue_due_crawls() == 1  # the schedule
    assert sorted(crawl_queue.job_ids) == sorted(job_id(s.id, s.job_key) for s in (first, second))


def test_two_passes_at_once_queue_each_stream_exactly_once(configured, account):
    streams = make_streams(account, 600)
    start = threading.Barrier(2)
    results = []

    def one_pass():
        start.wait()
        results.append(enqueue_due_crawls())

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(results) == len(streams) and len(results) == 2
    ids = Queue("crawl", connection=configured).job_ids
    assert len(ids) == len(set(ids)) == len(streams)


def test_the_claims_go_back_when_redis_fails_during_a_pass(configured, account):
    from stack import free_port

    streams = make_streams(account, 3)
    down = redis.Redis(port=free_port(), socket_connect_timeout=3)  # nobody listens there
    with pytest.raises(redis.ConnectionError):
        queue_due(down, CRAWL_JOB, Stream.next_crawl_at, Stream.status != "expired")
    assert all(s.next_crawl_at <= utcnow() for s in Stream.select())  # due again, not claimed for an hour
    assert enqueue_due_crawls() == len(streams)  # the next pass queues them


def test_a_first_crawl_stores_figures_without_a_second_job(configured, account, emulator):
    stream, = make_streams(account, 1, page_id="104729384756102")
    assert crawl(runtime(), stream) == "active"
    assert Figure.select().where(Figure.stream == stream.id, Figure.level == "page").count() > 0
    assert Stream.get_by_id(stream.id).next_metrics_at is not None
    assert Queue("default", connection=configured).count == 0  # no metrics job was queued


@pytest.fixture
def silent_provider():
    """A provider API that accepts connections and never answers: a crawl hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except OSError:
                continue
    return found


def _hanging_crawl(configured, account, environ, tmp_path, silent_provider, timeout: int):
    """A stream whose crawl hangs, taken by a real worker; returns (stream, job, worker,
    the worker's children before the job started)."""
    stream, = make_streams(account, 1, page_id=PAGE_ID)
    env = {**environ, "FACEBOOK_API_URL": silent_provider}
    worker = start_worker(env, os.environ["REDIS_URL"], tmp_path, "--no-cron")
    wait_for(lambda: len(_children(worker.pid)) >= 1, timeout=60)  # RQ's scheduler is up
    before = _children(worker.pid)
    job = dataclasses.replace(CRAWL_JOB, timeout=timeout)
    assert queue.enqueue_streams(configured, job, [(stream.id, stream.job_key)]) == 1
    record = Queue("crawl", connection=configured).fetch_job(job.job_id(stream.id, stream.job_key))

    def crawling():
        """the crawl running"""
        return record.get_status(refresh=True) == JobStatus.STARTED and Stream.get_by_id(stream.id).status == "crawling"

    wait_for(crawling, timeout=60)
    return stream, record, worker, before


def _queued_again_within_one_pass(configured, stream, record, worker) -> Stream:
    failed = Queue("crawl", connection=configured).failed_job_registry

    def failed_in_rq():
        """the job in RQ's failed registry"""
        return record.id in failed.get_job_ids()

    wait_for(failed_in_rq, timeout=60)
    _stop(worker)  # else it takes the job queued again at once
    assert Stream.get_by_id(stream.id).status == "crawling"  # what it said until the pass
    assert enqueue_due_crawls() == 1
    assert Queue("crawl", connection=configured).job_ids == [record.id]
    assert record.id not in failed.get_job_ids()
    return Stream.get_by_id(stream.id)


def _stop(worker):
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=30)[0]
    except Exception:
        worker.kill()
        return worker.communicate()[0]


def test_a_crawl_whose_work_horse_was_killed_is_queued_again(configured, account, environ, tmp_path,
                                                            silent_provider):
    stream, record, worker, before = _hanging_crawl(configured, account, environ, tmp_path, silent_provider, 600)
    try:
        horse, = _children(worker.pid) - before
        os.kill(horse, signal.SIGKILL)
        fresh = _queued_again_within_one_pass(configured, stream, record, worker)
    finally:
        if worker.poll() is None:
            _stop(worker)
    assert fresh.status == "queued" and fresh.status_message == (
        "The last crawl was interrupted (its process was killed by SIGKILL); it was queued again.")


def test_a_crawl_over_its_time_limit_is_queued_again(configured, account, environ, tmp_path, silent_provider):
    stream, record, worker, _ = _hanging_crawl(configured, account, environ, tmp_path, silent_provider, 2)
    try:
        fresh = _queued_again_within_one_pass(configured, stream, record, worker)
    finally:
        if worker.poll() is None:
            _stop(worker)
    assert fresh.status == "queued" and fresh.status_message == (
        "The last crawl was interrupted (it ran over its time limit of 2 s); it was queued again.")


def test_metrics_refreshes_are_claimed_and_queued_in_batches_too(configured, account):
    from webapp.metrics import METRICS_JOB, enqueue_due_metrics

    streams = make_streams(account, 3)
    Stream.update(status="active").where(Stream.id.in_([s.id for s in streams[:2]])).execute()
    assert enqueue_due_metrics() == 2  # the one never crawled has no figures to refresh yet
    assert enqueue_due_metrics() == 0
    assert sorted(Queue("default", connection=configured).job_ids) == sorted(
        METRICS_JOB.job_id(s.id, s.job_key) for s in streams[:2])
