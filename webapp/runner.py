"""``streamdesk run`` and ``streamdesk web``: the web server, with or without its helpers.

``run`` is everything in one terminal, for the embedded default: it migrates, creates the
first admin, starts an embedded Valkey server when ``REDIS_URL`` is not set, a worker
process beside the web server, and stops them all on Ctrl-C. ``web`` is the web server
alone, for team installs whose workers run elsewhere against the same ``REDIS_URL``.

Both serve through waitress, a production WSGI server (werkzeug's is for development).
"""
from __future__ import annotations

import os
import signal
import sys

import click

from . import accesslog, queue
from .accounts import AccountError, ensure_first_admin
from .config import Settings, is_sandbox, load_settings, mask_url
from .db import DatabaseError, check_connection, migrate, open_database
from .embedded import EmbeddedValkey, EmbeddedValkeyError
from .plugins import PluginError, Plugins
from .sandbox import start_emulators
from .supervisor import WorkerSupervisor


def run(settings: Settings) -> int:
    """Web server, worker and (without REDIS_URL) embedded Valkey, until Ctrl-C or
    SIGTERM; returns the process exit code."""
    return _serve(settings, with_worker=True)


def web(settings: Settings) -> int:
    """The web server alone, until Ctrl-C or SIGTERM; returns the process exit code.
    Its jobs go to REDIS_URL, where workers started elsewhere take them."""
    if not settings.redis_url:
        click.echo("Error: REDIS_URL is not set: `streamdesk web` serves the web app alone and queues crawls "
                   "for workers on REDIS_URL. Point it at your Redis or Valkey server, or use `streamdesk run` "
                   "for the embedded one.", err=True)
        return 1
    return _serve(settings, with_worker=False)


def _serve(settings: Settings, with_worker: bool) -> int:
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
        first_admin = _first_admin(settings)
    except AccountError as exc:
        click.echo(f"Error: cannot create the first admin: {exc}", err=True)
        return 1
    db.close_all()  # the app opens its own pool

    valkey = worker = server = None
    # SIGTERM (e.g. from a process manager) stops everything like Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C must stop us even when started from a shell that ignores SIGINT (a
    # background job, CI): restore Python's default handler explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        redis_url = settings.redis_url
        if not redis_url:
            try:
                valkey = EmbeddedValkey(settings.instance_path)
            except EmbeddedValkeyError as exc:
                click.echo(f"Error: {exc}", err=True)
                return 1
            redis_url = valkey.url
            click.echo(f"Embedded Valkey server on {redis_url}")
        try:
            queue.connect(redis_url).close()
        except queue.QueueUnavailable as exc:
            click.echo(f"Error: {exc}. Check REDIS_URL, or unset it to use the embedded Valkey server.", err=True)
            return 1
        os.environ["REDIS_URL"] = redis_url
        if is_sandbox(settings, plugins.services):
            for emulator in start_emulators(plugins.services, settings.public_url):
                click.echo(f"Sandbox: {emulator.service} emulator on {emulator.url}")
            if not with_worker:
                click.echo("Note: the sandbox emulators live in this process; workers started elsewhere do not "
                           "see them. Use `streamdesk run` to try Streamdesk out.")
        # Read again: the queue URL and the sandbox's provider settings are now set.
        settings = load_settings()
        from . import create_app

        app = create_app(settings, plugins)
        try:
            server = make_server(app, settings)
        except OSError:
            click.echo(f"Error: cannot listen on {settings.host}:{settings.port}. "
                       "Set PORT to use another port.", err=True)
            return 1
        if with_worker:
            # The worker starts once the port is ours, so a failed start leaves nothing
            # behind; it is restarted whenever it dies, and each restart says why.
            worker = WorkerSupervisor([sys.executable, "-m", "worker"], dict(os.environ),
                                      on_event=lambda message: click.echo(message, err=True)).start()
        click.echo(f"Database: {mask_url(settings.database_url)}")
        if not settings.database_url.startswith("sqlite:") and not settings.environ.get("TOKEN_KEY"):
            click.echo("Note: TOKEN_KEY and SECRET_KEY come from the instance folder here. Workers on other "
                       "machines need the same values: set both in their environment.")
        lines = [f"Streamdesk is running on http://{settings.host}:{settings.port}"
                 f"{' (sandbox mode)' if app.config['SANDBOX'] else ''}"
                 f"{'' if with_worker else ' — web server only: start workers with python -m worker'}"]
        if first_admin:
            lines += [f"Log in as {first_admin[0]}"]
            if first_admin[1]:
                # Printed once, never stored in clear: the hash is all the database keeps.
                lines += [f"password: {first_admin[1]}   (shown only now; change it in Personal settings)"]
        click.echo(boxed(lines + ["Press Ctrl-C to stop."]))
        if app.config["SANDBOX"]:
            _subscribe_sandbox_webhooks(settings)
        server.run()  # returns on Ctrl-C: waitress closes itself on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not cut the clean-up short (and leave processes behind).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if server is not None:
            click.echo("\nStopping…")
        if worker is not None:
            worker.stop()
        if valkey is not None:
            valkey.stop()
    return 0


def _subscribe_sandbox_webhooks(settings: Settings) -> None:
    """Once the server answers, the emulators verify and subscribe its webhook URLs (in
    a thread: the server must be running to answer their verification)."""
    import threading

    from .sandbox import subscribe_webhooks

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{host}:{settings.port}"

    def _subscribe():
        subscribed = subscribe_webhooks(settings, base)
        if subscribed:
            click.echo(f"Sandbox: real-time webhooks on for {', '.join(subscribed)}", err=True)

    threading.Thread(target=_subscribe, name="sandbox-webhooks", daemon=True).start()


def make_server(app, settings: Settings):
    """A waitress server for ``app`` bound to HOST:PORT with WEB_THREADS threads, its
    access log on stderr; raises OSError when the address cannot be had."""
    from waitress.server import create_server

    accesslog.enable()
    # No trusted_proxy here: X-Forwarded-* is applied once, by the app's ProxyFix
    # (TRUSTED_PROXIES), so waitress must pass those headers through untouched.
    return create_server(accesslog.AccessLog(app), host=settings.host, port=settings.port,
                         threads=settings.web_threads, ident="waitress")


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _first_admin(settings: Settings) -> tuple[str, str | None] | None:
    """Create the first account and admin on an empty database: its e-mail and the
    generated password (None when ADMIN_PASSWORD gave one), or None when users exist."""
    created = ensure_first_admin(settings.environ.get("ADMIN_EMAIL"), settings.environ.get("ADMIN_PASSWORD"))
    if not created:
        return None
    user, generated = created
    click.echo(f"Created the first account and its admin: {user.email}")
    return user.email, generated


def boxed(lines: list[str]) -> str:
    """``lines`` in a frame, so what a newcomer needs stands out from the start-up output."""
    width = max(len(line) for line in lines)
    rule = "─" * (width + 2)
    return "\n".join([f"┌{rule}┐", *(f"│ {line.ljust(width)} │" for line in lines), f"└{rule}┘"])
