"""X objects as Streamdesk values: tweets become stories or comments, DM events messages.

Threading: a reply (``referenced_tweets`` has ``replied_to``) is a *comment* of its
conversation's first tweet (``conversation_id``), with ``parent_id`` set when it answers
another reply. Everything else in an account's feed is a *story*: its own tweets,
retweets and quotes, and others' mentions of it. When a reply answers the conversation's
first tweet directly, that tweet comes along in ``includes`` and is returned as a story
too, so a comment never points at a story Streamdesk has not seen.
"""
from __future__ import annotations

from datetime import UTC, datetime

from streamdesk_contract.times import parse_time
from streamdesk_contract.values import Comment, Message, Story

TWEPOCH_MS = 1288834974657


def created_at(obj: dict) -> datetime:
    """When X says ``obj`` (a tweet, a DM event) was created, as an aware UTC datetime;
    now when the answer leaves ``created_at`` out, as this plugin has always read it."""
    value = obj.get("created_at")
    return parse_time(value) if value else datetime.now(UTC)


def snowflake_at(ts: float) -> int:
    """The smallest tweet id X could give a tweet created at unix time ``ts``."""
    return max(int(ts * 1000) - TWEPOCH_MS, 0) << 22


def users_by_id(body: dict) -> dict[str, dict]:
    """``includes.users`` by id."""
    return {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}


def author_label(user: dict | None) -> str | None:
    """How a person is shown: ``Name (@handle)``."""
    if not user:
        return None
    return f"{user.get('name') or user['username']} (@{user['username']})"


def tweet_url(tweet: dict, users: dict[str, dict]) -> str:
    """The public link of a tweet."""
    user = users.get(tweet.get("author_id", ""))
    if user:
        return f"https://x.com/{user['username']}/status/{tweet['id']}"
    return f"https://x.com/i/web/status/{tweet['id']}"


def _reference(tweet: dict, kind: str) -> str | None:
    return next((r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == kind), None)


def story_of(tweet: dict, users: dict[str, dict], owner_id: str, raw_type: str | None = None) -> Story:
    """A tweet as a story; ``raw_type``: tweet, mention, quote, retweet or conversation."""
    if raw_type is None:
        if _reference(tweet, "retweeted"):
            raw_type = "retweet"
        elif _reference(tweet, "quoted"):
            raw_type = "quote"
        else:
            raw_type = "tweet" if tweet.get("author_id") == owner_id else "mention"
    return Story(
        external_id=tweet["id"], created_at=created_at(tweet), text=tweet.get("text", ""),
        author_id=tweet.get("author_id"), author_name=author_label(users.get(tweet.get("author_id", ""))),
        url=tweet_url(tweet, users), raw_type=raw_type,
    )


def comment_of(tweet: dict, users: dict[str, dict], parent_id: str) -> Comment:
    """A reply as a comment of its conversation's first tweet."""
    story_id = tweet.get("conversation_id") or parent_id
    return Comment(
        external_id=tweet["id"], story_id=story_id, created_at=created_at(tweet),
        text=tweet.get("text", ""), author_id=tweet.get("author_id"),
        author_name=author_label(users.get(tweet.get("author_id", ""))),
        parent_id=None if parent_id == story_id else parent_id,
    )


def tweets_to_rows(body: dict, owner_id: str, owner_username: str | None = None
                   ) -> tuple[list[Story], list[Comment]]:
    """The stories and comments in one page of tweets (timeline, mentions or search)."""
    users = users_by_id(body)
    included = {t["id"]: t for t in (body.get("includes") or {}).get("tweets", [])}
    stories: dict[str, Story] = {}
    comments: list[Comment] = []
    for tweet in body.get("data") or []:
        parent_id = _reference(tweet, "replied_to")
        if parent_id is None:
            stories[tweet["id"]] = story_of(tweet, users, owner_id)
            continue
        comment = comment_of(tweet, users, parent_id)
        comments.append(comment)
        root = included.get(comment.story_id)
        if root is not None and comment.story_id not in stories and not _reference(root, "replied_to"):
            mentions_owner = owner_username and f"@{owner_username.lower()}" in root.get("text", "").lower()
            raw_type = None if root.get("author_id") == owner_id or mentions_owner else "conversation"
            stories[root["id"]] = story_of(root, users, owner_id, raw_type)
    return list(stories.values()), comments


def dm_to_message(event: dict, users: dict[str, dict]) -> Message:
    """A DM event as a message."""
    return Message(
        external_id=event["id"], conversation_id=event.get("dm_conversation_id", ""),
        created_at=created_at(event), text=event.get("text", ""),
        sender_id=event.get("sender_id"), sender_name=author_label(users.get(event.get("sender_id", ""))),
    )
