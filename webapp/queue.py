"""The job queue (RQ on Redis or Valkey): connections, queues and their status."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import redis
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError

log = logging.getLogger(__name__)

#: Crawls get their own queue so that a backlog never delays the scheduler's jobs.
QUEUES = ("default", "crawl")


class QueueUnavailable(Exception):
    """Redis/Valkey cannot be reached; the message says where and why."""


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url`` (checked with a PING, so a bad URL fails here)."""
    from .config import mask_url

    # valkey:// and valkeys:// are spelled redis:// for the client; only the scheme changes.
    client = redis.Redis.from_url(re.sub(r"^valkey(s?)://", r"redis\1://", url),
                                  socket_connect_timeout=3, socket_timeout=10)
    try:
        client.ping()
    except redis.AuthenticationError as exc:  # a subclass of ConnectionError: first
        raise QueueUnavailable(f"Redis at {mask_url(url)} refused the credentials: {exc}") from None
    except (redis.RedisError, OSError) as exc:
        raise QueueUnavailable(f"cannot reach Redis at {mask_url(url)}: {exc}") from None
    return client


def queue(client: redis.Redis, name: str = "default") -> Queue:
    return Queue(name, connection=client)


def enqueue_once(client: redis.Redis, queue_name: str, func: str, *args, job_id: str, job_timeout: int) -> bool:
    """Queue ``func(*args)`` unless a job with ``job_id`` is queued or running already.

    One job per stream at a time: a duplicate is dropped, not queued twice.
    """
    try:
        # The job key must go when the job ends, or `unique` would block the next one.
        queue(client, queue_name).enqueue(func, *args, job_id=job_id, unique=True, result_ttl=0,
                                          failure_ttl=300, job_timeout=job_timeout)
    except DuplicateJobError:
        return False
    return True


def enqueue_from(settings, enqueue, *args) -> bool:
    """``enqueue(client, *args)`` against the configured queue, from a web request or a
    job; False when there is no queue or it cannot be reached (the cron schedule then
    picks the work up once it can)."""
    from .config import mask_url

    if not settings.redis_url:
        return False
    try:
        return enqueue(connect(settings.redis_url), *args)
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
