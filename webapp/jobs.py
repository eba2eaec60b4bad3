"""Background jobs. Each job opens its own database connection: RQ forks per job, and
a connection inherited across fork must not be used (see db._after_fork_in_child)."""
from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def claim_due(model, due, *conditions, columns=(), unset_is_due: bool = False):
    """Cron: claim the rows of ``model`` whose ``due`` field (``Stream.next_crawl_at``,
    ``ReportSchedule.next_send_at``, …) is due and that meet ``conditions``, for the
    block to queue their jobs. Yields the claimed rows as ``(id, *columns)`` tuples;
    ``unset_is_due``: a row whose ``due`` is NULL is due too.

    The due rows are selected and claimed in one statement: ``due`` moves past the
    queued-job TTL, so the next pass skips them, and of two passes running at the same
    moment each claims a row only once (the database serialises the updates of a row).
    The job sets the real next time when it ends; a job that never ends lets its claim
    run out with its queued record. Should queueing fail in the block (RedisError,
    QueueUnavailable), the claims no job has moved since go back, so that the next pass
    tries again, and the error goes on.
    """
    now = utcnow()
    claimed_until = now + datetime.timedelta(seconds=queue.QUEUED_TTL)
    is_due = due <= now
    if unset_is_due:
        is_due = due.is_null() | is_due
    claimed = list(model.update({due: claimed_until}).where(*conditions, is_due)
                   .returning(model.id, *columns).tuples().execute())
    try:
        yield claimed
    except (redis.RedisError, queue.QueueUnavailable):
        ids = [row[0] for row in claimed]
        # In slices: SQLite limits the variables one statement may bind.
        for i in range(0, len(ids), 500):
            model.update({due: now}).where(model.id.in_(ids[i:i + 500]), due == claimed_until).execute()
        raise


def queue_due(client: redis.Redis, job: queue.StreamJob, next_at, *conditions) -> int:
    """Cron: queue ``job`` for every stream whose ``next_at`` field (``Stream.next_crawl_at``,
    ``Stream.next_metrics_at``) is due (or unset: never done) and that meets
    ``conditions``, claimed by :func:`claim_due`. Returns how many were queued."""
    with claim_due(Stream, next_at, *conditions, columns=[Stream.job_key], unset_is_due=True) as claimed:
        return queue.enqueue_streams(client, job, claimed)
