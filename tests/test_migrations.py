"""Migrations: an empty database and one at an older schema version."""
from werkzeug.security import generate_password_hash

from webapp.db import migrate, migrator, open_database
from webapp.models import User


def test_empty_database_is_migrated_to_the_latest_schema(settings):
    db = open_database(settings.database_url)
    with db.connection_context():
        applied = migrate(db)
        assert applied == [m.name for m in migrator(db).migrations()]
        assert {"account", "user", "login_attempt", "heartbeat", "schema_migration", "connected_profile",
                "topic", "stream", "story", "comment", "message"} <= set(db.get_tables())
        assert migrate(db) == []  # idempotent


def test_upgrade_from_an_older_version_keeps_the_data(settings):
    db = open_database(settings.database_url)
    with db.connection_context():
        assert migrate(db, target="0001_accounts") == ["0001_accounts"]
        columns = {c.name for c in db.get_columns("user")}
        assert "last_login_at" not in columns
        db.execute_sql("INSERT INTO account (name, created_at) VALUES ('Old team', '2025-01-01 00:00:00')")
        db.execute_sql(
            "INSERT INTO \"user\" (account_id, email, password_hash, role, created_at) "
            "VALUES (1, 'old@team.test', %s, 'admin', '2025-01-01 00:00:00')" % db.param,
            (generate_password_hash("an old password"),))
        assert migrate(db) == [m.name for m in migrator(db).migrations()][1:]
        user = User.get(User.email == "old@team.test")
        assert user.account.name == "Old team" and user.is_admin and user.last_login_at is None
        status = {m.name: m.applied for m in migrator(db).status()}
        assert all(status.values())
