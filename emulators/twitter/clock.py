"""Time, X's timestamp format and snowflake ids.

X ids are snowflakes: the creation time in milliseconds since X's epoch, shifted left by
22 bits, plus a worker and sequence number. So ids grow with time, and ``since_id`` /
``until_id`` comparisons are time comparisons — the emulator relies on that exactly as
clients of the real API do.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime

#: X's snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds.
TWEPOCH_MS = 1288834974657
#: A fixed worker id, so ids look like real ones (the low 22 bits are not all zero).
WORKER = 0x17 << 12

ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def snowflake(ts: float, seq: int = 0) -> int:
    """The id X would give an object created at unix time ``ts`` (seconds)."""
    return ((int(ts * 1000) - TWEPOCH_MS) << 22) | WORKER | (seq & 0xFFF)


def time_of(object_id: int) -> float:
    """The unix time (seconds) encoded in a snowflake id."""
    return ((object_id >> 22) + TWEPOCH_MS) / 1000


def x_time(ts: float) -> str:
    """``2021-01-06T18:40:40.000Z``: X's ``created_at`` format (milliseconds, UTC)."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> float | None:
    """Unix seconds of an RFC 3339 timestamp as X accepts them (``YYYY-MM-DDTHH:mm:ssZ``)."""
    if not ISO_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


class Clock:
    """Wall time plus an offset that the control API can advance (token expiry tests)."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> float:
        """The emulated unix time (seconds)."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.offset += seconds


class IdMaker:
    """Snowflakes for new objects: never below an id already handed out."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.last = 0
        self.issued: set[int] = set()
        self.lock = threading.Lock()

    def next(self) -> int:
        """A fresh id for an object created now, larger than all before."""
        with self.lock:
            self.last = max(self.last + 1, snowflake(self.clock.now()))
            return self.last

    def at(self, ts: float) -> int:
        """A unique id for an object created at ``ts`` (seeding the past)."""
        with self.lock:
            seq = 0
            while snowflake(ts, seq) in self.issued:
                seq += 1
            object_id = snowflake(ts, seq)
            self.issued.add(object_id)
            self.last = max(self.last, object_id)
            return object_id
