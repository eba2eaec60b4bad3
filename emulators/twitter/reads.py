"""X API v2 read endpoints: users, timelines, mentions, tweet lookup, recent search, DMs."""
from __future__ import annotations

from flask import Blueprint, request

from emulators.sortedfeed import SortedFeed

from .clock import snowflake, x_time
from .gateway import Principal, endpoint
from .params import DM_EXPANSIONS, PRIVATE_TWEET_FIELDS, USER_EXPANSIONS, Query, parse
from .problems import (
    field_not_authorized_error,
    invalid_request,
    not_authorized_error,
    not_found_error,
    suspended_error,
    unsupported_authentication,
)
from .render import dm_json, page, tweet_includes, tweet_json, user_json
from .search import compile_query
from .state import State, Tweet, User, id_key

bp = Blueprint("twitter_reads", __name__)

READ = ("tweet.read", "users.read")
USER_PARAMS = ("expansions", "tweet.fields", "post.fields", "user.fields")
TWEET_PARAMS = ("expansions", "tweet.fields", "post.fields", "media.fields", "poll.fields", "user.fields",
                "place.fields")
TIMELINE_PARAMS = ("since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time") + TWEET_PARAMS
#: How far back each timeline reaches on X.
TWEETS_CAP, MENTIONS_CAP = 3200, 800
SEARCH_DAYS = 7


def _user_payload(state: State, user: User, q: Query) -> dict:
    body: dict = {"data": user_json(state, user, q.user_fields)}
    timeline = state.tweets_of(user.id) if "most_recent_tweet_id" in q.expansions else []
    if timeline and not user.protected:  # nobody here has a pinned tweet
        body["includes"] = {"tweets": [tweet_json(state, timeline[-1], q.tweet_fields)]}
    return body


def _user_or_errors(state: State, user: User | None, parameter: str, value: str) -> dict | None:
    """The partial-error body (HTTP 200) for a user that cannot be shown, else None."""
    if user is None:
        return {"errors": [not_found_error("user", parameter, value)]}
    if user.suspended:
        return {"errors": [suspended_error(parameter, value)]}
    return None


@bp.get("/2/users/me")
@endpoint("GET /2/users/me", READ, user_context=True)
def users_me(state: State, principal: Principal):
    """``GET /2/users/me``: the token's user (user context only)."""
    q = parse(request.args, USER_PARAMS, expansions=USER_EXPANSIONS)
    return _user_payload(state, state.users[principal.user_id], q), 200


@bp.get("/2/users/by/username/<username>")
@endpoint("GET /2/users/by/username/:username", READ)
def user_by_username(state: State, principal: Principal, username: str):
    """``GET /2/users/by/username/:username``."""
    q = parse(request.args, USER_PARAMS, {"username": username}, expansions=USER_EXPANSIONS)
    user = state.user_by_name(username)
    failed = _user_or_errors(state, user, "username", username)
    if failed:
        return failed, 200
    return _user_payload(state, user, q), 200


@bp.get("/2/users/<user_id>")
@endpoint("GET /2/users/:id", READ)
def user_by_id(state: State, principal: Principal, user_id: str):
    """``GET /2/users/:id``."""
    q = parse(request.args, USER_PARAMS, {"id": user_id}, expansions=USER_EXPANSIONS)
    user = state.users.get(user_id)
    failed = _user_or_errors(state, user, "id", user_id)
    if failed:
        return failed, 200
    return _user_payload(state, user, q), 200


def _private_fields(q: Query, principal: Principal) -> bool:
    asked = bool(q.tweet_fields & set(PRIVATE_TWEET_FIELDS))
    if asked and principal.app_only:
        raise unsupported_authentication()
    return asked


def _tweets_body(state: State, principal: Principal, tweets: list[Tweet], q: Query, meta: dict | None,
                 errors: list | None = None) -> dict:
    body: dict = {}
    if tweets:
        body["data"] = [
            tweet_json(state, t, q.tweet_fields, state.private_metrics_allowed(t, principal.user_id))
            for t in tweets
        ]
        includes, ref_errors = tweet_includes(state, tweets, q, principal.user_id)
        if includes:
            body["includes"] = includes
        errors = (errors or []) + ref_errors
    if errors:
        body["errors"] = errors
    if meta is not None:
        body["meta"] = meta
    return body


def _without(refs: tuple[str, ...]):
    """A filter dropping the tweets that reference another as any of ``refs`` (``exclude=``)."""
    return lambda tweet: not any(tweet.ref(ref) for ref in refs)


def _timeline(state: State, principal: Principal, user_id: str, kind: str):
    allowed = TIMELINE_PARAMS + (("exclude",) if kind == "tweets" else ())
    q = parse(request.args, allowed, {"id": user_id}, max_range=(5, 100, 10))
    private = _private_fields(q, principal)
    user = state.users.get(user_id)
    failed = _user_or_errors(state, user, "id", user_id)
    if failed:
        return failed, 200
    if user.protected and principal.user_id != user.id:
        return {"errors": [not_authorized_error("user", "id", user_id)]}, 200
    if kind == "tweets":
        feed, cap = state.tweets_of(user_id), TWEETS_CAP
        shown = _without(tuple(ref for name, ref in (("replies", "replied_to"), ("retweets", "retweeted"))
                               if name in q.exclude))
    else:
        feed, cap, shown = state.mentions_of(user_id), MENTIONS_CAP, _without(())
    # The cap counts the newest tweets before ``exclude`` filters them, as X's does.
    chunk, meta = page(feed, q, shown=shown, floor=max(0, len(feed) - cap))
    if private:
        # X drops the tweets whose private metrics the token may not read, after paging:
        # a page can come back empty with a next_token.
        chunk = [t for t in chunk if state.private_metrics_allowed(t, principal.user_id)]
        meta["result_count"] = len(chunk)
        if chunk:
            meta["newest_id"], meta["oldest_id"] = chunk[0].id, chunk[-1].id
        else:
            meta.pop("newest_id", None)
            meta.pop("oldest_id", None)
    return _tweets_body(state, principal, chunk, q, meta), 200


@bp.get("/2/users/<user_id>/tweets")
@endpoint("GET /2/users/:id/tweets", READ)
def user_tweets(state: State, principal: Principal, user_id: str):
    """``GET /2/users/:id/tweets``: the user's timeline (3,200 most recent)."""
    return _timeline(state, principal, user_id, "tweets")


@bp.get("/2/users/<user_id>/mentions")
@endpoint("GET /2/users/:id/mentions", READ)
def user_mentions(state: State, principal: Principal, user_id: str):
    """``GET /2/users/:id/mentions``: tweets mentioning the user (800 most recent)."""
    return _timeline(state, principal, user_id, "mentions")


def _lookup(state: State, principal: Principal, ids: list[str], q: Query, parameter: str) -> dict:
    private = _private_fields(q, principal)
    found, errors = [], []
    for tweet_id in ids:
        tweet = state.visible(tweet_id)
        if tweet is None:
            errors.append(not_found_error("tweet", parameter, tweet_id))
        elif state.users[tweet.author_id].protected and principal.user_id != tweet.author_id:
            errors.append(not_authorized_error("Tweet", parameter, tweet_id))
        elif private and not state.private_metrics_allowed(tweet, principal.user_id):
            for name in sorted(q.tweet_fields & set(PRIVATE_TWEET_FIELDS)):
                errors.append(field_not_authorized_error(name, tweet_id))
        else:
            found.append(tweet)
    return _tweets_body(state, principal, found, q, None, errors)


@bp.get("/2/tweets")
@endpoint("GET /2/tweets", READ)
def tweets_lookup(state: State, principal: Principal):
    """``GET /2/tweets?ids=``: up to 100 tweets, partial errors for the rest."""
    q = parse(request.args, ("ids",) + TWEET_PARAMS, id_list=True)
    return _lookup(state, principal, q.ids, q, "ids"), 200


@bp.get("/2/tweets/<tweet_id>")
@endpoint("GET /2/tweets/:id", READ)
def tweet_lookup(state: State, principal: Principal, tweet_id: str):
    """``GET /2/tweets/:id``."""
    q = parse(request.args, TWEET_PARAMS, {"id": tweet_id})
    body = _lookup(state, principal, [tweet_id], q, "id")
    if "data" in body:
        body["data"] = body["data"][0]
    return body, 200


@bp.get("/2/tweets/search/recent")
@endpoint("GET /2/tweets/search/recent", READ)
def search_recent(state: State, principal: Principal):
    """``GET /2/tweets/search/recent``: the last seven days matching ``query``."""
    allowed = ("query", "start_time", "end_time", "since_id", "until_id", "max_results", "next_token",
               "pagination_token", "sort_order") + TWEET_PARAMS
    q = parse(request.args, allowed, max_range=(10, 100, 10))
    horizon = state.clock.now() - SEARCH_DAYS * 86400
    problems = []
    if q.since_id is not None and q.since_id < snowflake(horizon):
        problems.append({"parameters": {"since_id": [str(q.since_id)]},
                         "message": f"Invalid 'since_id':'{q.since_id}'. 'since_id' must be a tweet id "
                                    f"created after {x_time(horizon)}."})
    if q.start_time is not None and q.start_time < horizon:
        problems.append({"parameters": {"start_time": [request.args["start_time"]]},
                         "message": f"Invalid 'start_time':'{request.args['start_time']}'. 'start_time' must be "
                                    f"on or after {x_time(horizon)}."})
    if problems:
        raise invalid_request(problems)
    _private_fields(q, principal)
    matches = compile_query(state, q.query)

    def shown(t: Tweet) -> bool:
        author = state.users[t.author_id]
        return (not author.suspended and not (author.protected and principal.user_id != t.author_id)
                and matches(t))
    feed = state.everything
    chunk, meta = page(feed, q, shown=shown, floor=feed.left_by(horizon, lambda t: t.created_at), previous=False)
    return _tweets_body(state, principal, chunk, q, meta), 200


@bp.get("/2/dm_events")
@endpoint("GET /2/dm_events", ("dm.read",) + READ, user_context=True)
def dm_events(state: State, principal: Principal):
    """``GET /2/dm_events``: the user's DM events of the last 30 days, newest first."""
    allowed = ("dm_event.fields", "event_types", "expansions", "max_results", "pagination_token",
               "media.fields", "tweet.fields", "post.fields", "user.fields")
    q = parse(request.args, allowed, max_range=(1, 100, 100), expansions=DM_EXPANSIONS)
    events = state.dm_events(principal.user_id)
    if q.event_types:
        events = [e for e in events if e.event_type in q.event_types]
    chunk, meta = page(SortedFeed(id_key, events), q)
    meta.pop("newest_id", None)
    meta.pop("oldest_id", None)
    body: dict = {}
    if chunk:
        body["data"] = [dm_json(e, q.dm_fields) for e in chunk]
        users: dict[str, dict] = {}
        for event in chunk:
            wanted = []
            if "sender_id" in q.expansions:
                wanted.append(event.sender_id)
            if "participant_ids" in q.expansions:
                wanted.extend(event.participant_ids)
            for user_id in wanted:
                if user_id not in users:
                    users[user_id] = user_json(state, state.users[user_id], q.user_fields)
        if users:
            body["includes"] = {"users": list(users.values())}
    body["meta"] = meta
    return body, 200
