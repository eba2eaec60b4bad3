"""Input every route shares: ids in URLs and text in forms and query strings.

Checked here once, before any view runs, so that no view, service function or database
ever sees an id out of range or text it cannot store, and both databases answer alike:
SQLite overflows on ids past 2**63 - 1 and stores NUL, PostgreSQL refuses NUL.
"""
from __future__ import annotations

import re

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, ValidationError

from . import is_partial_request, render
from .errors import TITLES

#: The largest id a row can have: a signed 64-bit integer, in SQLite and PostgreSQL alike.
MAX_ID = 2**63 - 1

#: C0 and C1 control characters but tab, line feed and carriage return, which are text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

#: Longest accepted value per form field, where the column is narrower than the request.
FIELD_LIMITS = {"email": (254, "An e-mail address can be at most 254 characters long.")}


def _up_to(limit: str) -> str:
    """A regex of the decimal numbers 1..``limit``, without leading zeros."""
    shorter = rf"[1-9][0-9]{{0,{len(limit) - 2}}}"
    same_length = [limit]
    for i, digit in enumerate(limit):
        lowest = "1" if i == 0 else "0"
        if digit > lowest:
            rest = len(limit) - i - 1
            same_length.append(f"{limit[:i]}[{lowest}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join([shorter, *same_length]) + ")"


class IdConverter(BaseConverter):
    """``<id:name>``: a row id, ASCII digits only, 1 to 2**63 - 1, without leading zeros.

    Werkzeug's ``int`` accepts any Unicode digit (``١`` is 1) and any size; an id
    outside this range names no row, so its URL is a plain 404. The range is in the
    regex itself: a rule refused by ``to_python`` would turn the 404 into a 405 when
    another rule of the same path answers other methods.
    """

    regex = _up_to(str(MAX_ID))
    weight = 50  # ranks like ``int`` against other rules of the same shape

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def text_problem(values) -> str | None:
    """Why the ``(name, value)`` pairs of a form cannot be stored, or None when they can."""
    for name, value in values:
        for text in (name, value):
            found = CONTROL.search(text)
            if found:
                return (f"The field “{CONTROL.sub('', name)[:40]}” contains an invisible control character "
                        f"(U+{ord(found.group()):04X}) that Streamdesk does not accept. Remove it and try again.")
        limit = FIELD_LIMITS.get(name)
        if limit and len(value) > limit[0]:
            return limit[1]
    return None


def refuse_bad_text():
    """Before each request: a readable 400 for form or query text that cannot be stored.

    For htmx the message goes to the top of the page and the form keeps what was typed.
    """
    if request.endpoint in (None, "static"):
        return None
    if request.blueprint == "webhooks":
        # Signed JSON from a provider, not a form: its route checks size, signature and
        # shape itself, and must answer a provider in plain text, never a page.
        return None
    problem = text_problem(request.args.items(multi=True)) or (
        text_problem(request.form.items(multi=True)) if request.method in ("POST", "PUT", "PATCH") else None)
    if problem is None:
        return None
    if not is_partial_request():
        abort(400, problem)
    html, status = render("errors/page.html", "errors/_message.html", status=400,
                          code=400, title=TITLES[400], message=problem)
    return html, status, {"HX-Retarget": "#main", "HX-Reswap": "afterbegin"}


def init_app(app: Flask) -> None:
    """Register the ``id`` converter (before any blueprint) and the text check."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_bad_text)
