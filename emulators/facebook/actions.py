"""Graph writes: publish to a page feed, comment and reply, like, hide/unhide, delete,
and send a Messenger message — each checked against the token's permissions and the
person's tasks on the page, as Graph checks them.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from . import errors, subscribed_apps, webhooks
from .errors import GraphError
from .fields import parse
from .model import Comment, Conversation, Message, Page, Post
from .render import Ctx, render

MODERATE = ("MODERATE", "MANAGE")
CREATE = ("CREATE_CONTENT", "MANAGE", "MODERATE")
MESSAGING = ("MESSAGING", "MODERATE", "MANAGE")


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _page_of(ctx: Ctx, obj) -> Page:
    world = ctx.state.world
    if isinstance(obj, Page):
        return obj
    if isinstance(obj, Post):
        return world.objects[obj.page_id]
    if isinstance(obj, Comment):
        return world.objects[world.objects[obj.post_id].page_id]
    if isinstance(obj, Conversation):
        return world.objects[obj.page_id]
    raise errors.unknown_object(obj.id, "post")


def _authorize(ctx: Ctx, page: Page, permissions: tuple[str, ...], tasks: tuple[str, ...],
               on_missing=errors.permission_missing) -> None:
    """Writes need the page's own token, the permissions and one of the ``tasks``."""
    if not ctx.is_page_token_of(page.id):
        raise errors.page_token_required()
    granted = ctx.state.granted(ctx.token.user_id)
    for permission in permissions:
        if permission not in granted:
            raise on_missing(permission)
    if not set(tasks) & set(ctx.state.tasks(ctx.token, page.id)):
        raise errors.task_missing(tasks[0])


def _local_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def publish(ctx: Ctx, page: Page, args: dict) -> dict:
    """``POST /{page-id}/feed``."""
    _authorize(ctx, page, ("pages_read_engagement", "pages_manage_posts"), CREATE,
               on_missing=lambda p: errors.publish_not_allowed())
    message, link = args.get("message"), args.get("link")
    if not message and not link:
        raise GraphError("(#100) Missing message or attachment", 100)
    now = ctx.state.now()
    feed = ctx.state.world.feed(page.id)
    day_ago = int((now - timedelta(days=1)).timestamp())
    recent = [p for p in feed.older(floor=feed.right((day_ago,)))  # only the last day's stories
              if not p.deleted and p.author_id == page.id and now - p.created < timedelta(days=1)]
    if message and any(p.message == message for p in recent):
        raise errors.duplicate_post()
    published = not ("published" in args and not _truthy(args["published"]))
    post = Post(id=f"{page.id}_{_local_id()}", page_id=page.id, author_id=page.id, message=message,
                story=f"{page.name} shared a link." if link else None,
                status_type="shared_story" if link else "mobile_status_update",
                created=now, updated=now, link=link, is_published=published)
    ctx.state.world.add(post)
    if published:
        ctx.state.webhooks.feed_change(page.id, webhooks.post_value(ctx.state.world, post))
    if args.get("fields"):
        return render(ctx, post, parse(args["fields"]))
    return {"id": post.id}


def comment(ctx: Ctx, target, args: dict) -> dict:
    """``POST /{post-or-comment-id}/comments``: the page comments or replies."""
    page = _page_of(ctx, target)
    _authorize(ctx, page, ("pages_manage_engagement",), MODERATE)
    if not args.get("message") and not args.get("attachment_url"):
        raise GraphError("(#100) Missing message or attachment", 100)
    world = ctx.state.world
    post = target if isinstance(target, Post) else world.objects[target.post_id]
    parent = None
    if isinstance(target, Comment):
        # A reply to a reply joins the thread of the top-level comment, as on Facebook.
        parent = target.parent_id or target.id
    now = ctx.state.now()
    new = Comment(id=f"{post.local_id}_{_local_id()}", post_id=post.id, parent_id=parent, author_id=page.id,
                  message=args.get("message") or "", created=now)
    world.add(new)
    post.updated = now
    ctx.state.webhooks.feed_change(page.id, webhooks.comment_value(world, new))
    return {"id": new.id}


def like(ctx: Ctx, target, undo: bool) -> dict:
    """``POST``/``DELETE /{object-id}/likes`` as the page."""
    page = _page_of(ctx, target)
    _authorize(ctx, page, ("pages_manage_engagement",), MODERATE)
    if undo:
        target.likers.discard(page.id)
    else:
        target.likers.add(page.id)
    return {"success": True}


def update(ctx: Ctx, obj, args: dict) -> dict:
    """``POST /{id}``: hide or unhide a comment or visitor post, or edit a post's text."""
    if not isinstance(obj, (Comment, Post)):
        raise errors.unknown_object(obj.id, "post")
    page = _page_of(ctx, obj)
    if "is_hidden" in args:
        _authorize(ctx, page, ("pages_manage_engagement",), MODERATE)
        obj.is_hidden = _truthy(args["is_hidden"])
        return {"success": True}
    if "message" in args and isinstance(obj, Post):
        _authorize(ctx, page, ("pages_manage_posts",), CREATE)
        obj.message = args["message"]
        obj.updated = ctx.state.now()
        return {"success": True}
    raise GraphError("(#100) No fields to update were given", 100)


def delete(ctx: Ctx, obj) -> dict:
    """``DELETE /{id}``: a post (with its comments) or a comment (with its replies)."""
    page = _page_of(ctx, obj)
    world = ctx.state.world
    if isinstance(obj, Post):
        if obj.author_id == page.id:
            _authorize(ctx, page, ("pages_manage_posts",), ("CREATE_CONTENT", "MANAGE"))
        else:
            _authorize(ctx, page, ("pages_manage_engagement",), MODERATE)
        obj.deleted = True
    elif isinstance(obj, Comment):
        _authorize(ctx, page, ("pages_manage_engagement",), MODERATE)
        obj.deleted = True
        for reply in world.comments(obj.post_id):
            if reply.parent_id == obj.id:
                reply.deleted = True
    else:
        raise errors.unknown_object(obj.id, "delete")
    return {"success": True}


def send_message(ctx: Ctx, page: Page, args: dict) -> dict:
    """``POST /{page-id}/messages`` (Send API) within Messenger's 24-hour window."""
    _authorize(ctx, page, ("pages_messaging",), MESSAGING)
    try:
        recipient = json.loads(args.get("recipient") or "{}")
        message = json.loads(args.get("message") or "{}")
    except ValueError:
        raise GraphError("(#100) param recipient must be a JSON object", 100) from None
    psid = str(recipient.get("id", ""))
    convo = next((c for c in ctx.state.world.conversations(page.id) if c.psid == psid), None)
    if convo is None:
        raise GraphError("(#100) No matching user found", 100, 2018001)
    if not message.get("text"):
        raise GraphError("(#100) param message must be non-empty.", 100)
    now = ctx.state.now()
    last_from_person = max((m.created for m in convo.messages if not m.from_page), default=None)
    window = timedelta(days=7) if args.get("tag") == "HUMAN_AGENT" else timedelta(hours=24)
    if last_from_person is None or now - last_from_person > window:
        raise errors.outside_messaging_window()
    mid = "m_" + hashlib.sha256(f"{convo.id}:{now.isoformat()}:{secrets.token_hex(4)}".encode()).hexdigest()[:40]
    convo.messages.append(Message(id=mid, created=now, from_page=True, text=message["text"]))
    return {"recipient_id": psid, "message_id": mid}


def edge_write(ctx: Ctx, obj, edge_name: str, args: dict, method: str) -> dict:
    """``POST``/``DELETE /{id}/{edge}``."""
    if method == "POST" and edge_name == "feed" and isinstance(obj, Page):
        return publish(ctx, obj, args)
    if method == "POST" and edge_name == "comments" and isinstance(obj, (Post, Comment)):
        return comment(ctx, obj, args)
    if edge_name == "likes" and isinstance(obj, (Post, Comment)):
        return like(ctx, obj, undo=method == "DELETE")
    if method == "POST" and edge_name == "messages" and isinstance(obj, Page):
        return send_message(ctx, obj, args)
    if edge_name == "subscribed_apps" and isinstance(obj, Page):
        return subscribed_apps.write(ctx, obj, args, method)
    raise errors.unknown_path(f"{obj.id}/{edge_name}")
