"""PostgreSQL's full-text indexes over words only, as SQLite's FTS5 sees them.

PostgreSQL's default parser reads more than words: ``<script>`` or ``<b id="x">`` is
one "tag" token that the ``simple`` configuration drops (so "script" was never found
in ``<script>``), ``a@b.com`` one e-mail token, ``https://e.test/path`` url, host and
path tokens. FTS5's unicode61 tokenizer keeps every run of letters and digits. The
GIN indexes of 0011 are rebuilt over the text with every run of other characters made
a space, ``regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')``, so both databases find
the same words (webapp/search.py queries this exact expression). SQLite: nothing to do.
"""
from peewee import SqliteDatabase

TABLES = ("story", "comment")
WORDS_ONLY = "regexp_replace(\"text\", '[^[:alnum:]]+', ' ', 'g')"


def _rebuild(db, expression: str) -> None:
    for table in TABLES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{table}_text_search"')
        db.execute_sql(f'CREATE INDEX "{table}_text_search" ON "{table}" '
                       f"USING GIN (to_tsvector('simple', {expression}))")


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    with db.atomic():
        _rebuild(db, WORDS_ONLY)


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        return
    with db.atomic():
        _rebuild(db, '"text"')
