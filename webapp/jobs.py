"""Background jobs. Each job opens its own database connection: RQ forks per job, and
a connection inherited across fork must not be used (see db._after_fork_in_child)."""
from __future__ import annotations

import datetime
import functools
import logging

import redis

from . import queue
from .models import Heartbeat, Stream, utcnow
from .runtime import job_database

log = logging.getLogger(__name__)

#: Seconds between scheduler heartbeats (shown on Account settings → Status).
HEARTBEAT_INTERVAL = 60
#: A heartbeat older than this means no worker has run the scheduler's jobs lately.
HEARTBEAT_STALE = 3 * HEARTBEAT_INTERVAL


def with_database(func):
    """Run ``func`` inside a fresh connection to the configured database, with the
    token keys installed (jobs read encrypted tokens). In a prepared worker the
    database and keys were set up once by the parent process; only the connection is
    the job's own."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        db = job_database()
        try:
            with db.connection_context():
                return func(*args, **kwargs)
        finally:
            # The work-horse ends with os._exit: say goodbye to the server first.
            db.close_all()

    return wrapper


@with_database
def heartbeat(name: str = "scheduler") -> str:
    """Record that the scheduler ran (shown on the admin status page)."""
    return record_heartbeat(name).isoformat()


def record_heartbeat(name: str):
    """Record, on the current connection, that ``name`` happened now; returns when."""
    now = utcnow()
    Heartbeat.insert(name=name, ran_at=now).on_conflict(
        conflict_target=[Heartbeat.name], update={Heartbeat.ran_at: now}
    ).execute()
    return now


def last_seen(name: str = "scheduler"):
    """When a worker last ran the ``name`` heartbeat job (None: never), and whether
    that is recent enough to call the workers alive."""
    beat = Heartbeat.get_or_none(Heartbeat.name == name)
    if beat is None:
        return None, False
    return beat.ran_at, (utcnow() - beat.ran_at).total_seconds() <= HEARTBEAT_STALE


def queue_due(client: redis.Redis, job: queue.StreamJob, next_at, *conditions) -> int:
    """Cron: queue ``job`` for every stream whose ``next_at`` field (``Stream.next_crawl_at``,
    ``Stream.next_metrics_at``) is due and that meets ``conditions``. Returns how many
    were queued.

    The due streams are selected and claimed in one statement: ``next_at`` moves past
    the queued-job TTL, so the next pass skips them, and of two passes running at the
    same moment each claims a stream only once (the database serialises the updates of
    a row). The job sets the real next time when it ends; a job that never ends lets
    its claim run out with its queued record. Should the queue fail half-way, the
    claims go back so that the next pass tries again.
    """
    now = utcnow()
    claimed_until = now + datetime.timedelta(seconds=queue.QUEUED_TTL)
    claimed = list(Stream.update({next_at: claimed_until})
                   .where(*conditions, next_at.is_null() | (next_at <= now))
                   .returning(Stream.id, Stream.job_key).tuples().execute())
    try:
        return queue.enqueue_streams(client, job, claimed)
    except redis.RedisError:
        ids = [stream_id for stream_id, _ in claimed]
        for i in range(0, len(ids), 500):
            Stream.update({next_at: now}).where(Stream.id.in_(ids[i:i + 500]), next_at == claimed_until).execute()
        raise
