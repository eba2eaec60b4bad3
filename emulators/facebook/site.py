"""The emulator's public web pages, where Streamdesk's links go in sandbox mode.

``/pages/<id or username>`` shows a page and its recent stories, ``/posts/<story id>``
one story with its visible comments. They stand in for www.facebook.com, which knows
nothing of the emulated world; everything is escaped by :mod:`emulators.webpage`.
"""
from __future__ import annotations

from flask import Blueprint, current_app

from emulators.sortedfeed import take
from emulators.webpage import Item, not_found, render

from .model import Page, Post

# Under /_web: the Graph routes take every other unversioned path (as the default version).
bp = Blueprint("site", __name__, url_prefix="/_web")

NETWORK = "Facebook"
#: A page shows this many of its newest stories.
RECENT = 25


def _state():
    return current_app.config["FB_STATE"]


def _when(post_or_comment) -> str:
    return post_or_comment.created.strftime("%Y-%m-%d %H:%M UTC")


def _name(world, object_id: str) -> str:
    return getattr(world.objects.get(object_id), "name", None) or "Someone"


def _visible(world, post_id: str) -> Post | None:
    post = world.get(post_id)
    return post if isinstance(post, Post) and post.is_published else None


@bp.get("/pages/<ref>")
def page(ref: str):
    """A page, found by id or username, with its newest stories linking to their pages."""
    st = _state()
    with st.lock:
        world = st.world
        found = world.get(ref)
        found = found if isinstance(found, Page) else world.page_by_username(ref)
        if found is None:
            return not_found(NETWORK, "This page")
        items = [Item(title=_name(world, p.author_id), text=p.message or p.story or "", meta=_when(p),
                      href=f"/_web/posts/{p.id}")
                 for p in take(world.feed(found.id).older(), lambda p: not p.deleted, RECENT) if p.is_published]
        lines = [f"@{found.username}" if found.username else "", found.category,
                 f"{found.followers_count:,} followers"]
        return render(NETWORK, found.name, lines, items, heading="Recent posts")


@bp.get("/posts/<post_id>")
def post(post_id: str):
    """One story with its visible comments and replies."""
    st = _state()
    with st.lock:
        world = st.world
        found = _visible(world, post_id)
        if found is None:
            return not_found(NETWORK, "This post")
        items = [Item(title=_name(world, c.author_id), text=c.message, meta=_when(c))
                 for c in world.comments(found.id) if not c.is_hidden]
        lines = [found.message or found.story or "", f"Posted {_when(found)} on {_name(world, found.page_id)}"]
        return render(NETWORK, _name(world, found.author_id), lines, items, heading="Comments")
