"""Graph's two paging styles.

* Time-based (``/feed``, ``/posts``): ``since``/``until`` unix times plus an opaque
  ``__paging_token``; the response carries ``previous`` and ``next`` links and no
  ``next`` on the last page.
* Cursor-based (every other list): ``before``/``after`` cursors under
  ``paging.cursors``, with ``next``/``previous`` links only where more items exist.

Links are absolute and built on the emulator's ``base_url``, as Graph builds them on
graph.facebook.com; they repeat the caller's ``access_token`` when it came in the query.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from emulators.sortedfeed import SortedFeed, take

from .errors import invalid_parameter

MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def limit_arg(raw: str | None, default: int = DEFAULT_LIMIT) -> int:
    """The ``limit`` parameter, capped at Graph's maximum of 100."""
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter("Param limit must be a number") from None
    if value < 0:
        raise invalid_parameter("Param limit must be a non-negative number")
    return min(value, MAX_LIMIT)


def timestamp_arg(raw: str | None, name: str) -> int | None:
    """``since``/``until`` as unix seconds; Graph also takes dates (strtotime-style)."""
    if raw in (None, ""):
        return None
    if raw.lstrip("-").isdigit():
        return int(raw)
    for layout in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(raw, layout)
        except ValueError:
            continue
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    raise invalid_parameter(f"The parameter {name} is not a valid timestamp")


def link(base: str, path: str, params: dict) -> str:
    """An absolute paging link on the emulator's base URL."""
    return f"{base}/{path}?{urlencode([(k, v) for k, v in params.items() if v is not None])}"


# --- time-based ---------------------------------------------------------------------------

def _paging_token(ts: int, item_id: str) -> str:
    raw = f"{ts}:{item_id}".encode()
    return "enc_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_paging_token(token: str | None) -> tuple[int, str] | None:
    if not token or not token.startswith("enc_"):
        return None
    body = token[4:]
    try:
        ts, item_id = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split(":", 1)
        return int(ts), item_id
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("Invalid paging token") from None


def time_page(feed: SortedFeed, shown: Callable, args, base: str, path: str, keep: dict):
    """One page of the stories of ``feed`` that pass ``shown``, newest first.

    The feed is sorted by (unix time, id), so every bound is a binary search and only
    one page of stories is walked. Returns ``(page_items, paging_or_None)`` following
    Graph's rules: ``until`` and ``since`` are inclusive bounds, ``__paging_token``
    breaks ties within a second, ``__previous=1`` asks for the items just newer than
    ``since``.
    """
    limit = limit_arg(args.get("limit"))
    since = timestamp_arg(args.get("since"), "since")
    until = timestamp_arg(args.get("until"), "until")
    anchor = _read_paging_token(args.get("__paging_token"))
    previous = args.get("__previous") == "1"
    if previous:
        # The ones just newer than the anchor (or than ``since``), whatever ``until`` says.
        if anchor is not None:
            start = feed.right(anchor)
        else:
            start = feed.left((since,)) if since is not None else 0
        page = take(feed.newer(start), shown, limit)[::-1]
        has_older = bool(page) and bool(take(feed.older(feed.left(feed.key(page[-1]))), shown, 1))
    else:
        top = len(feed) if until is None else feed.left((until + 1,))
        if anchor is not None:
            top = min(top, feed.left(anchor))
        floor = 0 if since is None else feed.left((since,))
        candidates = take(feed.older(top, floor), shown, limit + 1) if limit else []
        page = candidates[:limit]
        has_older = len(candidates) > len(page)
    if not page:
        return [], None
    first, last = feed.key(page[0]), feed.key(page[-1])
    paging = {"previous": link(base, path, {**keep, "limit": limit, "since": first[0],
                                            "__paging_token": _paging_token(*first), "__previous": 1})}
    if has_older:
        paging["next"] = link(base, path, {**keep, "limit": limit, "until": last[0],
                                           "__paging_token": _paging_token(*last)})
    return page, paging


# --- cursor-based -------------------------------------------------------------------------

def cursor_of(item_id: str) -> str:
    """The opaque cursor of an item (base64 of its id, like Graph's)."""
    return base64.b64encode(item_id.encode()).decode()


def _read_cursor(cursor: str) -> str:
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("Invalid cursor") from None


def cursor_page(items: Sequence, item_id: Callable, args, base: str, path: str, keep: dict,
                limit: int | None = None):
    """One page of ``items`` in their given order, by ``after``/``before`` cursors.

    Returns ``(page_items, paging_or_None)``; ``paging`` always has ``cursors`` when the
    page is not empty, ``next`` only when items follow and ``previous`` only when items
    precede.
    """
    limit = limit_arg(args.get("limit")) if limit is None else limit
    ids = [item_id(it) for it in items]
    start, end = 0, len(items)
    if args.get("after"):
        marker = _read_cursor(args["after"])
        start = ids.index(marker) + 1 if marker in ids else len(items)
        page = list(items[start:start + limit])
        end = start + len(page)
    elif args.get("before"):
        marker = _read_cursor(args["before"])
        end = ids.index(marker) if marker in ids else 0
        start = max(0, end - limit)
        page = list(items[start:end])
    else:
        page = list(items[:limit])
        end = len(page)
    if not page:
        return [], None
    paging = {"cursors": {"before": cursor_of(item_id(page[0])), "after": cursor_of(item_id(page[-1]))}}
    if start > 0:
        paging["previous"] = link(base, path, {**keep, "limit": limit, "before": paging["cursors"]["before"]})
    if end < len(items):
        paging["next"] = link(base, path, {**keep, "limit": limit, "after": paging["cursors"]["after"]})
    return page, paging


def feed_cursor_page(feed: SortedFeed, shown: Callable, find: Callable, args, base: str, path: str,
                     keep: dict):
    """:func:`cursor_page` over the stories of ``feed`` that pass ``shown`` (newest
    first), with the cursor's story found by ``find(id)`` and placed by a binary search.

    A cursor naming a story that is not in the list (deleted, hidden from this token,
    unknown) gives an empty page, as :func:`cursor_page` does.
    """
    limit = limit_arg(args.get("limit"))
    newer_exist = older_exist = False
    if args.get("after") or args.get("before"):
        marker = find(_read_cursor(args.get("after") or args.get("before")))
        at = feed.left(feed.key(marker)) if marker is not None and shown(marker) else None
        if at is None or at == len(feed) or feed[at] is not marker:
            return [], None
        if args.get("after"):
            page = take(feed.older(at), shown, limit + 1)
            page, older_exist, newer_exist = page[:limit], len(page) > limit, True
        else:
            page = take(feed.newer(at + 1), shown, limit + 1)
            page, newer_exist, older_exist = page[:limit][::-1], len(page) > limit, True
    else:
        page = take(feed.older(), shown, limit + 1)
        page, older_exist = page[:limit], len(page) > limit
    if not page:
        return [], None
    first, last = cursor_of(page[0].id), cursor_of(page[-1].id)
    paging = {"cursors": {"before": first, "after": last}}
    if newer_exist:
        paging["previous"] = link(base, path, {**keep, "limit": limit, "before": first})
    if older_exist:
        paging["next"] = link(base, path, {**keep, "limit": limit, "after": last})
    return page, paging
