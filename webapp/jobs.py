"""Background jobs. Each job opens its own database connection: RQ forks per job, and
a connection inherited across fork must not be used (see db._after_fork_in_child)."""
from __future__ import annotations

import functools
import logging

from . import crypto
from .config import load_settings
from .db import open_database
from .models import Heartbeat, utcnow

log = logging.getLogger(__name__)

#: Seconds between scheduler heartbeats (shown on Account settings → Status).
HEARTBEAT_INTERVAL = 60
#: A heartbeat older than this means no worker has run the scheduler's jobs lately.
HEARTBEAT_STALE = 3 * HEARTBEAT_INTERVAL


def with_database(func):
    """Run ``func`` inside a fresh connection to the configured database, with the
    token keys installed (jobs read encrypted tokens)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        settings = load_settings()
        crypto.init(settings.token_keys)
        db = open_database(settings.database_url, max_connections=2)
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
    now = utcnow()
    Heartbeat.insert(name=name, ran_at=now).on_conflict(
        conflict_target=[Heartbeat.name], update={Heartbeat.ran_at: now}
    ).execute()
    return now.isoformat()


def last_seen(name: str = "scheduler"):
    """When a worker last ran the ``name`` heartbeat job (None: never), and whether
    that is recent enough to call the workers alive."""
    beat = Heartbeat.get_or_none(Heartbeat.name == name)
    if beat is None:
        return None, False
    return beat.ran_at, (utcnow() - beat.ran_at).total_seconds() <= HEARTBEAT_STALE
