"""A story and its comments as a thread (the story view)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .models import Comment, Figure, Story, Stream, TopicStream

#: Top-level comments shown before "show N more" (each with all its replies).
THREAD_SIZE = 30


@dataclass
class Node:
    """A comment with the replies that answer it, oldest first."""

    comment: Comment
    replies: list["Node"] = field(default_factory=list)


@dataclass
class Thread:
    """A story's comments as a tree; ``more`` top-level comments are not shown."""

    roots: list[Node]
    total: int
    more: int = 0


def story_in(topic, story_id: int) -> Story | None:
    """The story ``story_id`` when a stream of ``topic`` holds it (None for any other
    id, another topic's or another account's), with its stream."""
    return (Story.select(Story, Stream).join(Stream, on=(Story.stream == Stream.id))
            .join(TopicStream, on=(TopicStream.stream == Stream.id))
            .where(TopicStream.topic == topic, Story.id == story_id).first())


def thread_of(story: Story, limit: int | None = THREAD_SIZE) -> Thread:
    """The story's comments, replies under the comment they answer, oldest first.
    A reply whose parent was not crawled is shown at the top level rather than lost."""
    comments = list(Comment.select().where(Comment.stream == story.stream_id,
                                           Comment.story_external_id == story.external_id)
                    .order_by(Comment.created_at, Comment.id))
    nodes = {c.external_id: Node(c) for c in comments}
    roots = []
    for comment in comments:
        parent = nodes.get(comment.parent_external_id) if comment.parent_external_id else None
        if parent is not None and parent.comment is not comment:
            parent.replies.append(nodes[comment.external_id])
        else:
            roots.append(nodes[comment.external_id])
    more = max(0, len(roots) - limit) if limit is not None else 0
    return Thread(roots[:limit] if limit is not None else roots, len(comments), more)


def external_ids(thread: Thread) -> list[str]:
    """The provider ids of every comment the thread shows, replies included."""
    ids, nodes = [], list(thread.roots)
    while nodes:
        node = nodes.pop()
        ids.append(node.comment.external_id)
        nodes.extend(node.replies)
    return ids


def post_figures(story: Story) -> list[Figure]:
    """The story's post-level figures, by name (those the service does not provide too,
    with the service's note)."""
    return list(Figure.select().where(Figure.stream == story.stream_id, Figure.level == "post",
                                      Figure.object_id == story.external_id).order_by(Figure.name))
