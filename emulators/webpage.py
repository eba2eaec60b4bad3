"""The emulators' public web pages (a page or profile, a post), as plain HTML.

In sandbox mode the links Streamdesk shows point at the emulator instead of the real
network, so each emulator serves a bare page for what a link names. Everything shown
there comes from the emulated world, which tests fill with hostile text: every value
goes through :func:`html.escape` here, and the caller passes only text, never markup.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from flask import Response

#: Nothing on these pages needs a script, a style sheet from elsewhere or a form.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Item:
    """One entry of a list on a page: who, when, what, and an optional link."""

    title: str
    text: str
    meta: str = ""
    href: str | None = None


def render(network: str, title: str, lines: list[str], items: list[Item], heading: str = "",
           status: int = 200) -> Response:
    """An HTML page titled ``title``: ``lines`` as paragraphs, then ``items`` under
    ``heading``. Every argument is text; all of it is escaped."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} · {escape(network)} (emulator)</title>",
        "<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
        "li{margin:.8rem 0}small{color:#555}</style></head><body>",
        f'<p><small>{escape(network)} emulator — sandbox mode: nothing here is on the real network.</small></p>',
        f"<h1>{escape(title)}</h1>",
    ]
    parts += [f"<p>{escape(line)}</p>" for line in lines if line]
    if items or heading:
        parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append("<ul>")
        for item in items:
            name = escape(item.title)
            if item.href:
                name = f'<a href="{escape(item.href)}">{name}</a>'
            meta = f" <small>{escape(item.meta)}</small>" if item.meta else ""
            parts.append(f"<li><strong>{name}</strong>{meta}<br>{escape(item.text)}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    response = Response("\n".join(parts), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def not_found(network: str, what: str) -> Response:
    """The emulator's 404 page, saying what does not exist."""
    return render(network, "This page isn’t available", [f"{what} does not exist in the emulator."], [],
                  status=404)
