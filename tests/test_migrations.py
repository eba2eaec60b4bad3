"""Migrations: an empty database and one at an older schema version."""
import pytest
from peewee import SqliteDatabase
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
    db = open_database(settings.database_url)
    p = db.param
    with db.connection_context():
        migrate(db, target="0004_figures")
        db.execute_sql("INSERT INTO account (name, created_at) VALUES ('Old team', '2025-01-01 00:00:00')")
        db.execute_sql("INSERT INTO topic (account_id, name, created_at) VALUES (1, 'Brand', '2025-01-01 00:00:00')")
        for page in ("p1", "p2"):
            db.execute_sql("INSERT INTO stream (topic_id, service, page_id, name, authorized, scopes, status, "
                           f"created_at) VALUES (1, 'facebook', {p}, 'Page', {p}, '', 'active', "
                           "'2025-01-01 00:00:00')", (page, False))
        db.execute_sql("INSERT INTO story (stream_id, external_id, created_at, text, is_hidden) "
                       f"VALUES (2, 's1', '2025-01-01 00:00:00', 'kept', {p})", (False,))
        assert "0005_ids_never_reused" in migrate(db, target="0008_missing_permission")
        streams = db.execute_sql('SELECT "id", "page_id", "job_key" FROM "stream" ORDER BY "id"').fetchall()
        assert [s[1] for s in streams] == ["p1", "p2"]
        assert all(len(s[2]) == 32 for s in streams) and streams[0][2] != streams[1][2]
        assert db.execute_sql('SELECT "stream_id" FROM "story"').fetchall() == [(2,)]
        db.execute_sql('DELETE FROM "stream" WHERE "id" = 2')
        # the cascade still works after the rebuild
        assert db.execute_sql('SELECT COUNT(*) FROM "story"').fetchone()[0] == 0
        db.execute_sql("INSERT INTO stream (topic_id, service, page_id, name, authorized, scopes, status, job_key, "
                       f"created_at) VALUES (1, 'facebook', 'p3', 'New', {p}, '', 'queued', 'k', "
                       "'2025-01-01 00:00:00')", (False,))
        assert db.execute_sql('SELECT MAX("id") FROM "stream"').fetchone()[0] == 3
        if db.__class__.__name__ == "SqliteDatabase":
            indexes = {row[1] for row in db.execute_sql("PRAGMA index_list('stream')").fetchall()}
            assert any("topic_id_service_page_id" in name for name in indexes), indexes


def test_one_crawl_per_page_merges_the_same_page_of_two_topics(settings):
    """0009: the streams an account had of one page (one per topic) become one stream
    held by both topics, with every row of both kept once; other pages, other accounts
    and the authorized/unauthorized distinction stay apart."""
    from webapp.models import Comment, Figure, Story, Stream, StreamGap, Topic, TopicStream

    db = open_database(settings.database_url)
    p = db.param
    with db.connection_context():
        migrate(db, target="0008_missing_permission")
        for account in ("Team", "Rival"):
            db.execute_sql(f"INSERT INTO account (name, created_at) VALUES ({p}, '2025-01-01 00:00:00')", (account,))
        for account_id, topic in ((1, "Brand"), (1, "Competitors"), (1, "Launch"), (2, "Theirs")):
            db.execute_sql(f"INSERT INTO topic (account_id, name, created_at) VALUES ({p}, {p}, "
                           "'2025-01-01 00:00:00')", (account_id, topic))

        def stream(topic_id, page_id, authorized=False, status="active", cursor=None):
            db.execute_sql("INSERT INTO stream (topic_id, service, page_id, name, authorized, scopes, status, "
                           f"job_key, cursor, created_at) VALUES ({p}, 'facebook', {p}, {p}, {p}, '', {p}, {p}, {p}, "
                           "'2025-01-01 00:00:00')",
                           (topic_id, page_id, f"Page {page_id}", authorized, status, f"k{topic_id}{page_id}", cursor))
            return db.execute_sql('SELECT MAX("id") FROM "stream"').fetchone()[0]

        def story(stream_id, external_id, text):
            db.execute_sql("INSERT INTO story (stream_id, external_id, created_at, text, is_hidden) "
                           f"VALUES ({p}, {p}, '2025-01-02 00:00:00', {p}, {p})", (stream_id, external_id, text, False))

        def comment(stream_id, external_id):
            db.execute_sql("INSERT INTO comment (stream_id, external_id, story_external_id, created_at, text, "
                           f"is_hidden) VALUES ({p}, {p}, 's1', '2025-01-02 00:00:00', 'hi', {p})",
                           (stream_id, external_id, False))

        brand = stream(1, "acme", status="expired")
        rivals = stream(2, "acme", cursor="c2")          # the same page in a second topic
        launch = stream(3, "acme")                       # and a third
        owned = stream(2, "acme-own", authorized=True)
        own_public = stream(3, "acme-own")               # the same page without a token: apart
        theirs = stream(4, "acme")                       # another account's: apart
        story(brand, "s1", "brand's copy")
        story(rivals, "s1", "rivals' copy")
        story(rivals, "s2", "only in rivals")
        story(launch, "s3", "only in launch")
        story(theirs, "s1", "theirs")
        comment(brand, "c1")
        comment(rivals, "c1")
        comment(launch, "c2")
        for stream_id in (brand, rivals):
            db.execute_sql("INSERT INTO figure (stream_id, level, object_id, name, value, updated_at) "
                           f"VALUES ({p}, 'page', 'acme', 'reach', {p}, '2025-01-02 00:00:00')", (stream_id, stream_id))
        db.execute_sql("INSERT INTO stream_gap (stream_id, starts_at, ends_at, reason, created_at) VALUES "
                       f"({p}, '2025-01-01 00:00:00', '2025-01-02 00:00:00', 'gap', '2025-01-03 00:00:00')", (brand,))

        assert migrate(db, target="0009_one_crawl_per_page") == ["0009_one_crawl_per_page"]
        # Only the columns 0009's stream table has (later migrations add more).
        present = {c.name for c in db.get_columns("stream")}
        old = Stream.select(*[f for f in Stream._meta.sorted_fields if f.column_name in present])

        merged = old.where(Stream.account == 1, Stream.page_id == "acme").get()
        assert merged.id == rivals  # the first that had not expired survives, with its cursor
        assert merged.cursor == "c2" and merged.status == "active"
        assert {t.name for t in Topic.select().join(TopicStream).where(TopicStream.stream == merged)} == {
            "Brand", "Competitors", "Launch"}
        assert sorted(Story.select(Story.external_id, Story.text).where(Story.stream == merged).tuples()) == [
            ("s1", "rivals' copy"), ("s2", "only in rivals"), ("s3", "only in launch")]
        assert sorted(c.external_id for c in Comment.select().where(Comment.stream == merged)) == ["c1", "c2"]
        assert Figure.select().where(Figure.stream == merged).count() == 1
        assert StreamGap.get().stream_id == merged.id
        assert merged.story_count == 3
        # nothing else merged, nothing lost
        assert Stream.select().count() == 4
        assert old.where(Stream.id == owned).get().authorized and not old.where(Stream.id == own_public).get().authorized
        assert old.where(Stream.id == theirs).get().account_id == 2 and old.where(Stream.id == theirs).get().story_count == 1
        assert Story.select().count() == 4 and Comment.select().count() == 2
        assert TopicStream.select().count() == 6
        # the cascade, the unique unit and never-reused ids still hold after the rebuild
        # (in SQL: the models of today know tables that 0009's schema does not have yet)
        db.execute_sql(f'DELETE FROM "stream" WHERE "id" = {p}', (theirs,))
        assert Story.select().count() == 3
        again = Stream.create(account=1, service="facebook", page_id="new", name="New")
        assert again.id > own_public + 1
        from peewee import IntegrityError
        with pytest.raises(IntegrityError), db.atomic():
            Stream.create(account=1, service="facebook", page_id="acme", name="Twice", authorized=False)


def test_comments_and_messages_are_indexed_by_stream_and_time(settings):
    """0010: the Inbox's reads have their indexes (per stream and time, per conversation)."""
    db = open_database(settings.database_url)
    with db.connection_context():
        migrate(db)
        for table in ("comment", "message"):
            indexes = {i.name: i.columns for i in db.get_indexes(table)}
            if table == "comment" and not isinstance(db, SqliteDatabase):  # replaced by 0013's covering index
                assert "comment_stream_id_created_at" not in indexes, indexes
                continue
            assert indexes.get(f"{table}_stream_id_created_at") == ["stream_id", "created_at"], indexes
            # the time-only index serves SQLite's Inbox; PostgreSQL's planner misused it
            assert (f"{table}_created_at" in indexes) == isinstance(db, SqliteDatabase), indexes
        assert {i.name: i.columns for i in db.get_indexes("message")}["message_stream_id_conversation_id"] == [
            "stream_id", "conversation_id"]


def test_inbox_comments_have_a_covering_index_on_postgresql(settings):
    """0013: on PostgreSQL each stream's comments are read newest first from an index that
    also holds the author and id, so skipping a page's own comments reads no table rows."""
    db = open_database(settings.database_url)
    with db.connection_context():
        migrate(db)
        if isinstance(db, SqliteDatabase):
            assert "comment_stream_id_created_at_covering" not in {i.name for i in db.get_indexes("comment")}
            return
        (definition,) = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                       "'comment_stream_id_created_at_covering'").fetchone()
        assert 'USING btree (stream_id, created_at) INCLUDE (author_id, id)' in definition


def test_webhook_events_are_unique_per_service_and_event_key(settings):
    """0015: a replayed webhook event cannot be stored twice; the same key of another service can."""
    from peewee import IntegrityError

    db = open_database(settings.database_url)
    with db.connection_context():
        migrate(db)
        insert = ('INSERT INTO webhook_event (service, event_key, received_at, body, status) '
                  "VALUES (%s, %s, '2026-12-01 00:00:00', '{}', 'pending')").replace("%s", db.param)
        db.execute_sql(insert, ("facebook", "p:1"))
        db.execute_sql(insert, ("twitter", "p:1"))
        with pytest.raises(IntegrityError), db.atomic():
            db.execute_sql(insert, ("facebook", "p:1"))



def test_search_words_are_stored_for_existing_and_new_rows_on_postgresql(settings):
    """0020: on PostgreSQL a story's and a comment's search words are a stored column the
    server fills for the rows already there and keeps up to date on every write (words
    only: tags, e-mail addresses and URLs are cut into their words); SQLite keeps FTS5."""
    import datetime

    from webapp.accounts import create_account
    from webapp.models import Comment, Story, Stream

    db = open_database(settings.database_url)
    with db.connection_context():
        migrate(db, target="0019_report_schedules")
        stream = Stream.create(account=create_account("A"), service="facebook", page_id="p", name="P")
        at = datetime.datetime(2026, 12, 1)
        story = Story.create(stream=stream, external_id="s1", created_at=at, text="<b>Pumpkin</b> a@latte.test")
        Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=at, text="Oat milk?")
        assert migrate(db) == ["0020_search_vectors"]
        if isinstance(db, SqliteDatabase):
            assert "search_words" not in {c.name for c in db.get_columns("story")}
            return

        def words(table: str) -> set[str]:
            (vector,) = db.execute_sql(f"SELECT search_words FROM {table}").fetchone()
            return {term.split(":")[0].strip("'") for term in vector.split()}

        assert words("story") == {"b", "pumpkin", "a", "latte", "test"}
        assert words("comment") == {"oat", "milk"}
        Story.update(text="Cold brew").where(Story.id == story.id).execute()
        assert words("story") == {"cold", "brew"}
