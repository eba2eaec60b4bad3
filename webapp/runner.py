"""``streamdesk run``: everything in one terminal, for the embedded default.

Migrates, creates the first admin, starts an embedded Valkey server when ``REDIS_URL``
is not set, a worker process beside the web server, and stops them all on Ctrl-C.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

import click
from werkzeug.serving import make_server

from . import queue
from .accounts import AccountError, ensure_first_admin
from .config import Settings, mask_url
from .db import DatabaseError, check_connection, migrate, open_database
from .embedded import server_url, start_valkey
from .plugins import PluginError, Plugins


def run(settings: Settings) -> int:
    """Run until Ctrl-C or SIGTERM; returns the process exit code."""
    try:
        plugins = Plugins()
        db = open_database(settings.database_url)
        check_connection(db)
        applied = migrate(db)
    except (PluginError, DatabaseError) as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    if applied:
        click.echo(f"Applied migrations: {', '.join(applied)}")
    try:
        _first_admin(settings)
    except AccountError as exc:
        click.echo(f"Error: cannot create the first admin: {exc}", err=True)
        return 1
    db.close()

    valkey = worker = None
    # SIGTERM (e.g. from a process manager) stops everything like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        redis_url = settings.redis_url
        if not redis_url:
            valkey = start_valkey(settings.instance_path)
            redis_url = server_url(valkey)
            click.echo(f"Embedded Valkey server on {redis_url}")
        try:
            queue.connect(redis_url)
        except queue.QueueUnavailable as exc:
            click.echo(f"Error: {exc}. Check REDIS_URL, or unset it to use the embedded Valkey server.", err=True)
            return 1
        settings = dataclasses.replace(settings, redis_url=redis_url)
        env = dict(os.environ, REDIS_URL=redis_url)
        worker = subprocess.Popen([sys.executable, "-m", "worker"], env=env)
        from . import create_app

        os.environ["REDIS_URL"] = redis_url
        app = create_app(settings, plugins)
        try:
            server = make_server(settings.host, settings.port, app, threaded=True)
        except OSError as exc:
            click.echo(f"Error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}. "
                       "Set PORT to use another port.", err=True)
            return 1
        click.echo(f"Streamdesk is running on http://{settings.host}:{settings.port}"
                   f"{' (sandbox mode)' if app.config['SANDBOX'] else ''} — press Ctrl-C to stop.")
        click.echo(f"Database: {mask_url(settings.database_url)}")
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nStopping…")
    finally:
        _stop(worker)
        if valkey is not None:
            valkey.stop()
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _first_admin(settings: Settings) -> None:
    created = ensure_first_admin(settings.environ.get("ADMIN_EMAIL"), settings.environ.get("ADMIN_PASSWORD"))
    if created:
        user, generated = created
        click.echo(f"Created the first account and its admin: {user.email}")
        if generated:
            # Printed once, never stored in clear: the hash is all the database keeps.
            click.echo(f"  password: {generated}   (shown only now; change it in Personal settings)")


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
