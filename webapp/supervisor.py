"""Keep ``streamdesk run``'s worker alive: restart it when it dies, with backoff.

Without it, a worker killed by the OOM killer or a stray ``kill -9`` left the web server
running with nobody to crawl, and the streams waited forever.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time

log = logging.getLogger(__name__)

#: Seconds before the first restart; doubled after each quick death, up to MAX_BACKOFF.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
#: A worker that ran this long before dying starts again at FIRST_BACKOFF.
STABLE_AFTER = 60.0


class WorkerSupervisor:
    """Run ``command`` as a worker in its own process group and restart it when it exits.

    ``on_event`` (default: the log) hears each restart and why, in words for people.
    """

    def __init__(self, command: list[str], env: dict, on_event=None, poll: float = 0.5):
        self.command, self.env, self.poll = command, env, poll
        self.on_event = on_event or log.warning
        self.restarts = 0
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> "WorkerSupervisor":
        """Start the worker and the thread that watches it."""
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        # Its own session: its cron child is stopped with it, and a terminal's Ctrl-C
        # reaches it only through stop(), in order.
        with self._lock:
            if not self._stopping.is_set():
                self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)
                self.started_at = time.monotonic()

    def _watch(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping.wait(self.poll):
            process = self.process
            code = process.poll() if process is not None else None
            if code is None:
                continue
            # Whatever the dead worker left in its group (its cron child) goes with it.
            _signal_group(process.pid, signal.SIGKILL)
            if time.monotonic() - self.started_at >= STABLE_AFTER:
                backoff = FIRST_BACKOFF
            self.on_event(f"The worker stopped ({describe_exit(code)}); restarting it in {backoff:g} s.")
            if self._stopping.wait(backoff):
                return
            self.restarts += 1
            self._spawn()
            backoff = min(backoff * 2, MAX_BACKOFF)

    def stop(self) -> None:
        """Stop watching, then stop the worker's process group: a warm shutdown first
        (the job at hand finishes), then a cold one, then SIGKILL."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
        with self._lock:
            stop_group(self.process)


def describe_exit(code: int) -> str:
    """A process's exit code in words: ``killed by SIGKILL``, ``exit code 1``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(process: subprocess.Popen | None) -> None:
    """Stop ``process`` and its process group: SIGTERM twice, then SIGKILL."""
    if process is None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if process.poll() is not None or not _signal_group(process.pid, sig):
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # The cron child may outlive the worker by a moment: the group goes as a whole.
    _signal_group(process.pid, signal.SIGTERM)
