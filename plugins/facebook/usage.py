"""Reading Graph's usage headers so the plugin slows down before Facebook blocks it.

Graph reports, on most responses, how much of a rolling quota a call used, in percent:
``x-app-usage`` (app and user tokens) and ``x-business-use-case-usage`` (page tokens,
per page, with ``estimated_time_to_regain_access`` in minutes). The last figures seen
per bucket ("app" or a page id) are remembered for the worker process:

* from :data:`SLOW_AT` percent the client pauses before each call, longer as usage rises;
* from :data:`STOP_AT` percent, or while Graph says access is not yet regained, the client
  raises :class:`~streamdesk_contract.errors.RateLimited` *without calling*, so the job is
  rescheduled instead of tripping the block (which lasts much longer than a pause).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from streamdesk_contract.errors import RateLimited

SLOW_AT = 75
STOP_AT = 95
#: Longest pause between two calls, reached just below STOP_AT (seconds).
MAX_PAUSE = 2.0
#: How long a high reading keeps us away when Graph gives no regain time (seconds).
HOLD = 300.0


@dataclass(frozen=True)
class Reading:
    """The usage of one bucket as last reported."""

    percent: int
    regain_seconds: float
    at: float  # time.monotonic() when seen


_readings: dict[tuple[str, str], Reading] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop every remembered reading (tests, or after a configuration change)."""
    with _lock:
        _readings.clear()


def _percent(entry: dict) -> int:
    values = [entry.get(k, 0) for k in ("call_count", "total_cputime", "total_time")]
    return max(int(v) for v in values if isinstance(v, (int, float))) if values else 0


def parse(headers) -> dict[str, Reading]:
    """The readings in one response's headers, by bucket. Malformed headers are ignored:
    they must never break a call that succeeded."""
    now = time.monotonic()
    readings: dict[str, Reading] = {}
    raw_app = headers.get("x-app-usage")
    if raw_app:
        try:
            readings["app"] = Reading(_percent(json.loads(raw_app)), 0.0, now)
        except (ValueError, TypeError, AttributeError):
            pass
    raw_buc = headers.get("x-business-use-case-usage")
    if raw_buc:
        try:
            for page_id, entries in json.loads(raw_buc).items():
                percent = max((_percent(e) for e in entries), default=0)
                regain = max((float(e.get("estimated_time_to_regain_access") or 0) for e in entries), default=0.0)
                readings[str(page_id)] = Reading(percent, regain * 60, now)
        except (ValueError, TypeError, AttributeError):
            pass
    return readings


def record(api_url: str, headers) -> dict[str, Reading]:
    """Remember the readings of a response for later calls to the same API."""
    readings = parse(headers)
    with _lock:
        for bucket, reading in readings.items():
            _readings[(api_url, bucket)] = reading
    return readings


def block(api_url: str, bucket: str, retry_after: float) -> None:
    """Remember that Graph refused ``bucket`` for ``retry_after`` seconds."""
    with _lock:
        _readings[(api_url, bucket)] = Reading(100, retry_after, time.monotonic())


def pause_for(percent: int) -> float:
    """Seconds to wait before a call at ``percent`` usage (0 below SLOW_AT)."""
    if percent < SLOW_AT:
        return 0.0
    return MAX_PAUSE * min(1.0, (percent - SLOW_AT + 1) / (STOP_AT - SLOW_AT))


def busy(api_url: str, bucket: str) -> bool:
    """Whether ``bucket``'s last reading (within :data:`HOLD`) is past :data:`SLOW_AT`:
    work that can wait, such as revisiting old posts, should."""
    with _lock:
        reading = _readings.get((api_url, bucket))
    return reading is not None and reading.percent >= SLOW_AT and time.monotonic() - reading.at < HOLD


def before_call(api_url: str, bucket: str, sleep=time.sleep) -> None:
    """Pause, or raise RateLimited, according to the last reading of ``bucket``."""
    with _lock:
        reading = _readings.get((api_url, bucket))
    if reading is None:
        return
    elapsed = time.monotonic() - reading.at
    if reading.regain_seconds > elapsed:
        raise RateLimited(reading.regain_seconds - elapsed,
                          "Facebook asked us to slow down; crawling resumes when it allows.")
    if reading.percent >= STOP_AT and elapsed < HOLD:
        raise RateLimited(HOLD - elapsed, f"Facebook usage is at {reading.percent}% of its limit; "
                                         "pausing before Facebook blocks the app.")
    pause = pause_for(reading.percent) if elapsed < HOLD else 0.0
    if pause:
        sleep(pause)
