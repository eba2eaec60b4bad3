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


def time_page(items: Sequence, key: Callable, args, base: str, path: str, keep: dict):
    """One page of ``items`` (newest first; ``key(item)`` → (unix time, id)).

    Returns ``(page_items, paging_or_None)`` following Graph's rules: ``until`` and
    ``since`` are inclusive bounds, ``__paging_token`` breaks ties within a second,
    ``__previous=1`` asks for the items just newer than ``since``.
    """
    limit = limit_arg(args.get("limit"))
    since = timestamp_arg(args.get("since"), "since")
    until = timestamp_arg(args.get("until"), "until")
    anchor = _read_paging_token(args.get("__paging_token"))
    previous = args.get("__previous") == "1"
    if previous:
        if anchor is not None:
            newer = [it for it in items if key(it) > anchor]
        else:
            newer = [it for it in items if since is None or key(it)[0] >= since]
        page = newer[-limit:] if limit else []  # the ones just newer than the anchor
        has_older = bool(page) and any(key(it) < key(page[-1]) for it in items)
    else:
        candidates = [it for it in items
                      if (until is None or key(it)[0] <= until)
                      and (since is None or key(it)[0] >= since)
                      and (anchor is None or key(it) < anchor)]
        page = candidates[:limit]
        has_older = len(candidates) > len(page)
    if not page:
        return [], None
    first, last = key(page[0]), key(page[-1])
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
