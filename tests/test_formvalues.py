"""int_or_none: the one reading of a number typed into a form or query string."""
from __future__ import annotations

import pytest

from webapp.formvalues import MAX_DIGITS, int_or_none


@pytest.mark.parametrize("text, expected", [
    ("1", 1),
    ("0", 0),
    ("007", 7),
    ("9" * MAX_DIGITS, 10**MAX_DIGITS - 1),
])
def test_ascii_digits_are_read(text, expected):
    assert int_or_none(text) == expected


@pytest.mark.parametrize("text", [
    None, "", " 1", "1 ", "٣", "１", "²", "1e3", "1.0", "-1", "+1", "0x1", "1_000",
    "1" + "0" * MAX_DIGITS,  # 10**18: past the 18 digits every id column holds
    "9" * 5000,  # longer than int() reads by default: refused, not a ValueError
])
def test_anything_else_is_none(text):
    assert int_or_none(text) is None


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("6", 6), ("06", 6), ("7", None), ("07", None), ("10", None), ("", None),
])
def test_below_is_an_exclusive_bound(text, expected):
    assert int_or_none(text, below=7) == expected
