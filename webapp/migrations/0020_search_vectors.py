"""PostgreSQL keeps each story's and comment's search words, instead of working them out
on every search.

0014's GIN indexes are built on an expression, ``to_tsvector('simple', words_only(text))``:
the index finds the candidate rows, but ranking them (``ts_rank``) and checking a row
found newest first rebuild that vector from the text each time — 2,000 times for the
2,000 newest matches a search ranks. A common word took 137 ms at 1,000,000 stories.
A stored generated column ``search_words`` holds the vector, kept up to date by the
server on every write (crawl upserts, webhooks, the bench's COPY alike), and the GIN
index is rebuilt on it (webapp/search.py reads it). The column is added once to each
row: on a large install the migration rewrites both tables, which takes minutes.

SQLite: nothing to do (FTS5 keeps its own index tables, migration 0011).
"""
from peewee import SqliteDatabase

TABLES = ("story", "comment")
WORDS_ONLY = "regexp_replace(\"text\", '[^[:alnum:]]+', ' ', 'g')"


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    with db.atomic():
        for table in TABLES:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "search_words" tsvector '
                           f"GENERATED ALWAYS AS (to_tsvector('simple', {WORDS_ONLY})) STORED")
            db.execute_sql(f'DROP INDEX IF EXISTS "{table}_text_search"')
            db.execute_sql(f'CREATE INDEX "{table}_text_search" ON "{table}" USING GIN ("search_words")')


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    with db.atomic():
        for table in TABLES:
            db.execute_sql(f'DROP INDEX IF EXISTS "{table}_text_search"')
            db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "search_words"')
            db.execute_sql(f'CREATE INDEX "{table}_text_search" ON "{table}" '
                           f"USING GIN (to_tsvector('simple', {WORDS_ONLY}))")
