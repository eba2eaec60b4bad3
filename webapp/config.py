"""Configuration from the environment (and an optional ``.env`` file).

Nothing needs to be configured: secrets are generated once into the instance folder,
the database defaults to a SQLite file there and the queue to an embedded Valkey
server. Every value is validated here so that a typo ends in one clear console line,
not a traceback.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """A configuration value is unusable; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one process."""

    instance_path: Path
    secret_key: str
    token_keys: tuple[str, ...]
    database_url: str
    redis_url: str | None  # None: start the embedded Valkey server
    smtp_url: str | None
    mail_from: str
    host: str
    port: int
    sandbox: bool | None  # None: decided by whether provider credentials are set
    public_url: str  # how people reach this installation (links in e-mails)
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers count
    crawl_interval: int = 300  # seconds between two crawls of an up-to-date stream
    # A stream whose page webhooks are healthy is crawled this often instead (the net
    # for what a webhook missed); healthy means a delivery or a successful subscription
    # within realtime_silence seconds, on an endpoint whose verification passed.
    realtime_crawl_interval: int = 3600
    realtime_silence: int = 86400
    web_threads: int = 8  # requests the web server handles at once (one database connection each)
    environ: dict[str, str] = field(default_factory=dict, repr=False)

    def provider_value(self, service: str, key: str) -> str:
        """A provider setting such as ``FACEBOOK_CLIENT_ID`` (empty when unset)."""
        return self.environ.get(f"{service.upper().replace('-', '_')}_{key}", "").strip()


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the configuration; raises ConfigError with a clear message."""
    if environ is None:
        _load_dotenv()
        environ = dict(os.environ)
    instance = Path(environ.get("STREAMDESK_INSTANCE") or Path.cwd() / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    database_url = environ.get("DATABASE_URL", "").strip() or f"sqlite:///{instance / 'streamdesk.db'}"
    redis_url = environ.get("REDIS_URL", "").strip() or None
    smtp_url = environ.get("SMTP_URL", "").strip() or None
    validate_database_url(database_url)
    if redis_url:
        validate_redis_url(redis_url)
    if smtp_url:
        validate_smtp_url(smtp_url)
    return Settings(
        instance_path=instance,
        secret_key=environ.get("SECRET_KEY") or _instance_secret(instance / "secret_key", _new_secret),
        token_keys=_token_keys(environ.get("TOKEN_KEY"), instance),
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=smtp_url,
        mail_from=environ.get("MAIL_FROM", "Streamdesk <streamdesk@localhost>"),
        host=environ.get("HOST", "127.0.0.1"),
        port=_port(environ.get("PORT", "5000")),
        sandbox=_tristate("SANDBOX", environ.get("SANDBOX")),
        public_url=(environ.get("PUBLIC_URL") or f"http://{environ.get('HOST', '127.0.0.1')}:"
                    f"{environ.get('PORT', '5000')}").rstrip("/"),
        trusted_proxies=_count("TRUSTED_PROXIES", environ.get("TRUSTED_PROXIES", "0")),
        crawl_interval=crawl_interval(environ.get("CRAWL_INTERVAL", "")),
        realtime_crawl_interval=crawl_interval(environ.get("REALTIME_CRAWL_INTERVAL", ""), 3600,
                                               name="REALTIME_CRAWL_INTERVAL"),
        realtime_silence=crawl_interval(environ.get("REALTIME_SILENCE", ""), 86400, name="REALTIME_SILENCE"),
        web_threads=_web_threads(environ.get("WEB_THREADS", "")),
        environ=environ,
    )


def _load_dotenv() -> None:
    from dotenv import load_dotenv

    # Real environment variables win over the file, as twelve-factor tools expect.
    load_dotenv(Path.cwd() / ".env", override=False)


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


def _instance_secret(path: Path, make) -> str:
    """Read a secret from the instance folder, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _token_keys(value: str | None, instance: Path) -> tuple[str, ...]:
    # Several comma-separated keys allow rotation: the first encrypts, all decrypt.
    if value:
        keys = tuple(k.strip() for k in value.split(",") if k.strip())
        for key in keys:
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ConfigError(
                    "TOKEN_KEY must be one or more comma-separated Fernet keys "
                    "(32 url-safe base64-encoded bytes each)."
                ) from None
        return keys
    return (_instance_secret(instance / "token_key", lambda: Fernet.generate_key().decode()),)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a number between 1 and 65535, not {value!r}.")
    return int(value)


def _count(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number (0 when no proxy is in front), not {value!r}.")
    return int(value)


#: The most web server threads: each holds a database connection, and PostgreSQL's
#: default max_connections (100) must leave room for the workers.
MAX_WEB_THREADS = 64


def _web_threads(value: str) -> int:
    text = value.strip()
    if not text:
        return 8
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_WEB_THREADS:
        raise ConfigError(f"WEB_THREADS must be a whole number of threads from 1 to {MAX_WEB_THREADS}, "
                          f"not {text[:20]!r}.")
    return int(text)


#: The shortest crawl interval: below it a crawl would hardly end before the next began.
MIN_CRAWL_INTERVAL = 10


def crawl_interval(value: str | int | None, default: int = 300, name: str = "CRAWL_INTERVAL") -> int:
    """Seconds between crawls from a setting (CRAWL_INTERVAL, a topic's override, the
    setting ``name``): a whole number of at least MIN_CRAWL_INTERVAL; empty means ``default``."""
    text = str(value if value is not None else "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < MIN_CRAWL_INTERVAL:
        raise ConfigError(f"{name} must be a whole number of seconds, at least {MIN_CRAWL_INTERVAL}, "
                          f"not {text[:20]!r}.")
    return int(text)


def _tristate(name: str, value: str | None) -> bool | None:
    if value is None or value.strip() == "":
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ConfigError(f"{name} must be 1/true/yes or 0/false/no, not {value!r}.")


def _check_port(name: str, url: str) -> None:
    try:
        urlsplit(url).port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise ConfigError(f"{name} {mask_url(url)!r} has an invalid port.") from None


def validate_database_url(url: str) -> None:
    """Accept ``sqlite:///path`` and ``postgresql://user:pass@host:port/db``."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if not parts.path or parts.path == "/":
            raise ConfigError(f"DATABASE_URL {mask_url(url)!r} names no file: use sqlite:////absolute/path.db.")
        return
    if parts.scheme in ("postgres", "postgresql"):
        if not url.startswith(f"{parts.scheme}://"):
            raise ConfigError(f"DATABASE_URL {mask_url(url)!r} is malformed: use postgresql://user@host/dbname.")
        _check_port("DATABASE_URL", url)
        if not parts.path.strip("/"):
            raise ConfigError(f"DATABASE_URL {mask_url(url)!r} names no database: use postgresql://user@host/dbname.")
        return
    raise ConfigError(
        f"DATABASE_URL {mask_url(url)!r} is not supported: use sqlite:///path/to/file.db "
        "or postgresql://user:password@host:5432/dbname."
    )


def validate_redis_url(url: str) -> None:
    """Accept ``redis://``, ``rediss://`` and ``unix://`` URLs."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix", "valkey", "valkeys"):
        raise ConfigError(
            f"REDIS_URL {mask_url(url)!r} is not supported: use redis://host:6379/0 "
            "(or leave it unset for the embedded Valkey server)."
        )
    _check_port("REDIS_URL", url)
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"REDIS_URL {mask_url(url)!r} names no host: use redis://host:6379/0.")


def validate_smtp_url(url: str) -> None:
    """Accept ``smtp://user:pass@host:port`` and ``smtps://…`` (implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"SMTP_URL {mask_url(url)!r} is not supported: use smtp://user:password@host:587.")
    _check_port("SMTP_URL", url)


def mask_url(url: str) -> str:
    """Hide the password of a URL: ``postgresql://u:****@host/db``."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return re.sub(r":[^:@/]+@", ":****@", url)


def mask(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    return "(not set)" if not value else "**** (set)"


def describe(settings: Settings, services=()) -> list[tuple[str, str]]:
    """The effective configuration as (name, value) rows, secrets masked."""
    rows = [
        ("instance folder", str(settings.instance_path)),
        ("SECRET_KEY", mask(settings.secret_key)),
        ("TOKEN_KEY", mask(",".join(settings.token_keys))),
        ("DATABASE_URL", mask_url(settings.database_url)),
        ("REDIS_URL", mask_url(settings.redis_url) if settings.redis_url else "(embedded Valkey server)"),
        ("SMTP_URL", mask_url(settings.smtp_url) if settings.smtp_url else "(not set: e-mail is logged, not sent)"),
        ("MAIL_FROM", settings.mail_from),
        ("HOST:PORT", f"{settings.host}:{settings.port}"),
        ("PUBLIC_URL", settings.public_url),
        ("TRUSTED_PROXIES", str(settings.trusted_proxies)),
        ("CRAWL_INTERVAL", f"{settings.crawl_interval} s"),
        ("REALTIME_CRAWL_INTERVAL", f"{settings.realtime_crawl_interval} s"),
        ("WEB_THREADS", str(settings.web_threads)),
        ("sandbox mode", "on" if is_sandbox(settings, services) else "off"),
    ]
    for service in services:
        prefix = service.upper().replace("-", "_")
        rows.append((f"{prefix}_CLIENT_ID", settings.provider_value(service, "CLIENT_ID") or "(not set)"))
        rows.append((f"{prefix}_CLIENT_SECRET", mask(settings.provider_value(service, "CLIENT_SECRET"))))
        if settings.provider_value(service, "CONSUMER_SECRET"):  # X's webhook signing secret
            rows.append((f"{prefix}_CONSUMER_SECRET", mask(settings.provider_value(service, "CONSUMER_SECRET"))))
        if settings.provider_value(service, "WEBHOOK_VERIFY_TOKEN"):
            rows.append((f"{prefix}_WEBHOOK_VERIFY_TOKEN", mask(settings.provider_value(service, "WEBHOOK_VERIFY_TOKEN"))))
    return rows


def is_sandbox(settings: Settings, services=()) -> bool:
    """Sandbox mode: forced by SANDBOX, else on when no provider credentials are set."""
    if settings.sandbox is not None:
        return settings.sandbox
    return not any(settings.provider_value(s, "CLIENT_ID") for s in services)
