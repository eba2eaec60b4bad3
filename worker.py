"""Start an RQ worker for Streamdesk's queues, and the cron schedule beside it.

Run any number of these on any number of machines against the same ``REDIS_URL`` and
``DATABASE_URL``; give ``--no-cron`` to all but one so scheduled jobs run once.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from webapp.jobs import HEARTBEAT_INTERVAL

#: Seconds between two looks for tokens that expire soon (their owners are warned).
RENEWAL_INTERVAL = 3600
#: Seconds between two prunings of old metric snapshots (webapp/history.py).
PRUNE_INTERVAL = 86400
#: Seconds between two looks for streams whose next crawl (or metrics refresh) is due.
DUE_INTERVAL = 30
#: Seconds the cron schedule waits before it tries an unreachable Redis again.
CRON_RETRY = 2


def run_cron(redis_url: str, heartbeat_interval: int = HEARTBEAT_INTERVAL, due_interval: int = DUE_INTERVAL,
             parent: int | None = None) -> None:
    """The cron schedule: enqueues jobs when they are due (RQ's CronScheduler). It ends
    when its ``parent`` process (the worker that started it) ends, however it ends."""
    import redis
    from rq.cron import CronScheduler

    class OnceStoppedScheduler(CronScheduler):
        """RQ's CronScheduler, stopped by the first SIGTERM or SIGINT only.

        A worker's shutdown sends its cron child more than one SIGTERM (the group's, the
        worker's own ``terminate``, the supervisor's last sweep). RQ's handler raises
        StopRequested on each, so a second one, landing while the first shutdown was
        already under way (in ``register_death`` or in the interpreter's exit), printed
        a traceback. After the first, the rest are ignored: the process is already ending.
        """

        def _request_stop(self, signum, frame):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            super()._request_stop(signum, frame)

    from webapp import crawl, history, jobs, metrics, queue, realtime, renewal, reports, send, webhooks

    _exit_with(parent or os.getppid())

    # RQ's CronScheduler ends on the first Redis error: without this loop a Redis or
    # Valkey restart would stop every scheduled crawl until someone restarts the worker.
    while True:
        try:
            scheduler = OnceStoppedScheduler(connection=queue.connect(redis_url), logging_level=logging.WARNING)
            scheduler.register(jobs.heartbeat, queue_name="default", interval=heartbeat_interval)
            scheduler.register(crawl.enqueue_due_crawls, queue_name="default", interval=due_interval)
            scheduler.register(metrics.enqueue_due_metrics, queue_name="default", interval=due_interval)
            scheduler.register(send.enqueue_waiting_actions, queue_name="default", interval=due_interval)
            scheduler.register(renewal.warn_expiring_profiles, queue_name="default", interval=RENEWAL_INTERVAL)
            scheduler.register(webhooks.sweep, queue_name="default", interval=due_interval)
            scheduler.register(history.prune_snapshots, queue_name="default", interval=PRUNE_INTERVAL)
            scheduler.register(reports.enqueue_due_reports, queue_name="default", interval=due_interval)
            scheduler.register(realtime.requeue_lost, queue_name="default", interval=due_interval)
            scheduler.start()
            return  # stopped by a signal
        except (queue.QueueUnavailable, redis.ConnectionError, redis.TimeoutError) as exc:
            print(f"worker: the cron schedule lost Redis ({exc}); starting it again in {CRON_RETRY} s",
                  file=sys.stderr, flush=True)
            time.sleep(CRON_RETRY)


def _exit_with(parent: int) -> None:
    """End this process when ``parent`` ends, however it ends: a worker killed with
    SIGKILL must not leave its cron schedule behind, queueing beside its successor's."""

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    if os.getppid() != parent:  # gone while this process was starting
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, check the configuration, and work until stopped."""
    parser = argparse.ArgumentParser(prog="worker.py", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="Quit when the queues are empty.")
    parser.add_argument("--no-cron", action="store_true", help="Do not run the cron schedule here.")
    parser.add_argument("--heartbeat-interval", type=int, default=HEARTBEAT_INTERVAL)
    parser.add_argument("--due-interval", type=int, default=DUE_INTERVAL,
                        help="Seconds between looks for streams whose next crawl is due.")
    parser.add_argument("--worker-ttl", type=int, default=None,
                        help="Seconds between the worker's heartbeats to the queue when idle (default 60).")
    # How a worker starts its cron schedule beside itself: this command, in a process of its own.
    parser.add_argument("--cron-of", type=int, default=None, metavar="PID", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cron_of is not None:
        run_cron(os.environ["REDIS_URL"], args.heartbeat_interval, args.due_interval, parent=args.cron_of)
        return 0

    from webapp import queue
    from webapp.config import ConfigError, load_settings
    from webapp.db import DatabaseError, check_connection
    from webapp.plugins import PluginError
    from webapp.runtime import prepare_worker

    try:
        settings = load_settings()
        if not settings.redis_url:
            raise ConfigError("REDIS_URL is not set: use `streamdesk run` for the embedded queue, "
                              "or point REDIS_URL at a Redis or Valkey server.")
        client = queue.connect(settings.redis_url)
        # Once, here, before RQ forks a work-horse per job: settings, plugins (a broken
        # one fails now, not in the first crawl), token keys, database, job modules.
        db = prepare_worker()
        check_connection(db)
        # Really closed, not pooled: the work-horses this process forks must inherit none.
        db.close_all()
    except (ConfigError, queue.QueueUnavailable, DatabaseError, PluginError) as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 1

    cron = None
    if not args.no_cron:
        # A new interpreter, not a fork of this one (which holds the worker's Redis
        # connection), and not multiprocessing's spawn either: a spawned child reads its
        # start-up data from this process, and printed an EOFError traceback when this
        # process was killed before it had.
        cron = subprocess.Popen([sys.executable, "-m", "worker", "--cron-of", str(os.getpid()),
                                 "--heartbeat-interval", str(args.heartbeat_interval),
                                 "--due-interval", str(args.due_interval)],
                                env={**os.environ, "REDIS_URL": settings.redis_url})
    try:
        worker = queue.StreamdeskWorker([queue.queue(client, name) for name in queue.QUEUES], connection=client,
                                        worker_ttl=args.worker_ttl)
        worker.work(with_scheduler=True, burst=args.burst, logging_level="WARNING")
    finally:
        if cron is not None:
            cron.terminate()
            try:
                cron.wait(5)
            except subprocess.TimeoutExpired:
                cron.kill()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C while still starting: nothing to clean up yet
        sys.exit(130)
