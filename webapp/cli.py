"""The ``streamdesk`` command: run, web, migrate, config, users, plugins, install-assets."""
from __future__ import annotations

import sys

import click

from .config import ConfigError, describe, load_settings


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _plugins():
    from .plugins import PluginError, Plugins

    try:
        return Plugins()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None


def _database(settings, migrate_first: bool = True):
    from .db import DatabaseError, check_connection, migrate, open_database

    db = open_database(settings.database_url)
    try:
        check_connection(db)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    if migrate_first:
        migrate(db)
    return db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Streamdesk: social-media monitoring and engagement for small teams."""


@main.command()
def run():
    """Start web server, worker and (without REDIS_URL) an embedded Valkey server."""
    from .runner import run as run_all

    settings = _settings()
    sys.exit(run_all(settings))


@main.command()
def web():
    """Start the web server alone (team installs: workers run elsewhere on REDIS_URL)."""
    from .runner import web as run_web

    sys.exit(run_web(_settings()))


@main.command()
def migrate():
    """Apply pending database migrations."""
    from .db import migrator

    settings = _settings()
    db = _database(settings, migrate_first=False)
    applied = migrator(db).up()
    click.echo(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}")


@main.command("config")
def show_config():
    """Print the effective configuration, secrets masked."""
    settings = _settings()
    rows = describe(settings, _plugins().services)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name.ljust(width)}  {value}")


@main.command()
def plugins():
    """List provider plugins, their services and declared capabilities."""
    for name, loaded in _plugins().services.items():
        source = loaded.distribution or "registered in code"
        click.echo(f"{loaded.service.label} ({name}) — plugin {loaded.plugin_name!r} from {source}")
        service = loaded.service
        if service.api_version:
            end = service.api_version_end_of_life
            click.echo(f"  API version {service.api_version}"
                       f"{f' (served until {end:%Y-%m-%d})' if end else ' (no end of life announced)'}")
        for capability in loaded.capabilities or ["declared only: no hooks implemented yet"]:
            click.echo(f"  - {capability}")


@main.command()
@click.argument("service")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=int, help="Port to listen on (default: any free port).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="An OAuth callback URL to register (repeatable; default: Streamdesk's under PUBLIC_URL).")
def emulate(service, host, port, redirect_uris):
    """Serve the local emulator of SERVICE's API (facebook, twitter)."""
    import emulators

    from .sandbox import callback_url

    redirect_uris = redirect_uris or (callback_url(_settings().public_url, service),)
    try:
        running = emulators.start(service, host, port, redirect_uris=redirect_uris)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{service} emulator on {running.url} — press Ctrl-C to stop.")
    click.echo(f"Registered callback URLs: {', '.join(redirect_uris)}")
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()


@main.command("install-assets")
def install_assets():
    """Download htmx and Pico CSS from the npm registry (integrity-checked)."""
    from .assets import AssetError, install_all

    try:
        for path in install_all():
            click.echo(f"installed {path}")
    except AssetError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def users():
    """Manage users."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--admin", is_flag=True, help="Make the user an admin of the account.")
@click.option("--account", "account_name", default=None,
              help="Account name (created when missing; default: the only account).")
def users_create(email, password, admin, account_name):
    """Create a user."""
    from .accounts import AccountError, create_account, create_user
    from .db import database
    from .models import Account

    settings = _settings()
    _database(settings)
    try:
        with database.atomic():
            if account_name:
                account = Account.get_or_none(Account.name == account_name) or create_account(account_name)
            else:
                accounts = list(Account.select().limit(2))
                if len(accounts) > 1:
                    raise AccountError("Several accounts exist: name one with --account.")
                account = accounts[0] if accounts else create_account("My team")
            user = create_user(account, email, password, "admin" if admin else "member")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email} in account {account.name!r}")


@users.command("reset-password")
@click.argument("email")
@click.option("--password", default=None, help="The new password (default: a generated one, printed once).")
def users_reset_password(email, password):
    """Give EMAIL a new password and end all its sessions (for a lost admin password)."""
    from .accounts import AccountError, reset_password

    _database(_settings())
    try:
        user, new = reset_password(email, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new password for {user.email}: {new}" if password is None else f"password of {user.email} changed")
    click.echo("Every session of this user has been ended.")


@main.command("crawl")
@click.option("--stream", "stream_id", type=click.IntRange(min=1), help="Crawl this stream.")
@click.option("--topic", "topic_id", type=click.IntRange(min=1), help="Crawl every stream of this topic.")
@click.option("--all", "everything", is_flag=True, help="Crawl every stream of every account.")
def crawl_command(stream_id, topic_id, everything):
    """Crawl streams in the foreground, with a progress bar (expired streams are skipped)."""
    from . import crypto
    from .crawl import crawl
    from .models import Stream, TopicStream
    from .streams import Runtime

    if sum(bool(x) for x in (stream_id, topic_id, everything)) != 1:
        raise click.UsageError("Choose one of --stream ID, --topic ID or --all.")
    settings = _settings()
    _database(settings)
    crypto.init(settings.token_keys)
    rt = Runtime(settings, _plugins())
    query = Stream.select().order_by(Stream.id)
    if stream_id:
        query = query.where(Stream.id == stream_id)
    elif topic_id:
        query = query.join(TopicStream).where(TopicStream.topic == topic_id)
    chosen = list(query)
    if not chosen:
        raise click.ClickException("No stream matches: see the ids on Account settings → Topics.")
    outcomes = []
    with click.progressbar(chosen, label=f"Crawling {len(chosen)} stream{'s' * (len(chosen) > 1)}",
                           item_show_func=lambda s: s.name[:30] if s else "") as bar:
        for stream in bar:
            outcomes.append((stream, crawl(rt, stream)))
    for stream, outcome in outcomes:
        fresh = Stream.get_or_none(Stream.id == stream.id)
        note = f" — {fresh.status_message}" if fresh is not None and fresh.status_message else ""
        click.echo(f"{stream.id:>6}  {stream.name[:40]:<40}  {outcome}{note}")


@main.group()
def webhooks():
    """The raw webhook events Streamdesk keeps (7 days)."""


@webhooks.command("replay")
@click.option("--service", help="Only this service's events (a plugin's service name: facebook, twitter, …).")
@click.option("--hours", type=click.IntRange(min=1), help="Only events received in the last N hours.")
@click.option("--page", "page_id", help="Only the events of this provider page or account id.")
@click.option("--all", "every", is_flag=True,
              help="Processed events too (harmless: rows are upserted by their provider ids).")
def replay_command(service, hours, page_id, every):
    """Process kept events again, in the foreground: by default those that stored
    nothing (dropped: no stream held the page then; failed: the plugin could not read
    them). Use it after adding a page's stream or upgrading a plugin."""
    import datetime

    from . import crypto
    from .models import utcnow
    from .streams import Runtime
    from .webhooks import UNSTORED, process, replayable

    settings = _settings()
    _database(settings)
    crypto.init(settings.token_keys)
    rt = Runtime(settings, _plugins())
    if service and service not in rt.plugins.services:
        raise click.BadParameter(f"no plugin provides {service!r}; the services are: "
                                 f"{', '.join(sorted(rt.plugins.services))}.", param_hint="'--service'")
    since = utcnow() - datetime.timedelta(hours=hours) if hours else None
    statuses = ("pending", "processed", *UNSTORED) if every else UNSTORED
    events = list(replayable(service, since, page_id, statuses))
    if not events:
        raise click.ClickException("No kept event matches: nothing to replay.")
    outcome: dict[str, int] = {}
    with click.progressbar(events, label=f"Replaying {len(events)} event{'s' * (len(events) > 1)}") as bar:
        for event in bar:
            status = process(rt, event)
            outcome[status] = outcome.get(status, 0) + 1
    click.echo(", ".join(f"{count} {status}" for status, count in sorted(outcome.items())))
