"""The topic feed and its search.

``story (created_at, id)``: the feed reads the stories of a topic's streams newest first
and pages by keyset on exactly these columns, so it walks this index backwards from
where the last page stopped (EXPLAIN checked on both databases, tests/test_feed.py).

Full-text search over story and comment text: on SQLite, FTS5 tables with external
content (the text stays in ``story``/``comment``; the index follows them through
triggers); on PostgreSQL, GIN expression indexes on ``to_tsvector('simple', text)``.
"""
from peewee import SqliteDatabase

TABLES = ("story", "comment")


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "story_created_at_id" ON "story" ("created_at", "id")')
    # A story's thread, and "has the page replied to this comment?" (the feed's filter).
    db.execute_sql('CREATE INDEX IF NOT EXISTS "comment_thread" ON "comment" ("stream_id", "story_external_id")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "comment_parent" ON "comment" ("stream_id", "parent_external_id")')
    if not isinstance(db, SqliteDatabase):
        for table in TABLES:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_text_search" ON "{table}" '
                           "USING GIN (to_tsvector('simple', \"text\"))")
        return
    options = {row[0] for row in db.execute_sql("PRAGMA compile_options").fetchall()}
    if "ENABLE_FTS5" not in options:
        raise RuntimeError("This SQLite build has no FTS5 (full-text search): Streamdesk needs SQLite 3.9+ "
                           "built with it, as Python's own builds are.")
    for table in TABLES:
        fts = f"{table}_fts"
        db.execute_sql(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{fts}" USING fts5('
                       f"text, content='{table}', content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
        # The documented external-content triggers: the index is told the old text
        # before it changes or goes, and the new text after.
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{table}_fts_insert" AFTER INSERT ON "{table}" BEGIN '
                       f'INSERT INTO "{fts}" (rowid, text) VALUES (new.id, new.text); END')
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{table}_fts_delete" AFTER DELETE ON "{table}" BEGIN '
                       f"INSERT INTO \"{fts}\" (\"{fts}\", rowid, text) VALUES ('delete', old.id, old.text); END")
        db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{table}_fts_update" AFTER UPDATE OF text ON "{table}" BEGIN '
                       f"INSERT INTO \"{fts}\" (\"{fts}\", rowid, text) VALUES ('delete', old.id, old.text); "
                       f'INSERT INTO "{fts}" (rowid, text) VALUES (new.id, new.text); END')
        db.execute_sql(f"INSERT INTO \"{fts}\" (\"{fts}\") VALUES ('rebuild')")


def down(migrator, db):
    for index in ("story_created_at_id", "comment_thread", "comment_parent"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    if not isinstance(db, SqliteDatabase):
        for table in TABLES:
            db.execute_sql(f'DROP INDEX IF EXISTS "{table}_text_search"')
        return
    for table in TABLES:
        for event in ("insert", "delete", "update"):
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_fts_{event}"')
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}_fts"')
