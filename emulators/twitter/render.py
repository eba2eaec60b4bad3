"""JSON shapes of X API v2: tweets, users, DM events, ``includes`` and paged ``meta``.

Objects carry only their default fields (``id``, ``text``, ``edit_history_tweet_ids`` for
tweets; ``id``, ``name``, ``username`` for users) plus what ``*.fields`` asked for, and a
field with no value is omitted rather than null — as X does.
"""
from __future__ import annotations

from emulators.sortedfeed import SortedFeed, take

from .clock import x_time
from .params import Query, encode_token
from .problems import not_found_error
from .state import HASHTAG_RE, MENTION_RE, DMEvent, State, Tweet, User


def user_json(state: State, user: User, fields: set[str]) -> dict:
    """A user object with the requested ``user.fields``."""
    out = {"id": user.id, "name": user.name, "username": user.username}
    if "created_at" in fields:
        out["created_at"] = x_time(user.created_at)
    for name in ("description", "location", "url"):
        if name in fields:
            out[name] = getattr(user, name)
    if "protected" in fields:
        out["protected"] = user.protected
    if "verified" in fields:
        out["verified"] = user.verified
    if "verified_type" in fields:
        out["verified_type"] = "business" if user.verified else "none"
    if "profile_image_url" in fields:
        out["profile_image_url"] = user.profile_image_url
    timeline = state.tweets_of(user.id)
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "followers_count": user.followers_count, "following_count": user.following_count,
            "tweet_count": len(timeline), "listed_count": user.listed_count,
            "like_count": user.like_count, "media_count": 0,
        }
    if "most_recent_tweet_id" in fields and timeline and not user.protected:
        out["most_recent_tweet_id"] = timeline[-1].id
    return out


def tweet_json(state: State, tweet: Tweet, fields: set[str], private: bool = False) -> dict:
    """A tweet with the requested fields; ``private`` when non-public metrics may be shown."""
    out = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
    if "author_id" in fields:
        out["author_id"] = tweet.author_id
    if "created_at" in fields:
        out["created_at"] = x_time(tweet.created_at)
    if "conversation_id" in fields:
        out["conversation_id"] = tweet.conversation_id
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
        out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    if "referenced_tweets" in fields and tweet.referenced:
        out["referenced_tweets"] = [{"type": kind, "id": tid} for kind, tid in tweet.referenced]
    if "lang" in fields:
        out["lang"] = "en"
    if "possibly_sensitive" in fields:
        out["possibly_sensitive"] = False
    if "reply_settings" in fields:
        out["reply_settings"] = "everyone"
    if "edit_controls" in fields:
        out["edit_controls"] = {"edits_remaining": 5, "is_edit_eligible": False,
                                "editable_until": x_time(tweet.created_at + 3600)}
    if "entities" in fields:
        entities = _entities(state, tweet.text)
        if entities:
            out["entities"] = entities
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "retweet_count": tweet.retweets, "reply_count": state.reply_count(tweet),
            "like_count": state.like_count(tweet), "quote_count": state.quote_count(tweet),
            "bookmark_count": tweet.bookmarks, "impression_count": tweet.impressions,
        }
    if private and "non_public_metrics" in fields:
        # Exactly what X's reference lists for non-public metrics: no engagements total.
        out["non_public_metrics"] = {
            "impression_count": tweet.impressions, "url_link_clicks": tweet.link_clicks,
            "user_profile_clicks": tweet.profile_clicks,
        }
    if private and "organic_metrics" in fields:
        out["organic_metrics"] = {
            "impression_count": tweet.impressions, "like_count": state.like_count(tweet),
            "reply_count": state.reply_count(tweet), "retweet_count": tweet.retweets,
            "url_link_clicks": tweet.link_clicks, "user_profile_clicks": tweet.profile_clicks,
        }
    return out


def _entities(state: State, text: str) -> dict:
    entities: dict[str, list] = {}
    for match in MENTION_RE.finditer(text):
        user = state.user_by_name(match.group(1))
        if user:
            entities.setdefault("mentions", []).append(
                {"start": match.start(), "end": match.end(), "username": user.username, "id": user.id})
    for match in HASHTAG_RE.finditer(text):
        entities.setdefault("hashtags", []).append(
            {"start": match.start(), "end": match.end(), "tag": match.group(1)})
    return entities


def dm_json(event: DMEvent, fields: set[str]) -> dict:
    """A DM event with the requested ``dm_event.fields``."""
    out = {"id": event.id, "event_type": event.event_type, "text": event.text}
    if "created_at" in fields:
        out["created_at"] = x_time(event.created_at)
    if "sender_id" in fields:
        out["sender_id"] = event.sender_id
    if "dm_conversation_id" in fields:
        out["dm_conversation_id"] = event.conversation_id
    if "participant_ids" in fields:
        out["participant_ids"] = list(event.participant_ids)
    return out


def tweet_includes(state: State, tweets: list[Tweet], q: Query, viewer_id: str | None) -> tuple[dict, list]:
    """``includes`` for the expansions asked, and partial errors for missing references."""
    users: dict[str, dict] = {}
    included: dict[str, dict] = {}
    errors: list[dict] = []

    def add_user(user_id: str | None) -> None:
        """Add a user to ``includes.users`` once."""
        if user_id and user_id not in users and user_id in state.users:
            users[user_id] = user_json(state, state.users[user_id], q.user_fields)

    for tweet in tweets:
        if "author_id" in q.expansions:
            add_user(tweet.author_id)
        if "in_reply_to_user_id" in q.expansions:
            add_user(tweet.in_reply_to_user_id)
        if "entities.mentions.username" in q.expansions:
            for user_id in state.mention_ids(tweet):
                add_user(user_id)
        if "referenced_tweets.id" in q.expansions:
            for _, tid in tweet.referenced:
                ref = state.visible(tid)
                if ref is None:
                    errors.append(not_found_error("tweet", "referenced_tweets.id", tid))
                elif tid not in included:
                    private = state.private_metrics_allowed(ref, viewer_id)
                    included[tid] = tweet_json(state, ref, q.tweet_fields, private)
                    if "referenced_tweets.id.author_id" in q.expansions:
                        add_user(ref.author_id)
    includes = {}
    if users:
        includes["users"] = list(users.values())
    if included:
        includes["tweets"] = list(included.values())
    return includes, errors


def page(feed: SortedFeed, q: Query, *, shown=lambda item: True, floor: int = 0,
         created=lambda item: item.created_at, previous: bool = True) -> tuple[list, dict]:
    """One page, newest first, of the items of ``feed`` (in id order) that pass ``shown``
    at or above position ``floor`` (how far back the endpoint reaches), after
    since/until/time filters and the token.

    Ids grow with creation time, so every bound is a binary search and only one page of
    items is walked, however long the feed.
    """
    low, high = floor, len(feed)
    if q.since_id is not None:
        low = max(low, feed.right(q.since_id))
    if q.until_id is not None:
        high = min(high, feed.left(q.until_id))
    if q.start_time is not None:
        low = max(low, feed.left_by(q.start_time, created))
    if q.end_time is not None:
        high = min(high, feed.right_by(q.end_time, created))
    if q.token and q.token[0] == "prev":
        start = max(low, feed.right(q.token[1]))
        chunk = take(feed.newer(start, max(start, high)), shown, q.max_results)[::-1]
        bound = int(chunk[-1].id) if chunk else q.token[1]
        rest_older = take(feed.older(min(high, feed.left(bound)), low), shown, 1)
    else:
        top = min(high, feed.left(q.token[1])) if q.token else high
        selected = take(feed.older(top, low), shown, q.max_results + 1)
        chunk = selected[:q.max_results]
        rest_older = selected[q.max_results:]
    meta: dict = {"result_count": len(chunk)}
    if chunk:
        meta = {"newest_id": chunk[0].id, "oldest_id": chunk[-1].id, "result_count": len(chunk)}
        if rest_older:
            meta["next_token"] = encode_token("next", int(chunk[-1].id))
        if previous and q.token:
            meta["previous_token"] = encode_token("prev", int(chunk[0].id))
    return chunk, meta
