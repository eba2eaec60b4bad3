"""A feed kept in order as it grows, so that one page of it costs the same at a million
items as at a hundred.

Both emulators page their feeds (a page's stories, a user's timeline, mentions, search)
from a cursor, a ``since``/``until`` time or an id bound. Filtering and sorting the whole
feed on every request made a page cost O(items): benchmarks of Streamdesk's crawler then
measured the emulator. A :class:`SortedFeed` keeps its items sorted by an immutable key
(oldest first) as they are added, finds any bound with a binary search, and walks from
there only as far as one page needs.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import itemgetter


class SortedFeed:
    """Items sorted oldest first by ``key(item)``; the key must never change.

    Positions are list indexes (0 the oldest item); :meth:`left` and :meth:`right` turn a
    key (or a shorter tuple prefix of one) into a position, :meth:`older` and
    :meth:`newer` walk from a position. Adding the newest item is an append; a backdated
    one is inserted in place.
    """

    def __init__(self, key: Callable, items: Iterable = ()) -> None:
        self.key = key
        self._keys: list = []
        self._items: list = []
        self.extend(items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, position: int):
        return self._items[position]

    def add(self, item) -> None:
        """Put ``item`` in its place (after any item with the same key)."""
        key = self.key(item)
        at = bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._items.insert(at, item)

    def extend(self, items: Iterable) -> None:
        """Add many items at once: one merge instead of an insert each (a bulk load of a
        million backdated items would otherwise move the whole list a million times)."""
        pairs = [(self.key(item), item) for item in items]
        if not pairs:
            return
        pairs.sort(key=itemgetter(0))
        if not self._keys or pairs[0][0] >= self._keys[-1]:
            self._keys.extend(k for k, _ in pairs)
            self._items.extend(i for _, i in pairs)
            return
        # Two sorted runs: Timsort merges them in linear time.
        merged = list(zip(self._keys, self._items)) + pairs
        merged.sort(key=itemgetter(0))
        self._keys = [k for k, _ in merged]
        self._items = [i for _, i in merged]

    def remove(self, item) -> bool:
        """Take ``item`` out (False when it is not in the feed)."""
        key = self.key(item)
        at = bisect_left(self._keys, key)
        while at < len(self._keys) and self._keys[at] == key:
            if self._items[at] is item:
                del self._keys[at]
                del self._items[at]
                return True
            at += 1
        return False

    def left(self, key) -> int:
        """The position of the first item whose key is not below ``key``."""
        return bisect_left(self._keys, key)

    def right(self, key) -> int:
        """The position just after the last item whose key is not above ``key``."""
        return bisect_right(self._keys, key)

    def left_by(self, value, attribute: Callable) -> int:
        """:meth:`left` by another value that grows with the key (a creation time)."""
        return bisect_left(self._items, value, key=attribute)

    def right_by(self, value, attribute: Callable) -> int:
        """:meth:`right` by another value that grows with the key (a creation time)."""
        return bisect_right(self._items, value, key=attribute)

    def older(self, below: int | None = None, floor: int = 0) -> Iterator:
        """Items newest first, from just below position ``below`` down to ``floor``."""
        items = self._items
        for at in range((len(items) if below is None else below) - 1, floor - 1, -1):
            yield items[at]

    def newer(self, start: int = 0, stop: int | None = None) -> Iterator:
        """Items oldest first, from position ``start`` up to (not including) ``stop``."""
        return islice(self._items, start, stop)

    def newest_first(self) -> list:
        """Every item, newest first (a copy: O(items), for control calls and tests)."""
        return self._items[::-1]


def take(items: Iterator, shown: Callable[[object], bool], count: int) -> list:
    """The first ``count`` of ``items`` that pass ``shown``."""
    return list(islice(filter(shown, items), count)) if count > 0 else []
