"""An emulator served by a process of its own, for benchmarks that time a worker.

Served from a thread of the measuring process, the emulator competes with the worker
it answers for that process's GIL and CPU: a benchmark then charges the emulator's
work to Streamdesk. A process of its own answers the same HTTP calls without that.
"""
from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator


def _serve(service: str, conn) -> None:
    import logging

    import emulators

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per call
    running = emulators.start(service)
    conn.send(running.url)
    conn.recv()  # until the benchmark is done (or gone: EOFError)
    running.stop()


@contextlib.contextmanager
def emulator_process(service: str) -> Iterator[str]:
    """The URL of ``service``'s emulator, served by a child process while the block runs."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(service, theirs), daemon=True)
    proc.start()
    try:
        if not ours.poll(60):
            raise RuntimeError(f"the {service} emulator did not start")
        yield ours.recv()
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.kill()
