"""A story and its comments as a thread (the story view), and where a comment's
thread is (the Inbox links there)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .db import any_pair, database
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


def thread_links(comments: list[Comment]) -> dict[int, tuple[int, int]]:
    """For each comment, ``(topic id, story id)`` of its place in a story view: a topic
    that holds its stream (the first by id) and its story. Two queries for any number
    of comments; a comment whose story was not crawled has no place."""
    if not comments:
        return {}
    stream_ids = {c.stream_id for c in comments}
    topic_of: dict[int, int] = {}
    for stream_id, topic_id in (TopicStream.select(TopicStream.stream, TopicStream.topic)
                                .where(TopicStream.stream.in_(stream_ids))
                                .order_by(TopicStream.topic).tuples()):
        topic_of.setdefault(stream_id, topic_id)
    # By (stream, story) pairs (any_pair: one index lookup each, on both databases).
    condition, params = any_pair("stream_id", "external_id", sorted({(c.stream_id, c.story_external_id)
                                                                     for c in comments}))
    stories = {(stream_id, external_id): story_id for story_id, stream_id, external_id in
               database.execute_sql(f'SELECT "id", "stream_id", "external_id" FROM "story" WHERE {condition}',
                                    params).fetchall()}
    links = {}
    for c in comments:
        story_id = stories.get((c.stream_id, c.story_external_id))
        if story_id is not None and c.stream_id in topic_of:
            links[c.id] = (topic_of[c.stream_id], story_id)
    return links
