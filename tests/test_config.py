"""Configuration: defaults, generated secrets, validation messages, masking."""
import os
import stat
import subprocess

import pytest

from conftest import STREAMDESK

from webapp.config import ConfigError, describe, is_sandbox, load_settings, mask_url


def test_defaults_use_the_instance_folder(tmp_path):
    settings = load_settings({"STREAMDESK_INSTANCE": str(tmp_path / "inst")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'inst' / 'streamdesk.db'}"
    assert settings.redis_url is None
    assert settings.port == 5000


def test_secrets_are_generated_once_and_private(tmp_path):
    env = {"STREAMDESK_INSTANCE": str(tmp_path)}
    first, second = load_settings(env), load_settings(env)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert first.token_keys == second.token_keys
    for name in ("secret_key", "token_key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600


def test_environment_secrets_win(tmp_path):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    settings = load_settings({"STREAMDESK_INSTANCE": str(tmp_path), "SECRET_KEY": "s" * 40, "TOKEN_KEY": key})
    assert settings.secret_key == "s" * 40 and settings.token_keys == (key,)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("name, value, expected", [
    ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL 'mysql://root@localhost/x' is not supported"),
    ("DATABASE_URL", "postgresql://u:hunter2@host:port/db", "has an invalid port"),
    ("DATABASE_URL", "postgresql://localhost", "names no database"),
    ("DATABASE_URL", "sqlite://", "names no file"),
    ("REDIS_URL", "http://localhost:6379", "REDIS_URL 'http://localhost:6379' is not supported"),
    ("REDIS_URL", "redis://:6379", "names no host"),
    ("SMTP_URL", "mail.example.com", "SMTP_URL 'mail.example.com' is not supported"),
    ("PORT", "eighty", "PORT must be a number"),
    ("SANDBOX", "maybe", "SANDBOX must be"),
    ("TOKEN_KEY", "not-a-key", "TOKEN_KEY must be"),
    ("WEB_THREADS", "0", "WEB_THREADS must be a whole number of threads from 1 to 64, not '0'."),
    ("WEB_THREADS", "500", "not '500'"),
    ("WEB_THREADS", "8.5", "not '8.5'"),
])
def test_bad_values_get_clear_messages(tmp_path, name, value, expected):
    with pytest.raises(ConfigError) as info:
        load_settings({"STREAMDESK_INSTANCE": str(tmp_path), name: value})
    assert expected in str(info.value)
    assert "hunter2" not in str(info.value)


def test_mask_url_hides_passwords():
    assert mask_url("postgresql://app:s3cret@db:5432/sd") == "postgresql://app:****@db:5432/sd"
    assert mask_url("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_sandbox_follows_provider_credentials(tmp_path):
    base = {"STREAMDESK_INSTANCE": str(tmp_path)}
    assert is_sandbox(load_settings(base), ["facebook"]) is True
    assert is_sandbox(load_settings({**base, "FACEBOOK_CLIENT_ID": "123"}), ["facebook"]) is False
    assert is_sandbox(load_settings({**base, "FACEBOOK_CLIENT_ID": "123", "SANDBOX": "yes"}), ["facebook"]) is True


def test_describe_masks_every_secret(tmp_path):
    settings = load_settings({"STREAMDESK_INSTANCE": str(tmp_path), "FACEBOOK_CLIENT_SECRET": "fb-secret-value",
                              "DATABASE_URL": "postgresql://u:dbpass@h/d", "SMTP_URL": "smtp://u:mailpass@h:587"})
    text = "\n".join(f"{k} {v}" for k, v in describe(settings, ["facebook"]))
    for secret in ("fb-secret-value", "dbpass", "mailpass", settings.secret_key, settings.token_keys[0]):
        assert secret not in text
    assert "FACEBOOK_CLIENT_SECRET **** (set)" in text


def test_config_command_prints_masked_configuration(tmp_path):
    env = dict(os.environ, STREAMDESK_INSTANCE=str(tmp_path), TWITTER_CLIENT_SECRET="tw-secret-value",
               REDIS_URL="redis://:redispass@localhost:6379/0")
    out = subprocess.run([STREAMDESK, "config"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "REDIS_URL" in out.stdout and "redis://:****@localhost:6379/0" in out.stdout
    assert "tw-secret-value" not in out.stdout and "redispass" not in out.stdout


def test_config_command_reports_a_malformed_url_on_one_line(tmp_path):
    env = dict(os.environ, STREAMDESK_INSTANCE=str(tmp_path), DATABASE_URL="postgres:/oops")
    out = subprocess.run([STREAMDESK, "config"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == ("Error: DATABASE_URL 'postgres:/oops' is malformed: "
                                  "use postgresql://user@host/dbname.")


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("PORT=5123\nHOST=0.0.0.0\nMAIL_FROM=Team <team@example.com>\n")
    env = dict(os.environ, STREAMDESK_INSTANCE=str(tmp_path / "i"), HOST="127.0.0.2")
    env.pop("PORT", None)
    out = subprocess.run([STREAMDESK, "config"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "127.0.0.2:5123" in out.stdout and "Team <team@example.com>" in out.stdout
