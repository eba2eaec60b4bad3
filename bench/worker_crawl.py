"""A big Facebook page crawled by a real ``worker.py --burst`` process: the Facebook
emulator served over HTTP with ``posts`` posts on Bluebird Coffee's page, an embedded
Valkey, a scratch database holding an authorized stream of that page with its page
token, and its crawl job queued. Shared by the ingest and worker-RSS benchmarks.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PAGE = "104729384756102"  # Bluebird Coffee in the emulator's seed
ADMIN = "10158372947561023"  # its admin
#: The control API adds at most this many posts per call.
BULK_MAX = 50_000


@dataclass
class Stage:
    """What a crawl bench needs: the emulator, the page token, the worker's environment."""

    emulator_url: str
    page_token: str
    scopes: tuple[str, ...]
    env: dict[str, str]

    def control(self, method: str, path: str, **body) -> dict:
        """A call to the emulator's control API."""
        response = requests.request(method, f"{self.emulator_url}/_control/{path}", json=body or None, timeout=120)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def stage(tmp: Path, posts: int) -> Iterator[Stage]:
    """The emulator with a ``posts``-post page, a page token for it, and an embedded Valkey;
    ``env`` holds the provider settings and ``REDIS_URL`` (``DATABASE_URL`` is per run)."""
    import logging

    import emulators
    from emulators.facebook import sandbox_config
    from plugins.facebook.rules import SCOPES
    from webapp.embedded import EmbeddedValkey

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per Graph call
    running = emulators.start("facebook")
    valkey = EmbeddedValkey(tmp / "valkey")
    try:
        config = sandbox_config(running.url)
        st = Stage(running.url, "", tuple(SCOPES) + ("task:MANAGE",), {
            "SANDBOX": "1", "REDIS_URL": valkey.url, "FACEBOOK_CLIENT_ID": config.client_id,
            "FACEBOOK_CLIENT_SECRET": config.client_secret, "FACEBOOK_API_URL": config.api_url,
            "FACEBOOK_AUTH_URL": config.auth_url})
        st.control("POST", "reset")
        missing = posts - len(st.control("GET", f"posts?page_id={PAGE}")["posts"])
        while missing > 0:
            count = min(missing, BULK_MAX)
            st.control("POST", "posts/bulk", page_id=PAGE, count=count, oldest_days=730, newest_days=0.01)
            missing -= count
        token = st.control("POST", "tokens", user_id=ADMIN, permissions=list(SCOPES))["access_token"]
        accounts = requests.get(f"{config.api_url}/me/accounts", params={"access_token": token}, timeout=30).json()
        st.page_token = next(a["access_token"] for a in accounts["data"] if a["id"] == PAGE)
        yield st
    finally:
        valkey.stop()
        running.stop()


def queue_crawl(st: Stage, instance: Path, database_url: str) -> dict[str, str]:
    """Migrate ``database_url``, store the page's authorized stream (as linking it would)
    and queue its crawl; returns the worker's environment."""
    from webapp import create_app, crawl, queue
    from webapp.accounts import create_account
    from webapp.config import load_settings
    from webapp.db import migrate
    from webapp.models import Stream, Topic, TopicStream

    env = {**st.env, "STREAMDESK_INSTANCE": str(instance), "DATABASE_URL": database_url}
    app = create_app(load_settings(env))
    db = app.extensions["streamdesk.db"]
    with db.connection_context():
        migrate(db)
        account = create_account("Bench")
        topic = Topic.create(account=account, name="Our pages")
        stream = Stream.create(account=account, service="facebook", page_id=PAGE, name="Bluebird Coffee",
                               authorized=True, access_token=st.page_token, scopes=",".join(st.scopes))
        TopicStream.create(topic=topic, stream=stream)
        with queue.connected(st.env["REDIS_URL"]) as client:
            assert crawl.enqueue_crawl(client, stream.id, stream.job_key)
    db.close_all()
    return env


def queue_noop(st: Stage, instance: Path, database_url: str) -> dict[str, str]:
    """Migrate ``database_url`` and queue one heartbeat (a job that only writes a row)."""
    from rq import Queue

    from webapp import create_app, queue
    from webapp.config import load_settings
    from webapp.db import migrate

    env = {**st.env, "STREAMDESK_INSTANCE": str(instance), "DATABASE_URL": database_url}
    app = create_app(load_settings(env))
    db = app.extensions["streamdesk.db"]
    with db.connection_context():
        migrate(db)
    db.close_all()
    with queue.connected(st.env["REDIS_URL"]) as client:
        Queue("default", connection=client).enqueue("webapp.jobs.heartbeat", "bench", job_id="heartbeat-bench")
    return env


@dataclass
class WorkerRun:
    """A burst worker's figures."""

    stored_after: float  # seconds from the worker's start until the stories were stored
    seconds: float       # until it exited
    peak_rss_mb: float   # the largest of the worker and its work-horses
    started_after: float = 0.0  # seconds from the worker's start until the crawl job started
    calls: int | None = None    # the Graph calls the emulator had served when the stories were stored

    @property
    def crawl_seconds(self) -> float:
        """The crawl itself: from the job's start until its stories were stored."""
        return self.stored_after - self.started_after


def run_worker(env: dict[str, str], stories: int | None = None, calls=None) -> WorkerRun:
    """Run ``worker.py --burst --no-cron`` to its end; time until the stream's crawl job
    starts (its status leaves "queued": the worker's start-up) and until it holds
    ``stories`` stories (both polled), and the peak RSS over the worker and the
    work-horses it forked (:class:`PeakRss`). ``calls()``, asked when the stories are
    stored, gives the provider calls made by then."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env.update(env, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "worker", "--burst", "--no-cron"], cwd=ROOT, env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = PeakRss(proc.pid)
    peak.start()
    stored = None
    if stories:
        stored = _until_stored(env["DATABASE_URL"], stories, proc, start)
    made = calls() if calls is not None and stored is not None else None
    errors = proc.stderr.read()
    proc.wait()
    peak.stop.set()
    peak.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or "Traceback" in errors:
        raise RuntimeError(f"the worker failed ({proc.returncode}): {errors[-2000:]}")
    if stories and stored is None:
        raise RuntimeError(f"the worker ended before {stories:,} stories were stored: {errors[-2000:]}")
    started_after, stored_after = stored or (0.0, seconds)
    return WorkerRun(stored_after, seconds, peak.mb, started_after, made)


class PeakRss(threading.Thread):
    """The largest ``VmHWM`` (peak resident set) of a process and its descendants,
    sampled every few milliseconds while they run.

    Not ``wait4``'s ``ru_maxrss``: Python starts a child with vfork, so the child's
    record starts at the *parent's* peak (this benchmark's process, emulator and all),
    and every worker then looked as large as the benchmark."""

    def __init__(self, pid: int, every: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.every, self.mb, self.stop = pid, every, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self._tree(self.pid):
                self.mb = max(self.mb, self._hwm_mb(pid))
            self.stop.wait(self.every)

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    for child in children.read().split():
                        pids += self._tree(int(child))
        except OSError:  # it ended meanwhile
            pass
        return pids

    @staticmethod
    def _hwm_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def _until_stored(database_url: str, stories: int, proc, start: float) -> tuple[float, float] | None:
    """Seconds from ``start`` (the worker's launch) until the stream's crawl started (its
    status left "queued") and until its story_count reached ``stories``; None when the
    worker ends first. Looks every 10 ms until the crawl starts, then every 50 ms."""
    from bench.scratch import raw_connection

    conn = raw_connection(database_url)
    started = None
    try:
        while True:
            cur = conn.cursor()
            cur.execute("SELECT COALESCE(MAX(story_count), 0), MIN(status) FROM stream")
            stored, status = cur.fetchone()
            conn.rollback()  # a fresh snapshot on the next look
            now = time.perf_counter() - start
            if started is None and status != "queued":
                started = now
            if stored >= stories:
                return (started if started is not None else now), now
            if proc.poll() is not None:
                return None
            time.sleep(0.05 if started is not None else 0.01)
    finally:
        conn.close()
