"""X API v2 write endpoints: create (and reply), delete, like/unlike, hide/unhide, send DM."""
from __future__ import annotations

from flask import Blueprint, request

from .gateway import Principal, endpoint
from .params import check_path_id
from .problems import (
    InvalidRequest,
    forbidden,
    invalid_body,
    invalid_request,
    not_found_error,
)
from .state import State

bp = Blueprint("twitter_writes", __name__)

MAX_CHARS = 280
#: X refuses a tweet identical to one of the author's recent tweets.
DUPLICATE_WINDOW = 7 * 86400


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise invalid_body("Request body is not valid JSON")
    return data


def _check_ids(**ids: str) -> None:
    errors = InvalidRequest()
    for name, value in ids.items():
        check_path_id(errors, name, value)
    errors.raise_if_any()


@bp.post("/2/tweets")
@endpoint("POST /2/tweets", ("tweet.write", "tweet.read", "users.read"), user_context=True)
def create_tweet(state: State, principal: Principal):
    """``POST /2/tweets``: post, or reply with ``reply.in_reply_to_tweet_id``."""
    data = _body()
    text = data.get("text")
    reply = data.get("reply") or {}
    if not isinstance(text, str) or not text.strip():
        raise invalid_body("Your Tweet must contain text, media, a poll or a quoted Tweet.")
    parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    parent = None
    if parent_id is not None:
        parent = state.visible(str(parent_id))
        if parent is None:
            raise forbidden("You attempted to reply to a Tweet that is deleted or not visible to you.")
        author = state.users[parent.author_id]
        # API v2 fills in the reply's leading mention, which is what threads it into mentions.
        if author.id != principal.user_id and not text.lower().startswith(f"@{author.username.lower()}"):
            text = f"@{author.username} {text}"
    if len(text) > MAX_CHARS:
        raise invalid_request([{"message": "Your Tweet text is too long. For more information on how X "
                                           "determines text length see https://github.com/twitter/twitter-text."}])
    horizon = state.clock.now() - DUPLICATE_WINDOW
    theirs = state.tweets_of(principal.user_id)
    if any(t.text == text for t in theirs.older(floor=theirs.left_by(horizon, lambda t: t.created_at))):
        raise forbidden("You are not allowed to create a Tweet with duplicate content.")
    quote = data.get("quote_tweet_id")
    tweet = state.add_tweet(principal.user_id, text, reply_to=parent.id if parent else None,
                            quote_of=str(quote) if quote else None)
    return {"data": {"edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": tweet.text}}, 201


@bp.delete("/2/tweets/<tweet_id>")
@endpoint("DELETE /2/tweets/:id", ("tweet.write", "tweet.read", "users.read"), user_context=True)
def delete_tweet(state: State, principal: Principal, tweet_id: str):
    """``DELETE /2/tweets/:id``: only the author's own tweets."""
    _check_ids(id=tweet_id)
    tweet = state.visible(tweet_id)
    if tweet is None:
        return {"errors": [not_found_error("tweet", "id", tweet_id)]}, 200
    if tweet.author_id != principal.user_id:
        raise forbidden("You are not allowed to delete a Tweet that does not belong to you.")
    state.delete_tweet(tweet)
    return {"data": {"deleted": True}}, 200


@bp.post("/2/users/<user_id>/likes")
@endpoint("POST /2/users/:id/likes", ("like.write", "tweet.read", "users.read"), user_context=True)
def like(state: State, principal: Principal, user_id: str):
    """``POST /2/users/:id/likes``: like as the token's user."""
    _check_ids(id=user_id)
    if user_id != principal.user_id:
        raise forbidden("You are not permitted to perform this action.")
    tweet_id = str(_body().get("tweet_id") or "")
    if state.visible(tweet_id) is None:
        return {"errors": [not_found_error("tweet", "tweet_id", tweet_id)]}, 200
    state.likes.add((user_id, tweet_id))
    return {"data": {"liked": True}}, 200


@bp.delete("/2/users/<user_id>/likes/<tweet_id>")
@endpoint("DELETE /2/users/:id/likes/:tweet_id", ("like.write", "tweet.read", "users.read"), user_context=True)
def unlike(state: State, principal: Principal, user_id: str, tweet_id: str):
    """``DELETE /2/users/:id/likes/:tweet_id``."""
    _check_ids(id=user_id, tweet_id=tweet_id)
    if user_id != principal.user_id:
        raise forbidden("You are not permitted to perform this action.")
    state.likes.discard((user_id, tweet_id))
    return {"data": {"liked": False}}, 200


@bp.put("/2/tweets/<tweet_id>/hidden")
@endpoint("PUT /2/tweets/:id/hidden", ("tweet.moderate.write", "tweet.read", "users.read"), user_context=True)
def hide_reply(state: State, principal: Principal, tweet_id: str):
    """``PUT /2/tweets/:id/hidden``: hide or unhide a reply in a conversation the user started."""
    _check_ids(id=tweet_id)
    hidden = _body().get("hidden")
    if not isinstance(hidden, bool):
        raise invalid_body("The `hidden` field must be a boolean.")
    tweet = state.visible(tweet_id)
    if tweet is None:
        return {"errors": [not_found_error("tweet", "id", tweet_id)]}, 200
    root = state.tweets.get(tweet.conversation_id)
    if tweet.ref("replied_to") is None or root is None or root.author_id != principal.user_id:
        raise forbidden("You can only hide or unhide replies to conversations you started.")
    tweet.hidden = hidden
    return {"data": {"hidden": hidden}}, 200


@bp.post("/2/dm_conversations/with/<participant_id>/messages")
@endpoint("POST /2/dm_conversations/with/:participant_id/messages",
          ("dm.write", "dm.read", "tweet.read", "users.read"), user_context=True)
def send_dm(state: State, principal: Principal, participant_id: str):
    """``POST /2/dm_conversations/with/:participant_id/messages``."""
    _check_ids(participant_id=participant_id)
    text = _body().get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid_body("A message must contain text or an attachment.")
    recipient = state.users.get(participant_id)
    if recipient is None:
        return {"errors": [not_found_error("user", "participant_id", participant_id)]}, 200
    if recipient.id == principal.user_id or recipient.suspended:
        raise forbidden("You cannot send messages to this user.")
    event = state.add_dm(principal.user_id, recipient.id, text)
    return {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}}, 201
