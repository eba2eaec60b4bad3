"""The Inbox reads each stream's newest comments and messages: index them by stream and
time, so that a page of the newest 50 reads about 50 rows per stream whatever the
stream holds (the time-only indexes of 0009 make the database read every comment of the
account's streams and sort them once streams hold more than a few)."""


def up(migrator, db):
    with db.atomic():
        for table in ("comment", "message"):
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_stream_id_created_at" '
                           f'ON "{table}" ("stream_id", "created_at")')
