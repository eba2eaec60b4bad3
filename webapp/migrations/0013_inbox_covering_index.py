"""The Inbox's comments on PostgreSQL: a covering index per stream and time.

The Inbox leaves out a page's own comments (``author_id`` is the page's id), so each
stream's range of ``comment (stream_id, created_at)`` is read until enough comments by
others are found: on a page that wrote most of its own comments, that was a heap row per
skipped comment (40 ms at 1,000,000 stories, bench/pages.py). With ``author_id`` and
``id`` in the index, the range is an index-only scan (webapp/inbox.py). It replaces the
plain index of 0010 there, whose columns it starts with.

SQLite walks the time-only index instead (``INDEXED BY``) and is left as it is."""
from peewee import SqliteDatabase


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    with db.atomic():
        db.execute_sql('CREATE INDEX IF NOT EXISTS "comment_stream_id_created_at_covering" ON "comment" '
                       '("stream_id", "created_at") INCLUDE ("author_id", "id")')
        db.execute_sql('DROP INDEX IF EXISTS "comment_stream_id_created_at"')
