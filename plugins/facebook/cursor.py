"""The crawl cursor: a small JSON document the core stores opaquely with each page of rows.

* ``s`` / ``si`` — the stories watermark: the newest ``updated_time`` seen (unix seconds)
  and the ids seen at exactly that second. Facebook moves a post's ``updated_time`` when
  it is edited or commented on, so one look at the newest feed page finds new stories
  *and* new comments on recent ones.
* ``g`` — a scan of older feed pages still to do (first crawl, or more new stories than
  one page holds): Graph's time paging position (``u`` until, ``t`` paging token) and
  ``f``, the oldest time still worth reading (None: to the beginning).
* ``m`` / ``mi`` — the messages watermark, the same way.

It holds no token and nothing secret. An unreadable cursor starts over (the core's
writes are idempotent, so that costs calls, not data).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

VERSION = 1


@dataclass(frozen=True)
class Gap:
    """Older feed pages still to read."""

    until: int
    token: str | None
    floor: int | None


@dataclass(frozen=True)
class CrawlCursor:
    """Where a stream's crawl stands (see the module docstring)."""
    stories_at: int | None = None
    stories_ids: tuple[str, ...] = ()
    gap: Gap | None = None
    messages_at: int | None = None
    messages_ids: tuple[str, ...] = field(default_factory=tuple)

    def dump(self) -> str:
        """The cursor as the compact JSON string the core stores."""
        doc = {"v": VERSION, "s": self.stories_at, "si": list(self.stories_ids),
               "g": {"u": self.gap.until, "t": self.gap.token, "f": self.gap.floor} if self.gap else None,
               "m": self.messages_at, "mi": list(self.messages_ids)}
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> CrawlCursor:
        """Read a stored cursor; None or anything unreadable gives a fresh one."""
        if not raw:
            return cls()
        try:
            doc = json.loads(raw)
            if doc.get("v") != VERSION:
                return cls()
            gap = doc.get("g")
            return cls(stories_at=doc.get("s"), stories_ids=tuple(doc.get("si") or ()),
                       gap=Gap(int(gap["u"]), gap.get("t"), gap.get("f")) if gap else None,
                       messages_at=doc.get("m"), messages_ids=tuple(doc.get("mi") or ()))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()

    def with_(self, **changes) -> CrawlCursor:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


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

