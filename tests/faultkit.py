"""Helpers for the fault tests: a worker whose output goes to a file, its work-horse,
killing every process of a test by its marker, a Facebook stream with a real page token,
and the comparison of what a crawl stored with what the emulator holds."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import requests
from conftest import subprocess_env
from plugins.facebook.rules import SCOPES
from stack import processes_with

from webapp.models import Comment, Message, Story, Stream, TopicStream

ALEX = "10158372947561023"      # admin of Bluebird Coffee
SAM = "10223948576610234"       # admin of Riverside Bikes
BLUEBIRD = "104729384756102"
RIVERSIDE = "108374650192837"
TASKS = ("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE")


def marker_of(environ: dict) -> str:
    """What every process of a test's stack carries in its environment."""
    return f"STREAMDESK_INSTANCE={environ['STREAMDESK_INSTANCE']}"


def start_worker(environ: dict, redis_url: str, cwd, *args, **extra) -> tuple[subprocess.Popen, str]:
    """``python -m worker`` with its output in a file (a pipe nobody reads would fill up
    and stall a worker that logs 20 killed work-horses); returns the process and the path."""
    log = os.path.join(cwd, f"worker-{time.monotonic_ns()}.log")
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "worker", *args], cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT, env=subprocess_env(environ, REDIS_URL=redis_url, **extra))
    return proc, log


def kill_marked(marker: str, timeout: float = 20) -> None:
    """SIGKILL every process carrying ``marker`` until none is left: a worker outliving
    its test would take the next test's jobs."""
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)):
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert time.monotonic() < deadline, f"processes survived SIGKILL: {left}"
        time.sleep(0.1)


def _stat(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def horse_of(worker_pid: int) -> int | None:
    """The worker's work-horse: RQ forks it into a process group of its own (the
    scheduler and the cron process stay in the worker's)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(int(entry))
        if len(stat) > 2 and stat[0] != "Z" and int(stat[1]) == worker_pid and int(stat[2]) == int(entry):
            return int(entry)
    return None


def page_token(graph_url: str, control, page_id: str, user_id: str) -> str:
    """The page token Graph gives ``user_id`` for ``page_id`` (through /me/accounts)."""
    user = control("facebook", "POST", "/tokens", user_id=user_id, permissions=list(SCOPES))["access_token"]
    accounts = requests.get(f"{graph_url}/v25.0/me/accounts", headers={"Authorization": f"Bearer {user}"},
                            timeout=10)
    return next(a["access_token"] for a in accounts.json()["data"] if a["id"] == page_id)


def authorized_stream(topic, token: str, page_id: str, name: str) -> Stream:
    """A Facebook stream of an owned page, with its page token as linking stores it."""
    stream = Stream.create(account=topic.account_id, service="facebook", page_id=page_id, name=name, authorized=True,
                           access_token=token, scopes=",".join((*SCOPES, *(f"task:{t}" for t in TASKS))))
    TopicStream.create(topic=topic, stream=stream)
    return stream


@dataclass
class Tally:
    """One kind of row: how many the emulator holds, how many were stored, how many of
    those are extra copies, and which are missing or unknown to the emulator."""

    kind: str
    expected: int
    stored: int
    duplicates: int
    missing: set
    unknown: set

    def __str__(self) -> str:
        return (f"{self.kind}: expected {self.expected}, stored {self.stored}, duplicates {self.duplicates}, "
                f"missing {len(self.missing)}, unknown {len(self.unknown)}")


def compare(stream: Stream, truth: dict[str, list[str]]) -> list[Tally]:
    """What the database holds for ``stream`` against the emulator's ids (see
    ``GET /_control/pages/<id>/content``)."""
    tallies = []
    for kind, model in (("stories", Story), ("comments", Comment), ("messages", Message)):
        stored = [row.external_id for row in model.select(model.external_id).where(model.stream == stream.id)]
        want = set(truth[kind])
        tallies.append(Tally(kind, len(want), len(stored), len(stored) - len(set(stored)),
                             want - set(stored), set(stored) - want))
    return tallies


def tail(path: str, lines: int = 60) -> str:
    """The end of a worker's log, for a failing assertion's message."""
    with open(path, errors="replace") as fh:
        return "".join(fh.readlines()[-lines:])
