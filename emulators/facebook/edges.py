"""Graph list edges: ``/feed``, ``/posts``, ``/comments``, ``/reactions``, ``/likes``,
``/insights``, ``/conversations`` and a conversation's ``/messages``, with their paging,
summaries and the permission checks Graph makes when reading them.

:data:`EDGES` is what both the top-level routes and nested field expansion
(``comments.limit(5){…}``) dispatch through, via :func:`.render.edge`.
"""
from __future__ import annotations

from . import errors, insights, subscribed_apps
from .model import Comment, Conversation, Page, Post
from .paging import cursor_page, feed_cursor_page, limit_arg, time_page
from .render import Ctx, render, render_message, shows_post, visible_comments
from .seed import stable_int

#: From how many comments a page post's comments are ranked (a lone comment has no rank).
RANKED_FROM = 2


def _story_edge(edge_name: str, own_only: bool, permissions: tuple[str, ...]):
    def edge_fn(ctx: Ctx, page: Page, args: dict, children):
        ctx.require(page.id, *permissions)
        feed, shown = ctx.state.world.feed(page.id), shows_post(ctx, page, own_only)
        keep = ctx.keep(args, children)
        if ctx.state.feed_paging == "cursor":  # switched by the control API
            page_items, paging = feed_cursor_page(feed, shown, lambda i: _post_of(ctx, page, i), args, ctx.base,
                                                  f"{page.id}/{edge_name}", keep)
        else:
            page_items, paging = time_page(feed, shown, args, ctx.base, f"{page.id}/{edge_name}", keep)
        out = {"data": [render(ctx, p, children) for p in page_items]}
        if paging:
            out["paging"] = paging
        return out
    return edge_fn


def _post_of(ctx: Ctx, page: Page, post_id: str) -> Post | None:
    post = ctx.state.world.objects.get(post_id)
    return post if isinstance(post, Post) and post.page_id == page.id else None


def _rank(comments: list[Comment], all_comments: list[Comment]) -> list[Comment]:
    """Graph's "ranked" order: most engaging first (likes, then replies), not by time.
    Deterministic here, so tests can tell it from either chronological order."""
    replies = {}
    for c in all_comments:
        if c.parent_id:
            replies[c.parent_id] = replies.get(c.parent_id, 0) + 1
    return sorted(comments, key=lambda c: (-(5 * len(c.likers) + 3 * replies.get(c.id, 0)
                                             + stable_int(c.id, "rank") % 7), c.id))


def _comments_edge(ctx: Ctx, obj, args: dict, children):
    post = obj if isinstance(obj, Post) else ctx.state.world.objects[obj.post_id]
    ctx.require(post.page_id, "pages_read_engagement", "pages_read_user_content")
    comments = visible_comments(ctx, post)
    if isinstance(obj, Comment):
        items = [c for c in comments if c.parent_id == obj.id]
    elif args.get("filter", "toplevel") == "stream":
        items = comments
    else:
        items = [c for c in comments if c.parent_id is None]
    order = args.get("order", "chronological")
    if order not in ("chronological", "reverse_chronological"):
        raise errors.invalid_parameter("order must be one of the following values: chronological, "
                                       "reverse_chronological")
    if isinstance(obj, Post) and len(items) >= RANKED_FROM:
        # "If the comments can be ranked, then the order will always be ranked irrespective
        # of this modifier" (Graph reference, Object Comments edge): a page post's are.
        order = "ranked"
        items = _rank(items, comments)
    elif order == "reverse_chronological":
        items = list(reversed(items))
    page_items, paging = cursor_page(items, lambda c: c.id, args, ctx.base, f"{obj.id}/comments",
                                     ctx.keep(args, children))
    out = {"data": [render(ctx, c, children) for c in page_items]}
    if paging:
        out["paging"] = paging
    if str(args.get("summary", "")).lower() in ("true", "1", "total_count"):
        out["summary"] = {"order": order, "total_count": len(items),
                          "can_comment": ctx.is_page_token_of(post.page_id)}
    return out


def _reactions_edge(ctx: Ctx, obj, args: dict, children):
    likers = [{"id": i, "name": ctx.state.world.objects[i].name, "type": "LIKE"} for i in sorted(obj.likers)]
    out = {"data": likers[:limit_arg(args.get("limit"))]}
    if str(args.get("summary", "")).lower() in ("true", "1", "total_count"):
        total = sum(getattr(obj, "reactions", {}).values()) + len(obj.likers)
        viewer = "LIKE" if ctx.token.page_id in obj.likers else "NONE"
        out["summary"] = {"total_count": total, "viewer_reaction": viewer}
    return out


def _likes_edge(ctx: Ctx, obj, args: dict, children):
    out = _reactions_edge(ctx, obj, args, children)
    out["data"] = [{"id": d["id"], "name": d["name"]} for d in out["data"]]
    if "summary" in out:
        out["summary"] = {"total_count": getattr(obj, "reactions", {}).get("LIKE", 0) + len(obj.likers),
                          "can_like": True, "has_liked": ctx.token.page_id in obj.likers}
    return out


def _insights_edge(ctx: Ctx, obj, args: dict, children):
    page_id = obj.id if isinstance(obj, Page) else obj.page_id
    if not ctx.is_page_token_of(page_id):
        # Not 210 as elsewhere: insights answer 400 with a bare 190, as captured live.
        raise errors.page_access_token_required()
    granted = ctx.state.granted(ctx.token.user_id)
    if "read_insights" not in granted or "ANALYZE" not in ctx.state.tasks(ctx.token, page_id):
        raise errors.insights_not_allowed()
    ctx.require(page_id, "pages_read_engagement")
    if isinstance(obj, Post):
        return {"data": insights.post_rows(obj, args.get("metric"), ctx.base)}
    rows, paging = insights.page_rows(obj, args, ctx.state.now(), ctx.base, ctx.keep(args, children))
    return {"data": rows, "paging": paging}


def _conversations_edge(ctx: Ctx, page: Page, args: dict, children):
    if not ctx.is_page_token_of(page.id):
        raise errors.page_token_required()
    granted = ctx.state.granted(ctx.token.user_id)
    for permission in ("pages_messaging", "pages_manage_metadata", "pages_read_engagement"):
        if permission not in granted:
            raise errors.permission_missing(permission)
    if not {"MESSAGING", "MODERATE", "MANAGE"} & set(ctx.state.tasks(ctx.token, page.id)):
        raise errors.task_missing("MESSAGING")
    if args.get("platform", "messenger") not in ("messenger", "instagram"):
        raise errors.invalid_parameter("platform must be one of the following values: instagram, messenger")
    convos = ctx.state.world.conversations(page.id) if args.get("platform", "messenger") == "messenger" else []
    if args.get("user_id"):
        convos = [c for c in convos if c.psid == args["user_id"]]
    page_items, paging = cursor_page(convos, lambda c: c.id, args, ctx.base, f"{page.id}/conversations",
                                     ctx.keep(args, children))
    out = {"data": [render(ctx, c, children) for c in page_items]}
    if paging:
        out["paging"] = paging
    return out


def _messages_edge(ctx: Ctx, convo: Conversation, args: dict, children):
    newest_first = list(reversed(convo.messages))
    page_items, paging = cursor_page(newest_first, lambda m: m.id, args, ctx.base, f"{convo.id}/messages",
                                     ctx.keep(args, children))
    out = {"data": [render_message(ctx, convo, m, children) for m in page_items]}
    if paging:
        out["paging"] = paging
    return out


EDGES = {
    "Page": {"feed": _story_edge("feed", False, ("pages_read_engagement", "pages_read_user_content")),
             "posts": _story_edge("posts", True, ("pages_read_engagement",)),
             "published_posts": _story_edge("published_posts", True, ("pages_read_engagement",)),
             "insights": _insights_edge, "conversations": _conversations_edge,
             "subscribed_apps": subscribed_apps.read},
    "Post": {"comments": _comments_edge, "reactions": _reactions_edge, "likes": _likes_edge,
             "insights": _insights_edge},
    "Comment": {"comments": _comments_edge, "likes": _likes_edge, "reactions": _reactions_edge},
    "Conversation": {"messages": _messages_edge},
}
