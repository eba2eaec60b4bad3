"""What a person types to find an X profile: a profile URL or a handle.

Accepted: ``@name``, ``name``, and profile links on x.com / twitter.com (with or without
``https://``, ``www.`` or ``mobile.``), including links to a post (``/name/status/…``,
which name its author) and links with query strings (``?s=20``). ``x.com/i/user/<id>``
names an account by id. Everything is decided here, before any call to X — and the URL
itself is never fetched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from streamdesk_contract.errors import InvalidQuery

from .client import clip

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]+$")
MAX_HANDLE = 15
X_HOSTS = {"x.com", "twitter.com"}
HOST_PREFIXES = ("www.", "mobile.", "m.")
#: First path segments on x.com that are pages of the site, not profiles.
RESERVED = {
    "home", "explore", "search", "i", "intent", "share", "settings", "notifications", "messages",
    "compose", "login", "logout", "signup", "tos", "privacy", "hashtag", "account", "jobs", "about",
    "download", "lists", "bookmarks", "communities", "premium", "verified-choose", "who_to_follow",
}
#: What X's public lookup accepts, said whenever a query is not one of them: X has no
#: search by name for apps (``/2/users/search`` needs a paid tier), only exact lookups.
HINT = "X can only look up a public account by its exact handle (@name) or profile URL (x.com/name)."
#: Messages repeat at most this many characters of what the person typed.
SHOWN = 60


def shown(text: str) -> str:
    """What a message repeats of the query: its first :data:`SHOWN` characters."""
    return clip(text, SHOWN)


@dataclass(frozen=True)
class ProfileRef:
    """An X account named by its handle or (from an ``/i/user/<id>`` link) its id."""

    username: str | None = None
    user_id: str | None = None


def check_handle(handle: str, typed: str | None = None) -> str:
    """``handle`` if it can be an X handle; InvalidQuery saying why not otherwise."""
    said = shown(typed or f"@{handle}")
    if not handle:
        raise InvalidQuery(f"“{said}” is not an X profile: the handle is empty. {HINT}")
    if not HANDLE_RE.fullmatch(handle):
        raise InvalidQuery(f"“{said}” is not an X profile: handles use only letters, digits and underscores.")
    if len(handle) > MAX_HANDLE:
        raise InvalidQuery(f"“{said}” is not an X profile: handles have at most {MAX_HANDLE} characters "
                           f"(this one has {len(handle)}).")
    return handle


def parse_query(query: str) -> ProfileRef:
    """The account a search query names; InvalidQuery (with what to type) if none."""
    text = (query or "").strip()
    if not text:
        raise InvalidQuery(f"Nothing to search for. {HINT}")
    if text.startswith("@"):
        return ProfileRef(username=check_handle(text[1:], text))
    if "/" in text or "." in text or text.lower().startswith(("http:", "https:")):
        return _from_url(text)
    if any(ch.isspace() for ch in text):
        raise InvalidQuery(f"“{shown(text)}” is not an X profile: X accounts are found by handle or profile link, "
                           f"not by name. {HINT}")
    return ProfileRef(username=check_handle(text, text))


def _from_url(text: str) -> ProfileRef:
    url = text if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) else "https://" + text
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidQuery(f"“{shown(text)}” is not an X profile link. {HINT}") from None
    for prefix in HOST_PREFIXES:
        host = host.removeprefix(prefix)
    if parts.scheme not in ("http", "https") or host not in X_HOSTS:
        raise InvalidQuery(f"“{shown(text)}” is not an X profile: links must point to x.com or twitter.com. {HINT}")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise InvalidQuery(f"“{shown(text)}” is X's home page, not an X profile. {HINT}")
    first = segments[0]
    user_id = segments[2] if len(segments) >= 3 and first.lower() == "i" and segments[1] == "user" else ""
    # isascii too: str.isdigit also takes other scripts' digits (١٢٣), which X ids never use.
    if user_id.isascii() and user_id.isdigit() and len(user_id) <= 19:
        return ProfileRef(user_id=user_id)
    if first.lower() in RESERVED:
        raise InvalidQuery(f"“{shown(text)}” is an X page (/{shown(first)}), not an X profile. {HINT}")
    return ProfileRef(username=check_handle(first.lstrip("@"), text))
