"""The crawl cursor: a small JSON document the core stores opaquely with each page of rows.

* ``s`` / ``si`` — the stories watermark: the newest ``updated_time`` the newest feed page
  showed (unix seconds) and the ids seen at exactly that second. Facebook moves a post's
  ``updated_time`` when it is edited or commented on, so one look at the newest feed page
  finds new stories *and* new comments on recent ones.
* ``g`` — a scan of older feed pages still to do (first crawl, or more new stories than
  one page holds): ``q``, the query of the next page as Graph's own ``next`` link gave it
  (time paging ``until``/``__paging_token`` or cursor paging ``after``; never a token),
  and ``f``, the oldest time still worth reading (None: to the beginning).
* ``w`` — the revisits of older feed pages (authorized streams), one sweep per age band
  (see :mod:`.revisit`), by band name, for posts whose ``updated_time`` moved: ``q`` the
  next page to check (None: between rounds), ``f``/``fi`` the round's floor (a change
  after it is new), ``n``/``ni`` the next round's floor, ``k`` the changes already read
  (id → time, at most 20), ``r`` when the round started (the provider's clock), ``p`` the
  pages read in it and ``c`` the pages the last full round took (its pace). A few hundred
  bytes per band, whatever the number of posts.
* ``m`` / ``mi`` — the messages watermark, the same way as the stories one.
* ``l`` — the feed page size: halved when Graph asks for less data at once.

It holds no token and nothing secret. An unreadable cursor starts over (the core's
writes are idempotent, so that costs calls, not data).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from .revisit import BANDS

VERSION = 3
#: The revisit bands' names, for reading a version 2 cursor.
BAND_NAMES = tuple(band.name for band in BANDS)
FEED_LIMIT = 100
MIN_FEED_LIMIT = 5


@dataclass(frozen=True)
class Gap:
    """Older feed pages still to read, from ``query`` down to ``floor``."""

    query: dict[str, str]
    floor: int | None


@dataclass(frozen=True)
class Sweep:
    """Where the round of checks over older feed pages stands (see the module docstring).

    ``floor``/``floor_ids`` work like the stories watermark: a post changed after it (or
    at that second, unless among the ids) is new for this round; ``next_floor`` and
    ``next_ids`` become the next round's.
    """

    query: dict[str, str] | None
    floor: int
    floor_ids: tuple[str, ...] = ()
    next_floor: int = 0
    next_ids: tuple[str, ...] = ()
    known: dict[str, int] = field(default_factory=dict)
    started: int = 0
    read: int = 0
    pages: int = 0

    def dump(self) -> dict:
        """The sweep as a compact JSON object (see the module docstring)."""
        doc = {"q": self.query, "f": self.floor, "fi": list(self.floor_ids), "n": self.next_floor,
               "ni": list(self.next_ids), "k": self.known, "r": self.started, "p": self.read, "c": self.pages}
        return {k: v for k, v in doc.items() if v or k in ("f", "n")}  # empty ones are the defaults

    @classmethod
    def load(cls, doc: dict) -> Sweep:
        """A sweep from :meth:`dump`'s object (also a version 2 cursor's single sweep)."""
        return cls(_query(doc["q"]) if doc.get("q") is not None else None, int(doc["f"]), _ids(doc.get("fi")),
                   int(doc["n"]), _ids(doc.get("ni")), {str(k): int(v) for k, v in (doc.get("k") or {}).items()},
                   int(doc.get("r") or 0), int(doc.get("p") or 0), int(doc.get("c") or 0))


@dataclass(frozen=True)
class CrawlCursor:
    """Where a stream's crawl stands (see the module docstring)."""

    stories_at: int | None = None
    stories_ids: tuple[str, ...] = ()
    gap: Gap | None = None
    sweeps: dict[str, Sweep] = field(default_factory=dict)
    messages_at: int | None = None
    messages_ids: tuple[str, ...] = ()
    limit: int = FEED_LIMIT

    def dump(self) -> str:
        """The cursor as the compact JSON string the core stores."""
        doc = {"v": VERSION, "s": self.stories_at, "si": list(self.stories_ids),
               "g": {"q": self.gap.query, "f": self.gap.floor} if self.gap else None,
               "w": {name: sweep.dump() for name, sweep in self.sweeps.items()},
               "m": self.messages_at, "mi": list(self.messages_ids), "l": self.limit}
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> CrawlCursor:
        """Read a stored cursor; None or anything unreadable gives a fresh one."""
        if not raw:
            return cls()
        try:
            doc = json.loads(raw)
            if doc.get("v") == 1:
                return cls._load_v1(doc)
            if doc.get("v") not in (2, VERSION):
                return cls()
            gap, sweeps = doc.get("g"), doc.get("w") or {}
            if doc["v"] == 2:
                # One sweep over every older page: each band starts from its floor, so no
                # change it had still to find is lost.
                sweeps = {name: {**sweeps, "q": None} for name in BAND_NAMES} if sweeps else {}
            return cls(stories_at=_time(doc.get("s")), stories_ids=_ids(doc.get("si")),
                       gap=Gap(_query(gap["q"]), _time(gap.get("f"))) if gap else None,
                       sweeps={str(name): Sweep.load(sweep) for name, sweep in sweeps.items()},
                       messages_at=_time(doc.get("m")), messages_ids=_ids(doc.get("mi")),
                       limit=min(FEED_LIMIT, max(MIN_FEED_LIMIT, int(doc.get("l") or FEED_LIMIT))))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()

    @classmethod
    def _load_v1(cls, doc: dict) -> CrawlCursor:
        # Version 1 kept Graph's time-paging position itself; no sweep yet.
        gap = doc.get("g")
        query = None
        if gap:
            query = {"until": str(int(gap["u"]))}
            if gap.get("t"):
                query["__paging_token"] = str(gap["t"])
        return cls(stories_at=_time(doc.get("s")), stories_ids=_ids(doc.get("si")),
                   gap=Gap(query, _time(gap.get("f"))) if gap else None,
                   messages_at=_time(doc.get("m")), messages_ids=_ids(doc.get("mi")))

    def with_(self, **changes) -> CrawlCursor:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def _time(value) -> int | None:
    return None if value is None else int(value)


def _ids(value) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _query(value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("a paging query must be an object")
    return {str(k): str(v) for k, v in value.items()}


def is_new(at: int, item_id: str, mark_at: int | None, mark_ids: tuple[str, ...]) -> bool:
    """Whether an item stamped ``at`` is past the watermark (ties broken by the ids seen)."""
    return mark_at is None or at > mark_at or (at == mark_at and item_id not in mark_ids)


def advance(mark_at: int | None, mark_ids: tuple[str, ...], seen: list[tuple[int, str]]):
    """The watermark after seeing ``seen`` (time, id) pairs."""
    if not seen:
        return mark_at, mark_ids
    newest = max(at for at, _ in seen)
    if mark_at is not None and mark_at > newest:
        return mark_at, mark_ids
    ids = {i for at, i in seen if at == newest}
    if mark_at == newest:
        ids |= set(mark_ids)
    return newest, tuple(sorted(ids))
