"""Reading what a person pasted into the search box: a page URL in any of its forms, an
``@handle``, a bare handle or id, or free text — without ever fetching anything.

Accepted URLs: facebook.com and fb.com on http(s), with the www., m., mobile., web.,
touch., mbasic., business. or language (de-de.) hosts; paths ``/name``, ``/name/…``,
``/pg/name``, ``/pages/Name/ID``, ``/pages/category/Cat/Name-ID``, ``/p/Name-ID``,
``/people/Name/ID`` and ``/profile.php?id=ID``; query strings, fragments and trailing
slashes are ignored. Everything else gets an :class:`~streamdesk_contract.errors.InvalidQuery`
that says what was wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from streamdesk_contract.errors import InvalidQuery

MAX_QUERY = 1000
MAX_TEXT = 200
#: Page usernames: letters, digits and periods (some old ones carry hyphens).
USERNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,48}[A-Za-z0-9])?$")
#: Page ids are ASCII digits: ``\d`` would also take Arabic-Indic, Devanagari… digits.
PAGE_ID = re.compile(r"^[0-9]{5,20}$")
TRAILING_ID = re.compile(r"(?:^|-)([0-9]{5,20})\Z")
HOSTS = {"facebook.com", "fb.com"}
SUBDOMAINS = {"www", "m", "mobile", "web", "touch", "mbasic", "business", "free", "d"}
LANGUAGE_HOST = re.compile(r"^[a-z]{2}-[a-z]{2}$")
#: First path segments that are Facebook features, never page names.
RESERVED = {
    "groups", "events", "watch", "marketplace", "gaming", "login", "login.php", "home.php", "search",
    "hashtag", "help", "policies", "privacy", "settings", "messages", "notifications", "friends",
    "sharer", "sharer.php", "share", "share.php", "dialog", "photo", "photo.php", "story.php",
    "permalink.php", "reel", "reels", "stories", "video.php", "l.php", "ads", "business", "bookmarks",
    "saved", "memories", "fundraisers", "live", "jobs", "news", "places", "legal", "terms", "about",
    "index.php", "recover", "checkpoint", "plugins", "tr", "v", "oauth", "me",
}
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
DOMAIN_LIKE = re.compile(r"^[^\s/@:]+\.[A-Za-z]{2,}(?::[0-9]+)?(?:[/?#]|$)")

COMMON_TLDS = {"com", "org", "net", "io", "co", "me", "info", "biz", "app", "dev", "uk", "de", "fr", "es",
               "it", "nl", "ru", "cn", "jp", "br", "in", "au", "ca", "us", "eu", "tv", "ly", "gl", "be"}

NOT_A_PAGE = "That is not a Facebook page: paste the page's address (facebook.com/…) or its @handle."


@dataclass(frozen=True)
class PageQuery:
    """What the query names: a page ``id``, a ``username``, or ``text`` to search.

    ``loose`` marks a bare word that may be a username or a name: when no page has that
    username, the plugin searches the text instead.
    """

    kind: str
    value: str
    loose: bool = False


def _invalid(message: str = NOT_A_PAGE) -> InvalidQuery:
    return InvalidQuery(message)


def parse_query(raw: str) -> PageQuery:
    """Classify ``raw`` (exactly as typed); raises InvalidQuery when it cannot name a page."""
    if not isinstance(raw, str):
        raise _invalid()
    text = raw.strip()
    if not text:
        raise _invalid("Type a Facebook page address (facebook.com/…), an @handle or a page name.")
    if len(text) > MAX_QUERY:
        raise _invalid("That is too long to be a Facebook page address, handle or name.")
    if any(ord(ch) < 32 or 0x7f <= ord(ch) < 0xa0 for ch in text):
        raise _invalid()
    if SCHEME.match(text) and not DOMAIN_LIKE.match(text):
        return _parse_url(text)
    if text.startswith("//"):
        return _parse_url("https:" + text)
    head = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "." in head and (len(head) < len(text) or _looks_like_domain(head)):
        return _parse_url("https://" + text)
    if text.startswith("@"):
        handle = text[1:]
        if not USERNAME.fullmatch(handle):
            raise _invalid(f"{text[:60]!r} is not a Facebook handle: handles use only letters, digits and periods.")
        return PageQuery("username", handle)
    if PAGE_ID.fullmatch(text):
        return PageQuery("id", text)
    if not text.isascii() and all(ch.isdigit() or ch.isspace() for ch in text):
        raise _invalid()  # digits of another script: neither a page id nor a page name
    if USERNAME.fullmatch(text):
        return PageQuery("username", text, loose=True)
    if "/" in text or "@" in text:
        raise _invalid()
    if len(text) > MAX_TEXT:
        raise _invalid("That is too long to be a Facebook page name.")
    return PageQuery("text", " ".join(text.split()))


def _looks_like_domain(head: str) -> bool:
    """A bare ``name.tld`` is read as an address when it is Facebook's or ends in a
    common top-level domain; otherwise it may be a username with a period."""
    host = head.split(":", 1)[0].lower().rstrip(".")
    return _host_ok(host) or host.rsplit(".", 1)[-1] in COMMON_TLDS


def _host_ok(host: str) -> bool:
    host = host.rstrip(".")
    if host in HOSTS:
        return True
    label, _, rest = host.partition(".")
    return rest in HOSTS and (label in SUBDOMAINS or bool(LANGUAGE_HOST.match(label)))


def _parse_url(text: str) -> PageQuery:
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise _invalid() from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid("Only web addresses (https://facebook.com/…) can name a Facebook page.")
    if not host.isascii() or not _host_ok(host):
        shown = host if host.isascii() else host.encode("unicode_escape").decode()
        raise _invalid(f"{shown[:80] or 'That'} is not a Facebook address: paste the page's facebook.com link.")
    if parts.username or parts.password or port not in (None, 80, 443):
        raise _invalid()
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        raise _invalid("That is Facebook's home page: paste the address of the page itself.")
    first = segments[0].lower()
    if first == "profile.php":
        ids = parse_qs(parts.query).get("id", [])
        if ids and PAGE_ID.fullmatch(ids[0]):
            return PageQuery("id", ids[0])
        raise _invalid()
    if first in ("pages", "p", "people"):
        tail = [s for s in segments[1:] if s.lower() != "category"]
        for segment in reversed(tail):
            match = TRAILING_ID.search(segment)
            if match:
                return PageQuery("id", match.group(1))
        raise _invalid("That Facebook link has no page id in it: paste the address from the page itself.")
    if first == "pg" and len(segments) > 1:
        segments, first = segments[1:], segments[1].lower()
    if first in RESERVED or first.endswith(".php"):
        raise _invalid("That is a Facebook link, but not to a page: paste the address of the page itself.")
    if PAGE_ID.fullmatch(segments[0]):
        return PageQuery("id", segments[0])
    if USERNAME.fullmatch(segments[0]):
        return PageQuery("username", segments[0])
    raise _invalid()
