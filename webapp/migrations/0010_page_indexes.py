"""The Inbox's indexes. Comments and messages by stream and time: PostgreSQL reads each
stream's newest rows from one range of it (webapp/inbox.py). Messages by stream and
conversation: the Inbox names the other participant of a conversation from its messages,
which read every message of the account's streams without it (300 ms at 1,000,000
stories; see bench/pages.py).

The time-only indexes of 0009 stay on SQLite, whose Inbox walks them (``INDEXED BY``).
PostgreSQL drops them: its planner walked them backwards for every stream, filtering out
everyone else's rows (146 ms at 300,000 stories), instead of the per-stream ranges."""
from peewee import SqliteDatabase

INDEXES = {"comment_stream_id_created_at": ("comment", ("stream_id", "created_at")),
           "message_stream_id_created_at": ("message", ("stream_id", "created_at")),
           "message_stream_id_conversation_id": ("message", ("stream_id", "conversation_id"))}


def up(migrator, db):
    with db.atomic():
        for name, (table, columns) in INDEXES.items():
            listed = ", ".join(f'"{c}"' for c in columns)
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({listed})')
        if not isinstance(db, SqliteDatabase):
            db.execute_sql('DROP INDEX IF EXISTS "comment_created_at", "message_created_at"')
