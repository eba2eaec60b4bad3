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


def test_upgrade_to_never_reused_ids_keeps_rows_and_links(settings):
    """0005 rebuilds SQLite's tables with AUTOINCREMENT (foreign keys and indexes kept)
    and gives every existing stream its own job key."""
    from webapp.models import Account, Story, Stream, Topic

    db = open_database(settings.database_url)
    with db.connection_context():
        migrate(db, target="0004_figures")
        db.execute_sql("INSERT INTO account (name, created_at) VALUES ('Old team', '2025-01-01 00:00:00')")
        db.execute_sql("INSERT INTO topic (account_id, name, created_at) VALUES (1, 'Brand', '2025-01-01 00:00:00')")
        for page in ("p1", "p2"):
            db.execute_sql("INSERT INTO stream (topic_id, service, page_id, name, authorized, scopes, status, "
                           "created_at) VALUES (1, 'facebook', %s, 'Page', %s, '', 'active', "
                           "'2025-01-01 00:00:00')" % (db.param, db.param), (page, False))
        db.execute_sql("INSERT INTO story (stream_id, external_id, created_at, text, is_hidden) "
                       "VALUES (2, 's1', '2025-01-01 00:00:00', 'kept', %s)" % db.param, (False,))
        assert "0005_ids_never_reused" in migrate(db)
        streams = list(Stream.select().order_by(Stream.id))
        assert [s.page_id for s in streams] == ["p1", "p2"]
        assert all(len(s.job_key) == 32 for s in streams) and streams[0].job_key != streams[1].job_key
        assert Story.get().stream.page_id == "p2" and Topic.get().account.name == "Old team"
        newest = streams[-1]
        newest.delete_instance(recursive=True)
        assert Story.select().count() == 0  # the cascade still works after the rebuild
        again = Stream.create(topic=1, service="facebook", page_id="p3", name="New")
        assert again.id > newest.id
        assert Account.create(name="Another").id == 2
        if db.__class__.__name__ == "SqliteDatabase":
            indexes = {row[1] for row in db.execute_sql("PRAGMA index_list('stream')").fetchall()}
            assert any("topic_id_service_page_id" in name for name in indexes), indexes
