"""Blueprints, one per screen family, and the few helpers they share."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from urllib.parse import urlsplit

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required


def is_partial_request() -> bool:
    """True for an htmx request that wants a fragment.

    History-restore requests also carry HX-Request but need the whole page.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and request.headers.get("HX-History-Restore-Request") != "true"


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` when it is a path of this site, else ``default`` (the Topics page):
    an open redirect would let a link send people anywhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlsplit(target).netloc:
        return target
    return default or url_for("main.topics")


#: A row id only url_for writes: where it lands in a URL is where a row's id goes.
_SAMPLE_ID = 9_000_000_000_000_000_001


@dataclass(frozen=True)
class RowUrl:
    """The URL of one endpoint for any row: its text before and after the row's id."""

    before: str
    after: str

    def __call__(self, row_id) -> str:
        return f"{self.before}{int(row_id)}{self.after}"


def row_url(endpoint: str, id_name: str, **values) -> RowUrl:
    """The URL of ``endpoint`` for every row of a list, built by one ``url_for`` (with
    ``values``, and a sample id as ``id_name``): a url_for per row cost more than the
    rest of the row (the feed's stories, the stream list's forms). Built by url_for, so
    the route and the script root stay its to decide. A template global."""
    sample = url_for(endpoint, **{id_name: _SAMPLE_ID}, **values)
    before, found, after = sample.partition(str(_SAMPLE_ID))
    if not found or str(_SAMPLE_ID) in after:
        raise RuntimeError(f"{endpoint}'s URL does not hold its {id_name} once: {sample}")
    return RowUrl(before, after)


def render(page: str, partial: str, status: int = 200, **context):
    """Render the whole page, or just ``partial`` for an htmx request.

    The page template includes the same partial (its name is passed as ``partial``),
    so both answers stay identical.
    """
    return render_template(partial if is_partial_request() else page, partial=partial, **context), status


@dataclass(frozen=True)
class Confirmation:
    """What a destructive form asks before it acts, when JavaScript (htmx's hx-confirm)
    did not ask already: such forms send ``confirmed`` only from the dialog."""

    question: str
    consequence: str
    button: str
    cancel: str


def confirmed(confirmation: Confirmation):
    """None when the request carries the person's confirmation; else the page (or, for
    htmx, the partial) that asks for it, posting back to the same URL."""
    if request.form.get("confirmed") == "1":
        return None
    return render("confirm.html", "_confirm.html", confirm=dict(
        question=confirmation.question, consequence=confirmation.consequence, button=confirmation.button,
        cancel=confirmation.cancel, action=request.path))


def admin_required(view):
    """Only admins of the current account may use ``view``; others get a 403 page."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, "Only account admins can open Account settings.")
        return view(*args, **kwargs)

    return wrapper


def settings():
    """The Settings of the running app."""
    return current_app.extensions["streamdesk"]


def plugins():
    """The Plugins of the running app."""
    return current_app.extensions["streamdesk.plugins"]
