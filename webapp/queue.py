"""The job queue (RQ on Redis or Valkey): connections, queues and their status."""
from __future__ import annotations

import logging
import re
import time
import signal
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from redis.driver_info import DriverInfo
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError, InvalidJobOperation
from rq.job import Job, JobStatus
from rq.results import Result
from rq.worker_registration import register

log = logging.getLogger(__name__)

#: Crawls get their own queue so that a backlog never delays the scheduler's jobs.
QUEUES = ("default", "crawl")
#: Seconds a job may wait in its queue before its record expires. A record left behind
#: by a worker that died must not block its stream's next job forever; the schedule
#: queues a new one on its next pass.
QUEUED_TTL = 3600
#: Seconds between a worker's heartbeats when idle (RQ waits for work this long at a time).
WORKER_TTL = 60
#: Jobs queued per pipeline by a cron pass: one round trip each, not one per job.
BATCH = 500
#: Seconds a failed job's record is kept: long enough for the next cron pass to see it.
FAILURE_TTL = 300
#: Seconds a finished stream job's record is kept. Not 0: RQ deletes a job of
#: ``result_ttl=0`` with two reads outside its pipeline, on a second connection that each
#: work-horse opens for them — a fifth of an idle re-crawl job's time; an expiry is set
#: in the pipeline. A stream queued again before its record expires finds it finished,
#: and the record is released then (see :func:`release_if_stuck`).
RESULT_TTL = 10


#: What a connection tells the server about its client (CLIENT SETINFO), worked out once.
DRIVER_INFO = DriverInfo(lib_version=redis.__version__)


class QueueUnavailable(Exception):
    """Redis/Valkey cannot be reached; the message says where and why."""


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url`` (checked with a PING, so a bad URL fails here)."""
    from .config import mask_url

    # valkey:// and valkeys:// are spelled redis:// for the client; only the scheme changes.
    # driver_info given, not looked up: redis-py otherwise reads its own version from the
    # installed package metadata for every new connection (~3 ms), and a worker's
    # work-horse opens new connections for every job.
    client = redis.Redis.from_url(re.sub(r"^valkey(s?)://", r"redis\1://", url),
                                  socket_connect_timeout=3, socket_timeout=10, driver_info=DRIVER_INFO)
    try:
        client.ping()
    except redis.AuthenticationError as exc:  # a subclass of ConnectionError: first
        raise QueueUnavailable(f"Redis at {mask_url(url)} refused the credentials: {exc}") from None
    except (redis.RedisError, OSError) as exc:
        raise QueueUnavailable(f"cannot reach Redis at {mask_url(url)}: {exc}") from None
    return client


@contextmanager
def connected(url: str):
    """``connect(url)`` for one piece of work, closed after it: a client left to the
    garbage collector may be closed during interpreter shutdown, with a traceback."""
    client = connect(url)
    try:
        yield client
    finally:
        client.close()


def queue(client: redis.Redis, name: str = "default") -> Queue:
    return Queue(name, connection=client)


def enqueue_once(client: redis.Redis, queue_name: str, func: str, *args, job_id: str, job_timeout: int) -> bool:
    """Queue ``func(*args)`` unless a job with ``job_id`` is queued or running already.

    One job per stream at a time: a duplicate is dropped, not queued twice. A job record
    that only claims to be queued or running (its worker died with it) is released
    first, so it cannot block its stream forever.
    """
    q = queue(client, queue_name)
    for _ in range(2):
        try:
            q.enqueue(func, *args, job_id=job_id, unique=True, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                      ttl=QUEUED_TTL, job_timeout=job_timeout)
        except DuplicateJobError:
            if not release_if_stuck(q, job_id):
                return False
        else:
            return True
    return False


def release_if_stuck(q: Queue, job_id: str, cleaned: bool = False) -> bool:
    """Delete the record of job ``job_id`` when no worker has it or will take it.

    Read from RQ's own registries: a queued job must be in its queue (or in the
    intermediate list a worker moves it to while taking it); a started one must be in
    the started registry with a live heartbeat (the registry's cleanup fails the ones
    whose worker died); a finished, failed or stopped one is over. Returns True when
    released.
    ``cleaned``: the started registry was cleaned up already in this pass.
    """
    job = q.fetch_job(job_id)
    if job is None:
        # Gone meanwhile, or a fragment RQ cannot read: a worker heart-beating a job
        # after Redis restarted without its data writes the key back with that one field
        # and no expiry, and `unique` would refuse the stream's job forever.
        if q.connection.delete(Job.key_for(job_id)):
            log.warning("job %s is released and queued again: its record was a fragment "
                        "(did Redis restart?)", job_id)
        return True
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        if q.connection.lpos(q.key, job_id) is not None:
            return False
        if q.connection.lpos(q.intermediate_queue_key, job_id) is not None:
            # A worker moves a job from there to the started registry at once; one that
            # stays over a minute was taken by a worker that died (RQ's own test).
            intermediate = q.intermediate_queue
            if intermediate.set_first_seen(job_id) or not intermediate.should_be_cleaned_up(job_id):
                return False
            intermediate.remove(job_id)
        why = "it was taken by a worker that stopped before running it"
    elif status == JobStatus.STARTED:
        if not cleaned:
            q.started_job_registry.cleanup()  # fails the jobs whose worker stopped heart-beating
        if job.get_status(refresh=True) == JobStatus.STARTED and job_id in q.started_job_registry:
            return False
        why = "its worker stopped while running it"
    elif status == JobStatus.FINISHED:  # done, its record kept RESULT_TTL seconds: nothing waits for it
        job.delete(remove_from_queue=True)
        return True
    elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        why = f"it ended as {status.value}"
    else:  # scheduled, deferred: not ours to touch
        return False
    log.warning("job %s is released and queued again: %s", job_id, why)
    job.delete(remove_from_queue=True)
    return True


def enqueue_streams(client: redis.Redis, job: "StreamJob", streams: list[tuple[int, str]]) -> int:
    """Queue ``job`` for each ``(stream id, job key)``, in pipelined batches of BATCH
    with RQ's ``enqueue_many``. A stream whose job is queued or running already (queued
    from the web, say) is skipped: its record is looked up in the same batch, and only
    a record that turns out stuck is released. Returns how many were queued.

    The cron pass that calls this has claimed the streams in the database, so no other
    pass queues them meanwhile; a web request queueing one between the look-up and the
    batch only puts its id in the list twice, and the second copy finds no record.
    """
    q = queue(client, job.queue_name)
    cleaned = False
    queued = 0
    for start in range(0, len(streams), BATCH):
        batch = streams[start:start + BATCH]
        ids = [job.job_id(stream_id, key) for stream_id, key in batch]
        with client.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.exists(Job.key_for(job_id))
            exists = pipe.execute()
        fresh = []
        for args, job_id, known in zip(batch, ids, exists):
            if known:
                cleaned = cleaned or _clean_started(q)
                if not release_if_stuck(q, job_id, cleaned=True):
                    continue
            fresh.append(Queue.prepare_data(job.func, args=args, job_id=job_id, timeout=job.timeout,
                                            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, ttl=QUEUED_TTL))
        if fresh:
            with client.pipeline() as pipe:
                q.enqueue_many(fresh, pipeline=pipe)
                pipe.execute()
        queued += len(fresh)
    return queued


def _clean_started(q: Queue) -> bool:
    q.started_job_registry.cleanup()
    return True


def interrupted(client: redis.Redis, job: "StreamJob") -> list[tuple[int, str, str]]:
    """The jobs of kind ``job`` that died since the last look, as ``(stream id, job key,
    why)``; their records are deleted, so their streams can be queued again at once.

    Read from RQ's registries, cleaned up once here: a job whose worker stopped
    heart-beating (a lost worker) moves from the started registry to the failed one, as
    do jobs whose work-horse was killed or ran over its ``job_timeout``.
    """
    q = queue(client, job.queue_name)
    q.started_job_registry.cleanup()
    died = []
    for job_id in q.failed_job_registry.get_job_ids():
        stream = job.stream_of(job_id)
        if stream is None:
            continue
        record = q.fetch_job(job_id)
        why = describe_failure(_failure_of(record))
        log.warning("job %s died (%s): its stream is queued again", job_id, why)
        if record is not None:
            record.delete(remove_from_queue=True)
        else:
            q.failed_job_registry.remove(job_id)
        died.append((*stream, why))
    return died


def _failure_of(record: Job | None) -> str:
    result = record.latest_result() if record is not None else None
    return (result.exc_string or "") if result is not None and result.type == Result.Type.FAILED else ""


def describe_failure(exc_info: str | None) -> str:
    """Why a job died, in words for people, from the failure RQ recorded."""
    text = (exc_info or "").strip()
    if "JobTimeoutException" in text:
        limit = re.search(r"\((\d+) seconds\)", text)
        return f"it ran over its time limit of {limit.group(1)} s" if limit else "it ran over its time limit"
    killed = re.search(r"Work-horse terminated unexpectedly; waitpid returned \d+ \(signal (\d+)\)", text)
    if killed:
        return f"its process was killed by {_signal_name(int(killed.group(1)))}"
    if "Work-horse terminated unexpectedly" in text:
        return "its process ended unexpectedly"
    if "AbandonedJobError" in text:
        return "its worker stopped while running it"
    if "stuck in intermediate queue" in text:
        return "it was taken by a worker that stopped before running it"
    last = text.splitlines()[-1] if text else ""
    return last[:200] or "it failed without saying why"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class StreamdeskWorker(Worker):
    """RQ's worker, made to survive a Redis or Valkey that restarted without its data.

    It registers itself again when its registration is gone (else the Status page says
    no worker runs while crawls go on), a job that finished after its record was lost
    is logged in one line, not as a failure with a traceback, and a job that ends while
    Redis is down does not end the worker.
    """

    def __init__(self, *args, **kwargs):
        kwargs["worker_ttl"] = kwargs.get("worker_ttl") or WORKER_TTL
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        super().heartbeat(timeout, pipeline=pipeline)
        if pipeline is None and not self.connection.sismember(self.redis_workers_keys, self.key):
            log.warning("worker %s was not registered (did Redis restart?): registering again", self.name)
            with self.connection.pipeline() as again:
                again.hset(self.key, mapping=self.serialize())
                register(self, again)
                again.expire(self.key, (timeout or self.worker_ttl + 60))
                again.execute()

    def execute_job(self, job, queue):
        # RQ's bookkeeping after a job needs Redis; left to RQ, an outage at that moment
        # ends the whole worker ("unhandled exception, quitting", exit status 0, so a
        # process manager may not even restart it). The job's record, if any survived,
        # is released by the schedule (release_if_stuck); the worker waits and goes on.
        try:
            super().execute_job(job, queue)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("job %s ended while Redis was unreachable (%s): waiting for it", job.id, exc)
            self._wait_for_redis()

    def _wait_for_redis(self, longest: float = 30.0) -> None:
        """Block until Redis answers again (or a stop is requested), backing off."""
        wait = 1.0
        while not self._stop_requested:
            try:
                self.connection.ping()
                return
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(wait)
                wait = min(longest, wait * 2)

    def handle_job_success(self, job, queue, started_job_registry, execution):
        try:
            return super().handle_job_success(job, queue, started_job_registry, execution)
        except InvalidJobOperation:
            log.warning("job %s finished, but its record was lost (did Redis restart?)", job.id)


@dataclass(frozen=True)
class StreamJob:
    """A kind of job run for one stream at a time (a crawl, a metrics refresh).

    Its id names the stream by id *and* job key, so the job of a removed stream can
    never be taken for the job of a stream that came later.
    """

    kind: str
    func: str
    queue_name: str
    timeout: int

    def job_id(self, stream_id: int, key: str) -> str:
        """The job's id for a stream: its kind, the stream's id and job key."""
        return f"{self.kind}-{stream_id}-{key}"

    def stream_of(self, job_id: str) -> tuple[int, str] | None:
        """``(stream id, job key)`` of one of this kind's job ids; None for another id."""
        kind, _, rest = job_id.partition("-")
        stream_id, _, key = rest.partition("-")
        if kind != self.kind or not stream_id.isdigit() or not key:
            return None
        return int(stream_id), key

    def enqueue(self, client: redis.Redis, stream_id: int, key: str) -> bool:
        """Queue the job for a stream unless one is queued or running already."""
        return enqueue_once(client, self.queue_name, self.func, stream_id, key,
                            job_id=self.job_id(stream_id, key), job_timeout=self.timeout)

    def queue_from(self, settings, stream) -> bool:
        """Queue it from the web process or another job; False without a reachable queue."""
        return enqueue_from(settings, self.enqueue, stream.id, stream.job_key)


def enqueue_from(settings, enqueue, *args) -> bool:
    """``enqueue(client, *args)`` against the configured queue, from a web request or a
    job; False when there is no queue or it cannot be reached (the cron schedule then
    picks the work up once it can)."""
    from .config import mask_url

    if not settings.redis_url:
        return False
    try:
        with connected(settings.redis_url) as client:
            return enqueue(client, *args)
    except (QueueUnavailable, redis.RedisError) as exc:
        log.warning("could not queue %s%s at %s: %s", enqueue.__name__, args, mask_url(settings.redis_url), exc)
        return False


@dataclass(frozen=True)
class QueueStatus:
    """What the admin status page shows about the queue."""

    lengths: dict[str, int]
    workers: list[dict]
    failed: dict[str, int]


def status(client: redis.Redis) -> QueueStatus:
    """Queue lengths, failed counts and live workers."""
    lengths, failed = {}, {}
    for name in QUEUES:
        q = queue(client, name)
        lengths[name] = q.count
        failed[name] = q.failed_job_registry.count
    workers = [
        {"name": w.name, "state": w.get_state(), "queues": ", ".join(w.queue_names()),
         "last_heartbeat": w.last_heartbeat}
        for w in Worker.all(connection=client)
    ]
    return QueueStatus(lengths, workers, failed)
