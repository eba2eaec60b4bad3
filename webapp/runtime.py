"""The worker's runtime: what every job of a worker process shares, loaded once, and
fresh credentials for the provider calls that crawl and metrics jobs make.

A worker's parent process calls :func:`prepare_worker` before it forks: the settings,
the plugins, the token keys, the database object and the job modules are then inherited
by each job's work-horse instead of being loaded again per job. The connections are not:
a job opens its own database connection (RQ forks per job, and a connection must never
be shared across a fork); a Redis client notices the fork and reconnects by itself.
"""
from __future__ import annotations

import datetime
import gc
import importlib
import logging
from functools import lru_cache

import peewee
from rq import get_current_job
from streamdesk_contract.errors import RateLimited, TokenExpired
from streamdesk_contract.values import Credentials

from . import crypto, queue
from .config import load_settings
from .db import database, open_database
from .prepared import build_all
from .models import ConnectedProfile, Stream, token_columns, utcnow
from .pauses import Pauses
from .pauses import scopes as pause_scopes
from .plugins import Plugins
from .streams import Runtime

log = logging.getLogger(__name__)

#: Refresh a token this long before it expires.
REFRESH_MARGIN = datetime.timedelta(minutes=10)
#: The modules whose functions are jobs: imported by the parent, not by every job.
JOB_MODULES = ("webapp.jobs", "webapp.crawl", "webapp.metrics", "webapp.renewal", "webapp.send",
               "webapp.webhooks", "webapp.realtime", "webapp.reports")

#: The database object of a prepared worker process (None: open it per job).
_prepared_database: peewee.Database | None = None


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """Settings and plugins of this worker process, loaded once."""
    return Runtime(load_settings(), Plugins())


def prepare_worker() -> peewee.Database:
    """Load, in a worker's parent process before it forks, what its jobs share: the
    settings, the plugins, the token keys, the (unconnected) database and the job
    modules. Returns the database; raises ConfigError or PluginError as loading does."""
    global _prepared_database
    rt = runtime()
    crypto.init(rt.settings.token_keys)
    _prepared_database = open_database(rt.settings.database_url)
    for name in JOB_MODULES:
        importlib.import_module(name)
    build_all()  # the SQL every job runs, built once here, not in every work-horse
    shared_pauses(rt.settings.redis_url)
    # What is loaded now is kept for the process's life: frozen, the garbage collector
    # leaves it alone. Else a work-horse's first collection walks every object the
    # parent holds and writes to each page it touches, copying the parent's memory into
    # each forked job (idle re-crawl jobs ran at 11/s instead of 28/s).
    gc.collect()
    gc.freeze()
    return _prepared_database


def job_database() -> peewee.Database:
    """The database a job connects to: the prepared worker's, else one opened from the
    configuration now (a job run outside a worker, e.g. by a test or by hand)."""
    if _prepared_database is not None:
        # database.obj, not the prepared object itself: in a forked work-horse the proxy
        # holds the child's own pool for the same database (see db._after_fork_in_child).
        return database.obj
    settings = load_settings()
    crypto.init(settings.token_keys)
    return open_database(settings.database_url)


def with_fresh_credentials(rt: Runtime, stream: Stream, call):
    """``call(credentials)`` with the stream's token, refreshed when due — every
    provider call of a crawl or metrics job goes through here.

    While the service or this token is paused by a rate limit (told to any job, in any
    worker), nothing is called: RateLimited is raised at once. A rate limit met here
    pauses the others in turn. A rotating-token service may refuse an access token
    before its stated expiry: then one forced refresh and one more try; TokenExpired
    escapes only if that fails too.
    """
    pauses = _job_pauses(rt.settings.redis_url)
    keys = pause_scopes(stream.service, stream.credentials)
    pauses.check(keys, rt.label(stream.service))
    try:
        try:
            return call(_fresh_credentials(rt, stream))
        except TokenExpired:
            if not _refreshable(rt, stream):
                raise
            return call(_fresh_credentials(rt, stream, force=True))
    except RateLimited as exc:
        pauses.record(keys, exc)
        raise


def _job_pauses(redis_url: str | None) -> Pauses:
    """The pauses, read through the current RQ job's own Redis connection when there is
    one: a worker takes its jobs from REDIS_URL's server, where the pauses are shared,
    and a forked work-horse has that connection open already. Its own client would
    connect again in every work-horse, a round trip or three per job."""
    job = get_current_job()
    if job is not None and redis_url:
        return Pauses(job.connection)
    return shared_pauses(redis_url)


@lru_cache(maxsize=4)
def shared_pauses(redis_url: str | None) -> Pauses:
    """The rate-limit pauses of this process's queue server (none without one)."""
    if not redis_url:
        return Pauses(None)
    try:
        return Pauses(queue.connect(redis_url))
    except queue.QueueUnavailable as exc:
        log.warning("rate-limit pauses are not shared: %s", exc)
        return Pauses(None)


def _refreshable(rt: Runtime, stream: Stream) -> bool:
    credentials = stream.credentials
    return bool(credentials and credentials.refresh_token
                and rt.plugins.supports(stream.service, "streamdesk_refresh"))


def _fresh_credentials(rt: Runtime, stream: Stream, force: bool = False) -> Credentials | None:
    """The stream's credentials, refreshed first when they are about to expire (or when
    ``force`` is set). A refreshed token and its rotated refresh token are stored
    before they are used, so a crash cannot lose the only valid refresh token.
    """
    credentials = stream.credentials
    if not _refreshable(rt, stream):
        return credentials
    due = credentials.expires_at is not None and credentials.expires_at - REFRESH_MARGIN <= utcnow()
    if not (force or due):
        return credentials
    try:
        fresh = rt.call("streamdesk_refresh", stream.service, credentials=credentials)
    except TokenExpired:
        # Refresh tokens rotate: another crawl sharing this profile may have used ours a
        # moment ago. Its fresh token is then in the database, and nothing expired.
        current = Stream.get_by_id(stream.id).credentials
        if current is None or current.refresh_token == credentials.refresh_token:
            raise
        return current
    if fresh is None:
        return credentials
    columns = token_columns(fresh)
    # Services that do not rotate refresh tokens return none: keep the one we have.
    columns["refresh_token"] = fresh.refresh_token or credentials.refresh_token
    columns["scopes"] = columns["scopes"] or ",".join(credentials.scopes)
    if stream.access_token:
        Stream.update(**columns).where(stream.this()).execute()
        for name, value in columns.items():
            setattr(stream, name, value)
    elif stream.connected_profile_id is not None:
        ConnectedProfile.update(updated_at=utcnow(), **columns).where(
            ConnectedProfile.id == stream.connected_profile_id).execute()
    return fresh
