"""One crawl per page: a stream belongs to an account, and topics hold streams.

Until now a stream belonged to one topic, so the same page in two topics was crawled
twice and its comments showed twice in the Inbox. Now the unit that is crawled — the
account's page on a service, public or through a token — is stored once; topics hold it
through ``topic_stream``. Streams that were the same page are merged into one: the
survivor keeps every topic's membership, every story, comment, message, figure and gap
(a row both held is kept once, the survivor's copy), then the others are removed.

Streams also count their stories as they are written (``story_count``), so lists show
sizes without counting rows, and comments and messages are indexed by time for the
Inbox's newest-first order.
"""
import datetime

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, SqliteDatabase,
                    TextField)

from webapp.db import IdField

# SQLite drops a column by rebuilding the table, with foreign keys off, which can only
# be switched outside a transaction: this migration opens its own.
atomic = False

#: What one crawled unit is: the same account's page, on the same service, with or without a token.
UNIT = ("account_id", "service", "page_id", "authorized")
#: Rows a stream's crawls write, with the columns that make a row the same row.
CRAWLED = {"story": ("external_id",), "comment": ("external_id",), "message": ("external_id",),
           "figure": ("level", "object_id", "name")}


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    models = _models(db)
    with db.atomic():
        models["TopicStream"].create_table()
        migrator.migrate(
            migrator.add_column("stream", "account_id", IntegerField(null=True)),
            migrator.add_column("stream", "story_count", IntegerField(default=0)),
        )
        db.execute_sql('UPDATE "stream" SET "account_id" = '
                       '(SELECT "account_id" FROM "topic" WHERE "topic"."id" = "stream"."topic_id")')
        db.execute_sql('INSERT INTO "topic_stream" ("topic_id", "stream_id", "created_at") '
                       'SELECT "topic_id", "id", "created_at" FROM "stream"')
        _merge_duplicates(db)
        db.execute_sql('UPDATE "stream" SET "story_count" = '
                       '(SELECT COUNT(*) FROM "story" WHERE "story"."stream_id" = "stream"."id")')
    if sqlite:
        _rebuild_stream(db, models["Stream"])
    else:
        with db.atomic():
            db.execute_sql('ALTER TABLE "stream" DROP COLUMN "topic_id"')
            db.execute_sql('ALTER TABLE "stream" ALTER COLUMN "account_id" SET NOT NULL')
            db.execute_sql('ALTER TABLE "stream" ADD FOREIGN KEY ("account_id") REFERENCES "account" ("id") '
                           'ON DELETE CASCADE')
            models["Stream"]._schema.create_indexes(safe=True)
    with db.atomic():
        for table in ("comment", "message"):
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_created_at" ON "{table}" ("created_at")')


def _merge_duplicates(db) -> None:
    """Merge the streams that are the same crawled unit into the first of each group
    (one that has not expired, if any)."""
    columns = ", ".join(f'"{c}"' for c in UNIT)
    groups = db.execute_sql(f'SELECT {columns} FROM "stream" GROUP BY {columns} HAVING COUNT(*) > 1').fetchall()
    p = db.param
    for group in groups:
        ids = [row[0] for row in db.execute_sql(
            'SELECT "id" FROM "stream" WHERE ' + " AND ".join(f'"{c}" = {p}' for c in UNIT)
            + ' ORDER BY CASE WHEN "status" = \'expired\' THEN 1 ELSE 0 END, "id"', group).fetchall()]
        survivor, duplicates = ids[0], ids[1:]
        for duplicate in duplicates:
            _merge(db, survivor, duplicate)


def _merge(db, survivor: int, duplicate: int) -> None:
    p = db.param
    db.execute_sql(f'UPDATE "topic_stream" SET "stream_id" = {p} WHERE "stream_id" = {p}', (survivor, duplicate))
    for table, key in CRAWLED.items():
        same = " AND ".join(f'kept."{c}" = "{table}"."{c}"' for c in key)
        db.execute_sql(f'UPDATE "{table}" SET "stream_id" = {p} WHERE "stream_id" = {p} AND NOT EXISTS '
                       f'(SELECT 1 FROM "{table}" AS kept WHERE kept."stream_id" = {p} AND {same})',
                       (survivor, duplicate, survivor))
        db.execute_sql(f'DELETE FROM "{table}" WHERE "stream_id" = {p}', (duplicate,))
    db.execute_sql(f'UPDATE "stream_gap" SET "stream_id" = {p} WHERE "stream_id" = {p}', (survivor, duplicate))
    db.execute_sql(f'DELETE FROM "stream" WHERE "id" = {p}', (duplicate,))


def _rebuild_stream(db, stream) -> None:
    """SQLite's documented way to drop a column that a foreign key uses: create the new
    table, copy, drop, rename, recreate the indexes (foreign keys off meanwhile)."""
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            stream._meta.set_table_name("stream__new")
            stream._schema.create_table()
            columns = ", ".join(f'"{f.column_name}"' for f in stream._meta.sorted_fields)
            db.execute_sql(f'INSERT INTO "stream__new" ({columns}) SELECT {columns} FROM "stream"')
            db.execute_sql('DROP TABLE "stream"')
            db.execute_sql('ALTER TABLE "stream__new" RENAME TO "stream"')
            stream._meta.set_table_name("stream")
            stream._schema.create_indexes()
            broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def _models(db) -> dict:
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Account(Base):
        class Meta:
            table_name = "account"

    class Topic(Base):
        class Meta:
            table_name = "topic"

    class ConnectedProfile(Base):
        class Meta:
            table_name = "connected_profile"

    class Stream(Base):
        id = IdField()
        account = ForeignKeyField(Account, on_delete="CASCADE")
        service = CharField(max_length=32)
        page_id = CharField(max_length=128)
        name = CharField(max_length=255)
        handle = CharField(max_length=255, null=True)
        url = TextField(null=True)
        picture_url = TextField(null=True)
        authorized = BooleanField(default=False)
        connected_profile = ForeignKeyField(ConnectedProfile, null=True, on_delete="SET NULL")
        access_token = TextField(null=True)
        refresh_token = TextField(null=True)
        expires_at = DateTimeField(null=True)
        scopes = TextField(default="")
        status = CharField(max_length=16, default="queued")
        status_message = TextField(null=True)
        missing_permission = CharField(max_length=64, null=True)
        cursor = TextField(null=True)
        last_crawled_at = DateTimeField(null=True)
        next_crawl_at = DateTimeField(null=True, index=True)
        next_metrics_at = DateTimeField(null=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        expired_at = DateTimeField(null=True)
        job_key = CharField(max_length=32)
        story_count = IntegerField(default=0)

        class Meta:
            table_name = "stream"
            indexes = ((("account", "service", "page_id", "authorized"), True),)

    class TopicStream(Base):
        id = IdField()
        topic = ForeignKeyField(Topic, on_delete="CASCADE")
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "topic_stream"
            indexes = ((("topic", "stream"), True),)

    return {"Stream": Stream, "TopicStream": TopicStream}
