"""Comments and messages indexed by stream and time: the index a per-stream newest-first
read needs (the Inbox at 1,000,000 stories reads and sorts every comment of the account's
streams through the stream index; see bench/pages.py)."""


def up(migrator, db):
    with db.atomic():
        for table in ("comment", "message"):
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_stream_id_created_at" '
                           f'ON "{table}" ("stream_id", "created_at")')
