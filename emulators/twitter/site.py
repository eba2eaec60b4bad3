"""The emulator's public web pages, where Streamdesk's links go in sandbox mode.

``/<handle>`` shows an account and its newest posts, ``/<handle>/status/<id>`` (and
``/i/web/status/<id>``) one post with its visible replies — the paths of x.com, which
knows nothing of the emulated world. Everything is escaped by :mod:`emulators.webpage`.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import islice

from flask import Blueprint, redirect

from emulators.webpage import Item, not_found, render

from .gateway import current_state
from .state import State, Tweet

bp = Blueprint("twitter_site", __name__)

NETWORK = "X"
#: A profile shows this many of its newest posts.
RECENT = 25
HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def _when(tweet: Tweet) -> str:
    return datetime.fromtimestamp(tweet.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _item(state: State, tweet: Tweet, link: bool = True) -> Item:
    author = state.users[tweet.author_id]
    return Item(title=f"{author.name} @{author.username}", text=tweet.text, meta=_when(tweet),
                href=f"/{author.username}/status/{tweet.id}" if link else None)


def _readable(state: State, tweet: Tweet | None) -> Tweet | None:
    """A post anyone may read: visible, and its author neither protected nor suspended."""
    if tweet is None:
        return None
    author = state.users[tweet.author_id]
    return None if author.protected or author.suspended else tweet


@bp.get("/<handle>")
def profile(handle: str):
    """An account with its newest posts, each linking to its own page."""
    state = current_state()
    with state.lock:
        user = state.user_by_name(handle) if HANDLE.match(handle) else None
        if user is None or user.suspended:
            return not_found(NETWORK, "This account")
        if user.protected:
            return render(NETWORK, f"{user.name} (@{user.username})", ["These posts are protected."], [])
        items = [_item(state, t) for t in islice(state.tweets_of(user.id).older(), RECENT)]
        lines = [f"@{user.username}", user.description, f"{user.followers_count:,} followers"]
        return render(NETWORK, user.name, lines, items, heading="Posts")


@bp.get("/<handle>/status/<tweet_id>")
def status(handle: str, tweet_id: str):
    """One post with its visible replies (the handle is not checked: x.com ignores it)."""
    state = current_state()
    with state.lock:
        tweet = _readable(state, state.visible(tweet_id) if tweet_id.isdigit() else None)
        if tweet is None:
            return not_found(NETWORK, "This post")
        author = state.users[tweet.author_id]
        replies = sorted((t for t in state.tweets.values()
                          if t.ref("replied_to") == tweet.id and not t.deleted and not t.hidden
                          and _readable(state, t)), key=lambda t: int(t.id))
        lines = [tweet.text, f"@{author.username} · {_when(tweet)}"]
        return render(NETWORK, author.name, lines, [_item(state, t) for t in replies], heading="Replies")


@bp.get("/i/web/status/<tweet_id>")
def web_status(tweet_id: str):
    """A post linked without its author's handle: on to its page, as x.com does."""
    state = current_state()
    with state.lock:
        tweet = state.visible(tweet_id) if tweet_id.isdigit() else None
        if tweet is None:
            return not_found(NETWORK, "This post")
        return redirect(f"/{state.users[tweet.author_id].username}/status/{tweet.id}")
