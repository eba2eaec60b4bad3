"""The job queue (RQ on Redis or Valkey): connections, queues and their status."""
from __future__ import annotations

import re
from dataclasses import dataclass

import redis
from rq import Queue, Worker

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
