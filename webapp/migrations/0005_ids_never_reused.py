"""Ids that are never given twice, and a job key per stream.

SQLite gives a new row the highest id + 1, so removing the newest stream freed its id
for the next stream of any account, and a crawl still running for the removed one wrote
into it. Tables are rebuilt with ``AUTOINCREMENT`` (SQLite's documented procedure:
create, copy, drop, rename, with foreign keys off); PostgreSQL's serial sequences never
go back and need nothing. Each stream also gets a random ``job_key`` that its jobs carry.
"""
import re
import secrets

from peewee import CharField, SqliteDatabase

# Foreign keys can only be switched off outside a transaction: this migration opens its
# own transactions.
atomic = False

TABLES = ("account", "user", "login_attempt", "connected_profile", "topic", "stream", "story", "comment",
          "message", "figure")
PRIMARY_KEY = re.compile(r'("id" INTEGER NOT NULL PRIMARY KEY)(?! AUTOINCREMENT)')


def up(migrator, db):
    with db.atomic():
        migrator.migrate(migrator.add_column("stream", "job_key", CharField(max_length=32, null=True)))
        for (stream_id,) in db.execute_sql('SELECT "id" FROM "stream"').fetchall():
            db.execute_sql(f'UPDATE "stream" SET "job_key" = {db.param} WHERE "id" = {db.param}',
                           (secrets.token_hex(16), stream_id))
        migrator.migrate(migrator.add_not_null("stream", "job_key"))
    if isinstance(db, SqliteDatabase):
        _autoincrement(db)


def _autoincrement(db):
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic():
            for table in TABLES:
                _rebuild(db, table)
            broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def _rebuild(db, table: str) -> None:
    row = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if row is None or not PRIMARY_KEY.search(row[0]):
        return
    indexes = [sql for (sql,) in db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
    create = PRIMARY_KEY.sub(r"\1 AUTOINCREMENT", row[0], count=1)
    create = create.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{table}__new"', 1)
    db.execute_sql(create)
    db.execute_sql(f'INSERT INTO "{table}__new" SELECT * FROM "{table}"')
    db.execute_sql(f'DROP TABLE "{table}"')
    db.execute_sql(f'ALTER TABLE "{table}__new" RENAME TO "{table}"')
    for sql in indexes:
        db.execute_sql(sql)
