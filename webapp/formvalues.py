"""Numbers typed into forms and query strings, read one way by views and service functions.

Flask-free so that service modules (which get plain form values) can use it as well as
views. Ids in URL paths are checked by the ``id`` converter in :mod:`webapp.views.inputs`.
"""
from __future__ import annotations

#: At most 18 digits: any such number fits a signed 64-bit id column in SQLite and
#: PostgreSQL alike, and ``int`` never has to read an arbitrarily long string.
MAX_DIGITS = 18


def int_or_none(text: str | None, below: int | None = None) -> int | None:
    """``text`` as a non-negative integer, or None when it is not one.

    None for empty text, anything but ASCII digits (signs, spaces, ``1e3``, other
    scripts' digits such as ``٣``, which ``str.isdigit`` alone accepts), more than
    :data:`MAX_DIGITS` digits, or a number not below ``below`` when it is given.
    Callers strip the text first where surrounding spaces are allowed.
    """
    if not text or not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return None
    number = int(text)
    return number if below is None or number < below else None
