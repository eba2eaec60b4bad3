"""Graph JSON → the plain values of :mod:`streamdesk_contract.values`.

The readers here check the shape of what they read and raise
:class:`~.guard.Malformed` when Graph's answer is not what its reference documents, so
that no half-read value (an id ``"None"``, a story without a date) reaches the core.
"""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from streamdesk_contract.times import parse_time
from streamdesk_contract.values import Comment, Message, PageInfo, Story

from .guard import Malformed

#: Facebook counts insights per Pacific day, whatever the page's own time zone.
PACIFIC = ZoneInfo("America/Los_Angeles")
#: What the plugin asks for about a page (search results, managed pages).
PAGE_FIELDS = "id,name,username,link,category,fan_count,followers_count,picture"


def insights_day(end_time) -> date:
    """The day an insights value covers: the Pacific day that ended at its ``end_time``
    (``2026-03-08T08:00:00+0000`` → 7 March, ``2026-03-09T07:00:00+0000`` → 8 March).
    Reading the UTC date instead would be one day late, and the UTC hour changes with
    daylight saving time."""
    return (parse_time(end_time).astimezone(PACIFIC) - timedelta(microseconds=1)).date()


def unix(value) -> int:
    """A Graph timestamp as unix seconds."""
    return int(parse_time(value).timestamp())


def node_id(node) -> str:
    """The ``id`` of a node: a non-empty string (or a number, which older answers use)."""
    value = node.get("id") if isinstance(node, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise Malformed("a node without a usable id")
    return str(value)


def items(body) -> list[dict]:
    """The ``data`` list of a list edge (an edge Graph left out when empty reads as [])."""
    if body is None:
        return []
    if not isinstance(body, dict):
        raise Malformed("a list edge that is not an object")
    data = body.get("data", [])
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise Malformed("a list edge whose data is not a list of objects")
    return data


def next_link(body) -> str | None:
    """The ``paging.next`` link of a list edge, if any."""
    paging = body.get("paging") or {}
    if not isinstance(paging, dict):
        raise Malformed("paging that is not an object")
    link = paging.get("next")
    if link is not None and not isinstance(link, str):
        raise Malformed("a paging link that is not a string")
    return link or None


def updated(node: dict) -> int:
    """When a story last changed (``updated_time``, else ``created_time``), unix seconds."""
    return unix(node.get("updated_time") or node.get("created_time"))


def permissions(body) -> list[tuple[str, str]]:
    """``/me/permissions`` as (permission, status) pairs."""
    rows = []
    for row in items(body):
        name, status = row.get("permission"), row.get("status")
        if not isinstance(name, str) or not name or not isinstance(status, str):
            raise Malformed("a permission row without its name or status")
        rows.append((name, status))
    return rows


def page_info(node: dict) -> PageInfo:
    """A page node as PageInfo (followers: followers_count, else fan_count)."""
    page_id = node_id(node)
    picture = ((node.get("picture") or {}).get("data") or {}).get("url")
    followers = node.get("followers_count", node.get("fan_count"))
    return PageInfo(page_id=page_id, name=node.get("name", ""), handle=node.get("username"),
                     url=node.get("link") or f"https://www.facebook.com/{node.get('username') or page_id}",
                     picture_url=picture, followers=followers, category=node.get("category"))


def story(node: dict) -> Story:
    """A feed item: its own text (or Facebook's story line), never the object it points to."""
    author = node.get("from") or {}
    return Story(external_id=node_id(node), created_at=parse_time(node.get("created_time")),
                 text=node.get("message") or node.get("story") or "",
                 author_id=author.get("id"), author_name=author.get("name"), url=node.get("permalink_url"),
                 raw_type=node.get("status_type"),
                 updated_at=parse_time(node["updated_time"]) if node.get("updated_time") else None,
                 is_hidden=bool(node.get("is_hidden", False)))


def comment(node: dict, story_id: str) -> Comment:
    """A comment or reply node (``parent`` set for replies)."""
    author = node.get("from") or {}
    parent = (node.get("parent") or {}).get("id")
    return Comment(external_id=node_id(node), story_id=story_id, created_at=parse_time(node.get("created_time")),
                   text=node.get("message") or "", author_id=author.get("id"), author_name=author.get("name"),
                   parent_id=parent, is_hidden=bool(node.get("is_hidden", False)))


def message(node: dict, conversation_id: str) -> Message:
    """A Messenger message node."""
    sender = node.get("from") or {}
    return Message(external_id=node_id(node), conversation_id=conversation_id,
                   created_at=parse_time(node.get("created_time")), text=node.get("message") or "",
                   sender_id=sender.get("id"), sender_name=sender.get("name"))
