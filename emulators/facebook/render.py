"""Rendering Graph nodes and edges as JSON, honouring ``fields=`` selection.

Each node type has default fields (what Graph returns without ``fields``), plain fields
and edges; an edge asked as a field (``comments.limit(5).summary(true){id}``) renders
exactly like the top-level edge (``/{id}/comments?limit=5&summary=true&fields=id``),
including its paging links. What a token may see follows Graph: commenters' identities
and hidden comments only for the page's own token, a person's e-mail only for themself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import errors
from .fields import FieldSpec, unparse
from .model import Comment, Conversation, Message, Page, Person, Post, Token

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S+0000"
OMIT = object()
#: The node type Graph names in field errors, where it differs from the object's kind:
#: a post of a page is a ``PagePost`` node ("… on node type (PagePost)").
NODE_TYPES = {"Post": "PagePost"}
PAGING_ARGS = {"after", "before", "since", "until", "__paging_token", "__previous", "limit"}


def graph_time(at: datetime) -> str:
    """A datetime in Graph's ``2021-07-04T19:50:58+0000`` layout."""
    return at.strftime(GRAPH_TIME)


@dataclass
class Ctx:
    """What rendering needs to know about the request."""

    state: object
    token: Token
    base: str  # e.g. http://127.0.0.1:5000/v25.0
    query_token: str | None

    def is_page_token_of(self, page_id: str) -> bool:
        """Whether the request carries ``page_id``'s own page token."""
        return self.token.kind == "PAGE" and self.token.page_id == page_id

    def require(self, page_id: str, *permissions: str, read: bool = True) -> None:
        """Page content read with the page's own token needs its permissions; other
        tokens read public content (Page Public Content Access)."""
        if not self.is_page_token_of(page_id):
            return
        granted = self.state.granted(self.token.user_id)
        for permission in permissions:
            if permission not in granted:
                raise (errors.permission_missing_read(permission) if read else errors.permission_missing(permission))

    def keep(self, args: dict, children: list[FieldSpec] | None) -> dict:
        """Parameters a paging link repeats: the caller's token and the request's shape."""
        kept = {"access_token": self.query_token} if self.query_token else {}
        dropped = PAGING_ARGS | {"access_token", "appsecret_proof", "fields"}
        kept.update({k: v for k, v in args.items() if k not in dropped})
        if children:
            kept["fields"] = unparse(children)
        return kept


def render(ctx: Ctx, obj, specs: list[FieldSpec] | None) -> dict:
    """The JSON of one node with the requested (or default) fields."""
    table = FIELDS[obj.kind]
    specs = specs or [FieldSpec(name) for name in DEFAULTS[obj.kind]]
    out: dict = {}
    for spec in specs:
        fn = table.get(spec.name)
        if fn is None:
            if spec.name == "type" and obj.kind == "Post":
                raise errors.GraphError("(#12) type field is deprecated for versions v3.3 and higher", 12)
            raise errors.nonexisting_field(spec.name, NODE_TYPES.get(obj.kind, obj.kind))
        value = fn(ctx, obj, spec)
        if value is not OMIT:
            out[spec.name] = value
    if "id" not in out and obj.kind != "Message":
        out["id"] = obj.id  # Graph always includes the id of a node
    return out


def edge(ctx: Ctx, obj, name: str, args: dict, children: list[FieldSpec] | None) -> dict:
    """An edge of ``obj`` as ``{"data", "paging", "summary"}``."""
    from .edges import EDGES  # here, not at the top: the edges render through this module

    fn = EDGES.get(obj.kind, {}).get(name)
    if fn is None:
        if obj.kind == "User":
            raise errors.nonexisting_field(name, obj.kind)
        raise errors.unknown_path(f"{obj.id}/{name}")
    return fn(ctx, obj, args, children)


def _as_edge(name: str):
    def field_fn(ctx: Ctx, obj, spec: FieldSpec):
        args = dict(spec.modifiers)
        return edge(ctx, obj, name, args, spec.children)
    return field_fn


def _attr(name: str, fmt=None):
    def field_fn(ctx: Ctx, obj, spec: FieldSpec):
        value = getattr(obj, name)
        if value is None:
            return OMIT
        return fmt(value) if fmt else value
    return field_fn


def _profile(ctx: Ctx, object_id: str, spec: FieldSpec | None = None) -> dict:
    actor = ctx.state.world.objects.get(object_id)
    sub = spec.children if spec else None
    data = {"name": actor.name, "id": actor.id}
    if sub:
        return {k: data[k] for k in (s.name for s in sub) if k in data} | {"id": actor.id}
    return data


# --- pages ----------------------------------------------------------------------------

def _page_link(page: Page) -> str:
    return f"https://www.facebook.com/{page.username or page.id}"


def _picture(ctx: Ctx, obj, spec: FieldSpec):
    return {"data": {"height": 50, "is_silhouette": False,
                     "url": f"{ctx.base.rsplit('/', 1)[0]}/_static/picture/{obj.id}.svg", "width": 50}}


def _page_token(ctx: Ctx, page: Page, spec: FieldSpec):
    if ctx.token.kind != "USER" or ctx.token.user_id not in page.roles:
        return OMIT
    return ctx.state.page_token(ctx.token, page).value


PAGE_FIELDS = {
    "id": _attr("id"), "name": _attr("name"), "username": _attr("username"),
    "link": lambda ctx, p, s: _page_link(p), "fan_count": _attr("fan_count"),
    "followers_count": _attr("followers_count"), "category": _attr("category"),
    "category_list": lambda ctx, p, s: [{"id": str(2200 + len(p.category)), "name": p.category}],
    "picture": _picture, "verification_status": lambda ctx, p, s: "not_verified",
    "is_unclaimed": lambda ctx, p, s: False, "about": lambda ctx, p, s: f"{p.name} — {p.category.lower()}.",
    "location": lambda ctx, p, s: {"city": "Springfield", "country": "United States"},
    "access_token": _page_token,
    "feed": _as_edge("feed"), "posts": _as_edge("posts"), "published_posts": _as_edge("published_posts"),
    "insights": _as_edge("insights"), "conversations": _as_edge("conversations"),
}

# --- posts ----------------------------------------------------------------------------


def _permalink(ctx: Ctx, post: Post) -> str:
    page = ctx.state.world.objects[post.page_id]
    return f"https://www.facebook.com/{page.username or page.id}/posts/{post.local_id}"


def _attachments(ctx: Ctx, post: Post, spec: FieldSpec):
    kind = {"added_photos": ("album", "album"), "shared_story": ("link", "share"),
            "added_video": ("video", "video_inline")}.get(post.status_type)
    if not kind:
        return OMIT
    url = post.link or _permalink(ctx, post)
    attachment = {"media_type": kind[0], "type": kind[1], "title": (post.story or "")[:60], "url": url,
                  "target": {"id": post.local_id, "url": url}}
    if kind[0] != "link":
        picture = f"{ctx.base.rsplit('/', 1)[0]}/_static/picture/{post.id}.svg"
        attachment["media"] = {"image": {"height": 720, "src": picture, "width": 720}}
    if spec.children:
        attachment = {k: v for k, v in attachment.items() if k in {c.name for c in spec.children}}
    return {"data": [attachment]}


POST_FIELDS = {
    "id": _attr("id"), "message": _attr("message"), "story": _attr("story"),
    "created_time": _attr("created", graph_time), "updated_time": _attr("updated", graph_time),
    "permalink_url": lambda ctx, p, s: _permalink(ctx, p),
    "from": lambda ctx, p, s: _profile(ctx, p.author_id, s),
    "status_type": _attr("status_type"), "is_hidden": _attr("is_hidden"), "is_published": _attr("is_published"),
    "shares": lambda ctx, p, s: {"count": p.shares} if p.shares else OMIT,
    "full_picture": lambda ctx, p, s: (f"{ctx.base.rsplit('/', 1)[0]}/_static/picture/{p.id}.svg"
                                       if p.status_type in ("added_photos", "added_video") else OMIT),
    "attachments": _attachments,
    "privacy": lambda ctx, p, s: {"value": "EVERYONE", "description": "Public", "friends": "", "allow": "", "deny": ""},
    "comments": _as_edge("comments"), "reactions": _as_edge("reactions"), "likes": _as_edge("likes"),
    "insights": _as_edge("insights"),
}

# --- comments -------------------------------------------------------------------------


def _comment_from(ctx: Ctx, comment: Comment, spec: FieldSpec):
    post = ctx.state.world.objects[comment.post_id]
    # Graph hides who commented unless the page's own token asks (privacy since 2018).
    if comment.author_id != post.page_id and not ctx.is_page_token_of(post.page_id):
        return OMIT
    return _profile(ctx, comment.author_id, spec)


def _comment_parent(ctx: Ctx, comment: Comment, spec: FieldSpec):
    if comment.parent_id is None:
        return OMIT
    parent = ctx.state.world.get(comment.parent_id)
    if parent is None:
        return OMIT
    return render(ctx, parent, spec.children or [FieldSpec("created_time"), FieldSpec("from"),
                                                 FieldSpec("message"), FieldSpec("id")])


def _comment_permalink(ctx: Ctx, comment: Comment) -> str:
    post = ctx.state.world.objects[comment.post_id]
    return f"{_permalink(ctx, post)}?comment_id={comment.id.split('_', 1)[1]}"


COMMENT_FIELDS = {
    "id": _attr("id"), "message": _attr("message"), "created_time": _attr("created", graph_time),
    "from": _comment_from, "parent": _comment_parent, "is_hidden": _attr("is_hidden"),
    "like_count": lambda ctx, c, s: len(c.likers),
    "comment_count": lambda ctx, c, s: sum(1 for r in visible_comments(ctx, ctx.state.world.objects[c.post_id])
                                           if r.parent_id == c.id),
    "permalink_url": lambda ctx, c, s: _comment_permalink(ctx, c),
    "attachment": lambda ctx, c, s: OMIT,
    "can_hide": lambda ctx, c, s: ctx.is_page_token_of(ctx.state.world.objects[c.post_id].page_id),
    "can_remove": lambda ctx, c, s: ctx.is_page_token_of(ctx.state.world.objects[c.post_id].page_id),
    "user_likes": lambda ctx, c, s: ctx.token.page_id in c.likers,
    "comments": _as_edge("comments"), "likes": _as_edge("likes"), "reactions": _as_edge("reactions"),
}

# --- people ---------------------------------------------------------------------------


def _email(ctx: Ctx, person: Person, spec: FieldSpec):
    if ctx.token.user_id != person.id or "email" not in ctx.state.granted(person.id) or not person.email:
        return OMIT
    return person.email


USER_FIELDS = {
    "id": _attr("id"), "name": _attr("name"), "email": _email, "picture": _picture,
    "first_name": lambda ctx, p, s: p.name.split(" ")[0],
    "last_name": lambda ctx, p, s: p.name.split(" ", 1)[-1],
    "short_name": lambda ctx, p, s: p.name.split(" ")[0],
}

# --- conversations --------------------------------------------------------------------


def _participants(ctx: Ctx, convo: Conversation) -> list[dict]:
    person = ctx.state.world.objects[convo.person_id]
    page = ctx.state.world.objects[convo.page_id]
    return [{"name": person.name, "email": f"{convo.psid}@facebook.com", "id": convo.psid},
            {"name": page.name, "email": f"{page.id}@facebook.com", "id": page.id}]


CONVERSATION_FIELDS = {
    "id": _attr("id"), "updated_time": lambda ctx, c, s: graph_time(c.updated),
    "link": lambda ctx, c, s: f"/{ctx.state.world.objects[c.page_id].username or c.page_id}/inbox/{c.id[2:]}/",
    "snippet": lambda ctx, c, s: c.messages[-1].text[:100],
    "message_count": lambda ctx, c, s: len(c.messages), "unread_count": lambda ctx, c, s: 0,
    "can_reply": lambda ctx, c, s: True,
    "participants": lambda ctx, c, s: {"data": _participants(ctx, c)},
    "messages": _as_edge("messages"),
}


def render_message(ctx: Ctx, convo: Conversation, message: Message, specs: list[FieldSpec] | None) -> dict:
    """A message node (messages exist only inside their conversation here)."""
    person, page = _participants(ctx, convo)
    sender, recipient = (page, person) if message.from_page else (person, page)
    values = {"id": message.id, "created_time": graph_time(message.created), "from": sender,
              "to": {"data": [recipient]}, "message": message.text}
    specs = specs or [FieldSpec("id"), FieldSpec("created_time")]
    out = {}
    for spec in specs:
        if spec.name == "attachments":
            continue  # text-only seed: Graph omits empty attachments
        if spec.name not in values:
            raise errors.nonexisting_field(spec.name, "Message")
        out[spec.name] = values[spec.name]
    out.setdefault("id", message.id)
    return out


# --- visibility -----------------------------------------------------------------------

def shows_post(ctx: Ctx, page: Page, own_only: bool):
    """Whether a story of ``page``'s feed is in the list this token reads: live, the
    page's own when ``own_only`` (``/posts``), published and not hidden unless read with
    the page's own token."""
    own_token = ctx.is_page_token_of(page.id)

    def shown(post: Post) -> bool:
        return (not post.deleted and (not own_only or post.author_id == page.id)
                and (own_token or (post.is_published and not post.is_hidden)))
    return shown


def visible_comments(ctx: Ctx, post: Post) -> list[Comment]:
    comments = ctx.state.world.comments(post.id)
    if not ctx.is_page_token_of(post.page_id):
        hidden = {c.id for c in comments if c.is_hidden}
        comments = [c for c in comments if c.id not in hidden and c.parent_id not in hidden]
    return comments


FIELDS = {"Page": PAGE_FIELDS, "Post": POST_FIELDS, "Comment": COMMENT_FIELDS, "User": USER_FIELDS,
          "Conversation": CONVERSATION_FIELDS}
DEFAULTS = {
    "Page": ("name", "id"), "Post": ("created_time", "message", "story", "id"),
    "Comment": ("created_time", "from", "message", "id"), "User": ("name", "id"),
    "Conversation": ("link", "updated_time", "id"),
}
