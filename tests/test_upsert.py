"""db.upsert on the real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): a key
repeated inside one batch, and more rows than one batch holds."""
import datetime

import pytest

from webapp.db import BATCH, database, upsert
from webapp.models import Story, Stream

T = datetime.datetime(2026, 11, 1, 12, 0)
UPDATE = ("updated_at", "text", "is_hidden", "url")


@pytest.fixture
def stream(account):
    return Stream.create(account=account, service="facebook", page_id="p1", name="P")


def story(stream, external_id: str, text: str) -> dict:
    return dict(stream=stream.id, external_id=external_id, created_at=T, updated_at=None, text=text,
                author_id="a", author_name="A", url=None, raw_type=None, is_hidden=False)


def texts(stream) -> dict:
    return {s.external_id: s.text for s in Story.select().where(Story.stream == stream.id)}


def test_a_key_repeated_in_one_batch_keeps_the_last_row(stream):
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"),
               [story(stream, "s1", "first"), story(stream, "s2", "other"), story(stream, "s1", "last")], UPDATE)
    assert texts(stream) == {"s1": "last", "s2": "other"}
    # and against a stored row: the stored one is updated once, to the last value
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"),
               [story(stream, "s2", "edited"), story(stream, "s2", "edited again")], UPDATE)
    assert texts(stream) == {"s1": "last", "s2": "edited again"}


def test_more_rows_than_a_batch_are_all_stored_and_updated(stream):
    n = BATCH * 2 + 7
    rows = [story(stream, f"s{i}", f"v1 {i}") for i in range(n)]
    # the first key again, in the last batch: the later row still wins
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"), rows + [story(stream, "s0", "late")], UPDATE)
    stored = texts(stream)
    assert len(stored) == n and stored["s0"] == "late" and stored[f"s{n - 1}"] == f"v1 {n - 1}"
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"), [story(stream, f"s{i}", f"v2 {i}") for i in range(n)], UPDATE)
    assert texts(stream) == {f"s{i}": f"v2 {i}" for i in range(n)}


def test_count_new_counts_inserted_rows_only(stream):
    """What keeps a stream's story count right: updates, a key given twice, and rows
    spread over several batches are counted once each, on both databases."""
    key = ("stream_id", "external_id")
    with database.atomic():
        assert upsert(Story, key, [story(stream, "s1", "a"), story(stream, "s1", "b")], UPDATE, count_new=True) == 1
        rows = [story(stream, f"s{i}", "x") for i in range(BATCH * 2 + 3)]
        assert upsert(Story, key, rows, UPDATE, count_new=True) == BATCH * 2 + 2  # s1 was stored
        assert upsert(Story, key, rows, UPDATE, count_new=True) == 0
        assert upsert(Story, key, [], UPDATE, count_new=True) == 0
    assert Story.select().count() == BATCH * 2 + 3


def test_a_row_that_comes_back_unchanged_is_not_written_again(stream):
    """A re-crawl sends back mostly what is stored: such rows are not rewritten (no new
    row version on PostgreSQL, no full-text re-index on SQLite); a changed one is, and
    NULLs compare as values."""
    postgres = "postgres" in type(database.obj).__name__.lower()
    version = "xmin::text" if postgres else "(SELECT COUNT(*) FROM story_fts_data)"  # FTS5's segment rows

    def written() -> dict:
        return {external_id: value for external_id, value in database.execute_sql(
            f"SELECT external_id, {version} FROM story ORDER BY external_id").fetchall()}

    rows = [story(stream, "s1", "same"), story(stream, "s2", "same")]
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"), rows, UPDATE)
    before = written()
    with database.atomic():
        assert upsert(Story, ("stream_id", "external_id"), rows, UPDATE, count_new=True) == 0
    assert written() == before
    with database.atomic():
        upsert(Story, ("stream_id", "external_id"), [story(stream, "s2", "same") | {"url": "https://x.test/2"}],
               UPDATE)
    after = written()
    assert after["s2"] != before["s2"] and (not postgres or after["s1"] == before["s1"])
    assert Story.get(Story.external_id == "s2").url == "https://x.test/2"
