"""Reading ahead: order, errors where they belong, and a reader that stops with its caller."""
import threading
import time

import pytest

from webapp.readahead import read_ahead


def test_items_come_in_order_and_the_next_is_fetched_meanwhile():
    fetched = []

    def pages():
        for n in range(5):
            fetched.append(n)
            yield n

    seen = []
    for item in read_ahead(pages()):
        time.sleep(0.05)  # writing this one: the reader fetches the next meanwhile
        seen.append((item, len(fetched)))
    assert [item for item, _ in seen] == [0, 1, 2, 3, 4]
    assert any(fetched_then > item + 1 for item, fetched_then in seen[:-1])


def test_an_error_of_the_pages_is_raised_in_the_caller_after_the_pages_before_it():
    def pages():
        yield 1
        yield 2
        raise LookupError("the provider said no")

    got = []
    with pytest.raises(LookupError, match="the provider said no"):
        for item in read_ahead(pages()):
            got.append(item)
    assert got == [1, 2]


def test_a_caller_that_stops_early_stops_and_closes_the_reader():
    closed = threading.Event()

    def pages():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    with pytest.raises(RuntimeError):
        for item in read_ahead(pages()):
            if item == 3:
                raise RuntimeError("writing failed")
    assert closed.wait(5), "the reader went on fetching"
    for reader in [t for t in threading.enumerate() if t.name == "crawl-read-ahead"]:
        reader.join(5)
        assert not reader.is_alive()
