"""Graph JSON → the plain values of :mod:`webapp.values`."""
from __future__ import annotations

from datetime import UTC, datetime

from webapp.values import Comment, Message, PageInfo, Story

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"
#: What the plugin asks for about a page (search results, managed pages).
PAGE_FIELDS = "id,name,username,link,category,fan_count,followers_count,picture"


def parse_time(value: str) -> datetime:
    """Graph's ``2021-07-04T19:50:58+0000`` as an aware UTC datetime."""
    return datetime.strptime(value, GRAPH_TIME).astimezone(UTC)


def unix(value: str) -> int:
    """A Graph timestamp as unix seconds."""
    return int(parse_time(value).timestamp())


def page_info(node: dict) -> PageInfo:
    """A page node as PageInfo (followers: followers_count, else fan_count)."""
    picture = ((node.get("picture") or {}).get("data") or {}).get("url")
    followers = node.get("followers_count", node.get("fan_count"))
    return PageInfo(page_id=str(node["id"]), name=node.get("name", ""), handle=node.get("username"),
                     url=node.get("link") or f"https://www.facebook.com/{node.get('username') or node['id']}",
                     picture_url=picture, followers=followers, category=node.get("category"))


def story(node: dict) -> Story:
    """A feed item: its own text (or Facebook's story line), never the object it points to."""
    author = node.get("from") or {}
    return Story(external_id=str(node["id"]), created_at=parse_time(node["created_time"]),
                 text=node.get("message") or node.get("story") or "",
                 author_id=author.get("id"), author_name=author.get("name"), url=node.get("permalink_url"),
                 raw_type=node.get("status_type"),
                 updated_at=parse_time(node["updated_time"]) if node.get("updated_time") else None,
                 is_hidden=bool(node.get("is_hidden", False)))


def comment(node: dict, story_id: str) -> Comment:
    """A comment or reply node (``parent`` set for replies)."""
    author = node.get("from") or {}
    parent = (node.get("parent") or {}).get("id")
    return Comment(external_id=str(node["id"]), story_id=story_id, created_at=parse_time(node["created_time"]),
                   text=node.get("message") or "", author_id=author.get("id"), author_name=author.get("name"),
                   parent_id=parent, is_hidden=bool(node.get("is_hidden", False)))


def message(node: dict, conversation_id: str) -> Message:
    """A Messenger message node."""
    sender = node.get("from") or {}
    return Message(external_id=str(node["id"]), conversation_id=conversation_id,
                   created_at=parse_time(node["created_time"]), text=node.get("message") or "",
                   sender_id=sender.get("id"), sender_name=sender.get("name"))
