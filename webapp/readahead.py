"""Reading ahead: a crawl's next page is fetched from the provider while the page before
it is written to the database, so a crawl takes about as long as the slower of the two
instead of their sum."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

#: How long the reader waits, at most, before it checks again whether it should stop.
POLL = 0.1
_END = object()


def read_ahead(items: Iterable, depth: int = 1) -> Iterator:
    """Yield ``items`` as they come, with up to ``depth`` of them fetched ahead by a
    thread of their own.

    ``items`` is only ever advanced by that thread (a plugin's page generator and its
    HTTP session stay on one thread); the caller's thread does the writing. An exception
    raised by ``items`` is raised here, in the caller, at the point it would have been
    raised without reading ahead. When the caller stops early (an error while writing,
    a job's time limit), the reader stops after the item it is fetching, and closes
    ``items``. A worker killed at any instant loses nothing: an item read ahead but not
    written is fetched again from the stored cursor.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not hand_over((item, None)):
                    return
            hand_over((_END, None))
        except BaseException as exc:  # handed to the caller, raised there
            hand_over((_END, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="crawl-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
