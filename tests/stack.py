"""`streamdesk run` as a test fixture: the whole stack in its own process group."""
from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time

import requests
from conftest import STREAMDESK, subprocess_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: An access log line of a request that went well: ``… "GET /x HTTP/1.1" 200 512``.
ACCESS_OK = re.compile(r'" (200|304) (\d+|-)$')


class Run:
    """`streamdesk run` (or another serving ``command``, such as ``web``) in its own
    process group, its output read line by line."""

    def __init__(self, environ, cwd, command: str = "run", **extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([STREAMDESK, command], cwd=cwd, start_new_session=True,
                                     env=subprocess_env(environ, PORT=str(self.port), **extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"{pattern!r} not printed; output:\n{''.join(self.output)}")

    def log(self) -> str:
        """Everything printed so far but the access log (shown when a test fails)."""
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(line for line in self.output if not ACCESS_OK.search(line))

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the whole foreground process group, as a terminal does."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=40)
        self.wait_for("Stopping", timeout=5)
        return code



def log_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.url.endswith("/topics"), response.text
    return session


def processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds ``marker`` (e.g. STREAMDESK_INSTANCE=…):
    the runner's children in any process group or session, Valkey included."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry))
    return found


def wait_until_gone(marker: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)):
        assert time.monotonic() < deadline, f"processes outlived the stack: {left}"
        time.sleep(0.2)
