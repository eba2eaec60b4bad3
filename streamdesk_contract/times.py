"""Reading the times providers send: one parser for every plugin.

Parsing dates is the largest CPU item of a crawl (every story, comment and message has
one), so the usual shapes take :meth:`datetime.fromisoformat`, which on Python 3.11 reads
Graph's ``2024-05-01T12:00:00+0000`` and X's ``2024-05-01T12:00:00.000Z`` in C, several
times faster than ``strptime``. Shapes it refuses that RFC 3339 still allows (a lower-case
``t`` or ``z``, blanks around) take a slower second try. A value that is not a time with
its offset raises :class:`~.pluginkit.Malformed`, which :func:`~.pluginkit.readable_answers`
turns into ProviderUnavailable like any other unreadable answer.
"""
from __future__ import annotations

from datetime import UTC, datetime

from .pluginkit import Malformed


#: Bound once: this runs for every story, comment and message of every crawl.
_fromisoformat = datetime.fromisoformat


def parse_time(value) -> datetime:
    """``value`` (an ISO 8601 / RFC 3339 date and time with its UTC offset) as an aware
    UTC datetime. Raises Malformed for anything else: not a string, not a date, or a
    time without an offset (guessing the zone would shift every row by hours)."""
    try:
        parsed = _fromisoformat(value)
    except TypeError:
        raise Malformed(f"a time that is not a string: {type(value).__name__}") from None
    except ValueError:
        parsed = _second_try(value)
    if parsed.tzinfo is UTC:  # what providers send (Z, +0000); astimezone would copy it
        return parsed
    if parsed.tzinfo is None:
        raise Malformed(f"a time without its UTC offset: {value[:40]!r}")
    return parsed.astimezone(UTC)


def _second_try(value: str) -> datetime:
    # RFC 3339 (section 5.6) lets the "T" and "Z" be lower case; fromisoformat does not.
    try:
        return datetime.fromisoformat(value.strip().upper())
    except ValueError:
        raise Malformed(f"not a date and time: {value[:40]!r}") from None
