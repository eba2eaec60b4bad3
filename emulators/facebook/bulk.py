"""Bulk content for load and fault tests: thousands of stories with comments in one
control call, and the ids a page's own token can read (the truth a crawl is compared with).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from .model import Comment, Page, Person, Post, World

#: Most stories (and most comments) one bulk call may add: a million-story page takes
#: one call; a typo cannot eat the memory. Calls add up.
MAX_POSTS = 1_000_000
MAX_COMMENTS = 500


def add_stories(world: World, page: Page, newest: datetime, count: int, comments: int, replies: int,
                spacing: float) -> dict:
    """``count`` stories on ``page``, the newest at ``newest`` and each ``spacing``
    seconds older than the one before (distinct seconds: Graph pages the feed by time),
    each with ``comments`` comments and ``replies`` replies under its first comment,
    one second apart after the story. Returns how many of each were added."""
    fans = [p for p in world.objects.values() if isinstance(p, Person) and not p.can_login]
    # Distinct local ids without a draw per story: a random start and a fixed stride.
    first, stride = 10**15 + secrets.randbelow(4 * 10**15), 1 + secrets.randbelow(997)
    posts = []
    for n in range(count):
        # Graph's times are whole seconds: with spacing under 1, stories share a second
        # and, as on Graph, the later story has the higher id.
        at = (newest - timedelta(seconds=n * spacing)).replace(microsecond=0)
        post_id = f"{page.id}_{first + (count - n) * stride}"
        if post_id in world.objects:
            raise ValueError("id clash with an existing story: call again")
        posts.append(Post(id=post_id, page_id=page.id, author_id=page.id, message=f"Bulk story {n}", story=None,
                          status_type="mobile_status_update", created=at, updated=at))
    world.add_posts(page.id, posts)  # one merge into the page's feed, not an insert each
    added = {"posts": len(posts), "comments": 0}
    for n, post in enumerate(posts):
        first_comment = None
        for c in range(comments + (replies if comments else 0)):
            parent = first_comment.id if first_comment is not None and c >= comments else None
            stamp = post.created + timedelta(seconds=min(c + 1, max(1, int(spacing) - 1)))
            comment = Comment(id=f"{post.local_id}_{10**15 + secrets.randbelow(10**15)}", post_id=post.id,
                              parent_id=parent, author_id=fans[(n + c) % len(fans)].id,
                              message=f"Bulk comment {c} on story {n}", created=stamp)
            world.add(comment)
            first_comment = first_comment or comment
            post.updated = max(post.updated, stamp)
            added["comments"] += 1
    return added


def content_ids(world: World, page_id: str) -> dict[str, list[str]]:
    """The ids of every live story, comment and message of a page, as its own page
    token reads them (hidden and unpublished ones included)."""
    posts = world.posts(page_id)
    return {"stories": [p.id for p in posts],
            "comments": [c.id for p in posts for c in world.comments(p.id)],
            "messages": [m.id for convo in world.conversations(page_id) for m in convo.messages]}
