"""The control API (``/_control/…``, JSON) that tests and demos use to steer the emulator.

Not part of X: it resets the world to the seed, reads request counters, expires or
revokes tokens (or stops rotating refresh tokens), adds tweets, replies and DMs as other
people, forces 401/403/429/5xx answers and malformed 200 answers, drains rate-limit
windows, takes endpoints away from the app's access level and moves the clock.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from .gateway import current_state
from .params import TWEET_FIELDS, USER_FIELDS
from .ratelimits import FAILABLE, LIMITS, ForcedFailure, Override
from .render import dm_json, tweet_json, user_json
from .state import State

bp = Blueprint("twitter_control", __name__, url_prefix="/_control")

ALL_TWEET_FIELDS = set(TWEET_FIELDS)
ALL_USER_FIELDS = set(USER_FIELDS)


def _json() -> dict:
    return request.get_json(silent=True) or {}


def _bad(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _user(state: State, ref) -> object:
    return state.user_ref(ref) if ref else None


@bp.get("")
def overview():
    """Who exists (ids and handles), the owned account and the app's credentials."""
    state = current_state()
    with state.lock:
        return jsonify({
            "owner": user_json(state, state.users[state.owner_id], ALL_USER_FIELDS),
            "users": [user_json(state, u, {"protected", "public_metrics"}) | {"suspended": u.suspended}
                      for u in state.users.values()],
            "clients": sorted(state.clients),
            "now": state.clock.now(),
        })


@bp.get("/app")
def app_settings():
    """The confidential client's id and the app's registered callback URLs."""
    from . import CLIENT_ID

    state = current_state()
    with state.lock:
        return jsonify({"client_id": CLIENT_ID, "redirect_uris": list(state.clients[CLIENT_ID]["callbacks"])})


@bp.put("/app")
def set_app_settings():
    """``{"redirect_uris": [...]}``: replace the app's callback URLs until reset."""
    uris = _json().get("redirect_uris")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        return _bad("redirect_uris must be a list of URLs")
    state = current_state()
    with state.lock:
        for client in state.clients.values():
            client["callbacks"] = list(uris)
    return jsonify({"ok": True})


@bp.post("/reset")
def reset():
    """Back to the seed: users, tweets, DMs, tokens, counters, failures, clock."""
    current_app.config["TWITTER_RESET"]()
    return jsonify({"reset": True})


@bp.get("/requests")
def requests_made():
    """Calls per endpoint (``GET /2/users/:id/tweets``) and per concrete path."""
    state = current_state()
    with state.lock:
        return jsonify({"endpoints": dict(state.requests), "paths": dict(state.paths),
                        "total": sum(state.requests.values())})


@bp.delete("/requests")
def clear_requests():
    """Zero the request counters (before measuring a crawl)."""
    state = current_state()
    with state.lock:
        state.requests.clear()
        state.paths.clear()
    return jsonify({"cleared": True})


def _grants(state: State, data: dict):
    token = data.get("token") or data.get("access_token") or data.get("refresh_token")
    if token:
        grant = state.grants.get(token) or state.refresh.get(token)
        return [grant] if grant else []
    user = _user(state, data.get("user"))
    return state.grants_of(user.id) if user else None


@bp.post("/tokens/expire")
def expire_tokens():
    """Expire access tokens now (by ``token`` or all of a ``user``); refresh tokens stay valid."""
    state = current_state()
    with state.lock:
        grants = _grants(state, _json())
        if grants is None:
            return _bad("give token or user")
        for grant in grants:
            grant.expires_at = state.clock.now() - 1
        return jsonify({"expired": len(grants)})


@bp.post("/tokens/rotation")
def refresh_rotation():
    """``{"rotate": false}``: refresh answers carry no new refresh token and the old one
    stays valid (a service that does not rotate); ``true`` (X's way, the seed's) again."""
    rotate = _json().get("rotate")
    if not isinstance(rotate, bool):
        return _bad("rotate must be true or false")
    state = current_state()
    with state.lock:
        state.rotate_refresh = rotate
    return jsonify({"rotate": rotate})


@bp.post("/tokens/revoke")
def revoke_tokens():
    """Revoke authorizations (access and refresh token), as if the person removed the app."""
    state = current_state()
    with state.lock:
        grants = _grants(state, _json())
        if grants is None:
            return _bad("give token or user")
        for grant in grants:
            state.revoke_grant(grant)
        return jsonify({"revoked": len(grants)})


@bp.post("/tweets")
def add_tweet():
    """Post as anyone: ``{"author", "text", "in_reply_to"?, "quote_of"?}``."""
    state = current_state()
    data = _json()
    with state.lock:
        author = _user(state, data.get("author"))
        if author is None or not data.get("text"):
            return _bad("author (id or username) and text are required")
        parent = data.get("in_reply_to")
        if parent and state.visible(str(parent)) is None:
            return _bad(f"no tweet {parent}")
        text = data["text"]
        if parent:
            parent_author = state.users[state.tweets[str(parent)].author_id]
            if parent_author.id != author.id and not text.lower().startswith(f"@{parent_author.username.lower()}"):
                text = f"@{parent_author.username} {text}"
        tweet = state.add_tweet(author.id, text, reply_to=str(parent) if parent else None,
                                quote_of=str(data["quote_of"]) if data.get("quote_of") else None,
                                impressions=int(data.get("impressions", 0)))
        return jsonify(tweet_json(state, tweet, ALL_TWEET_FIELDS, private=True)), 201


#: Tweets one bulk call may add: a million-tweet account in one call (benchmarks).
BULK_MAX = 1_000_000


@bp.post("/tweets/bulk")
def add_tweets():
    """``count`` plain tweets by ``author`` (at most a million a call; calls add up),
    created evenly between ``oldest_days`` ago and ``newest_days`` ago (default: one a
    day back from now). ``text`` may hold ``{n}`` (the tweet's number, oldest 1) and
    mentions (``"@acmecoffee deal #{n}"`` fills that account's mentions)."""
    state = current_state()
    data = _json()
    try:
        count = int(data.get("count", 0))
        oldest = float(data.get("oldest_days", count))
        newest = float(data.get("newest_days", 0))
    except (TypeError, ValueError):
        return _bad("count, oldest_days and newest_days are numbers")
    text = data.get("text", "Archive tweet #{n}")
    if not 0 < count <= BULK_MAX or not 0 <= newest <= oldest:
        return _bad(f"count is 1 to {BULK_MAX} and 0 <= newest_days <= oldest_days")
    if not isinstance(text, str) or not text.strip():
        return _bad("text is a non-empty string")
    with state.lock:
        author = _user(state, data.get("author"))
        if author is None:
            return _bad("author (id or username) is required")
        now = state.clock.now()
        step = (oldest - newest) * 86400 / max(1, count - 1)
        first = now - oldest * 86400
        tweets = state.add_tweets(author.id, [(text.replace("{n}", str(n + 1)), first + n * step)
                                              for n in range(count)])
        return jsonify({"count": len(tweets), "newest_id": tweets[-1].id, "oldest_id": tweets[0].id}), 201


@bp.delete("/tweets/<tweet_id>")
def delete_tweet(tweet_id: str):
    """Someone deletes their tweet (it disappears from timelines and lookups)."""
    state = current_state()
    with state.lock:
        tweet = state.tweets.get(tweet_id)
        if tweet is None:
            return _bad(f"no tweet {tweet_id}", 404)
        state.delete_tweet(tweet)
        return jsonify({"deleted": True})


@bp.get("/tweets/<tweet_id>")
def show_tweet(tweet_id: str):
    """A tweet with every field and its moderation state (``hidden``, ``deleted``, likers)."""
    state = current_state()
    with state.lock:
        tweet = state.tweets.get(tweet_id)
        if tweet is None:
            return _bad(f"no tweet {tweet_id}", 404)
        body = tweet_json(state, tweet, ALL_TWEET_FIELDS, private=True)
        body |= {"hidden": tweet.hidden, "deleted": tweet.deleted,
                 "liked_by": sorted(u for u, t in state.likes if t == tweet_id)}
        return jsonify(body)


@bp.get("/users/<ref>/tweets")
def list_tweets(ref: str):
    """A user's tweet ids, newest first (handy for tests that need real ids)."""
    state = current_state()
    with state.lock:
        user = _user(state, ref)
        if user is None:
            return _bad(f"no user {ref}", 404)
        return jsonify({"ids": [t.id for t in state.timeline(user.id)],
                        "mentions": [t.id for t in state.mentions(user.id)]})


@bp.post("/dms")
def add_dm():
    """A direct message from ``sender`` to ``recipient``."""
    state = current_state()
    data = _json()
    with state.lock:
        sender, recipient = _user(state, data.get("sender")), _user(state, data.get("recipient"))
        if sender is None or recipient is None or not data.get("text"):
            return _bad("sender, recipient and text are required")
        event = state.add_dm(sender.id, recipient.id, data["text"])
        return jsonify(dm_json(event, {"created_at", "sender_id", "dm_conversation_id", "participant_ids"})), 201


@bp.post("/fail")
def fail():
    """The next ``count`` calls (to ``endpoint`` or any v2 endpoint) answer ``status``:
    401 (as for an expired or revoked token), 403 (as for a token without the endpoint's
    scope), 429 or 5xx.

    On a daily-capped endpoint a 429 is its daily cap running out (``x-user-limit-24hour-*``
    / ``x-app-limit-24hour-*`` report it used up); ``"daily": false`` makes it the 15-minute
    window instead.
    """
    state = current_state()
    data = _json()
    try:
        status, count, endpoint = int(data.get("status", 503)), int(data.get("count", 1)), data.get("endpoint")
    except (TypeError, ValueError):
        return _bad("status and count are numbers")
    if status not in (401, 403, 429) and not 500 <= status <= 599:
        return _bad("status must be 401, 403, 429 or 5xx")
    if endpoint is not None and endpoint not in FAILABLE:
        return _bad(f"unknown endpoint {endpoint!r}; one of {sorted(FAILABLE)}")
    with state.lock:
        state.limits.failures.append(ForcedFailure(status, count, endpoint, daily=bool(data.get("daily", True))))
    return jsonify({"status": status, "count": count, "endpoint": endpoint})


@bp.post("/malformed")
def malformed():
    """The next ``count`` successful calls to ``endpoint`` answer HTTP 200 with ``body``
    (any JSON; default ``{}``) instead of what X would say — the call itself still happens."""
    state = current_state()
    data = _json()
    endpoint, count = data.get("endpoint"), int(data.get("count", 1))
    if endpoint not in FAILABLE:
        return _bad(f"unknown endpoint {endpoint!r}; one of {sorted(FAILABLE)}")
    with state.lock:
        state.limits.overrides.append(Override(endpoint, count, data.get("body", {})))
    return jsonify({"endpoint": endpoint, "count": count})


REFUSALS = ("client-forbidden", "unsupported-authentication")


@bp.post("/access")
def access():
    """Take an endpoint away from the app's access level, or give it back:
    ``{"endpoint", "refused": "client-forbidden" | "unsupported-authentication" | null}``.
    X then answers every call to it 403 with that problem (client-forbidden: reason
    ``client-not-enrolled``), whoever the token belongs to."""
    state = current_state()
    data = _json()
    endpoint, refused = data.get("endpoint"), data.get("refused")
    if endpoint not in LIMITS:
        return _bad(f"unknown endpoint {endpoint!r}; one of {sorted(LIMITS)}")
    if refused is not None and refused not in REFUSALS:
        return _bad(f"refused must be one of {REFUSALS} or null")
    with state.lock:
        if refused is None:
            state.refused.pop(endpoint, None)
        else:
            state.refused[endpoint] = refused
        return jsonify({"refused": dict(state.refused)})


@bp.post("/rate_limit")
def rate_limit():
    """Set what is left of a window: ``{"endpoint", "remaining", "user"?}`` (no user: the app)."""
    state = current_state()
    data = _json()
    endpoint = data.get("endpoint")
    if endpoint not in LIMITS:
        return _bad(f"unknown endpoint {endpoint!r}; one of {sorted(LIMITS)}")
    with state.lock:
        user = _user(state, data.get("user"))
        principal = f"user:{user.id}" if user else "app"
        window = state.limits.set_remaining(principal, endpoint, int(data.get("remaining", 0)),
                                            state.clock.now(), app_only=user is None)
        return jsonify(window.headers())


@bp.post("/clock")
def clock():
    """Move the emulator's clock forward by ``advance`` seconds (token expiry, windows)."""
    state = current_state()
    with state.lock:
        state.clock.advance(float(_json().get("advance", 0)))
        return jsonify({"now": state.clock.now()})


@bp.post("/app")
def app_permissions():
    """The app's permission level: ``{"scopes": [...]}`` caps what a person can grant (null: all)."""
    state = current_state()
    scopes = _json().get("scopes")
    with state.lock:
        state.app_scopes = frozenset(scopes) if scopes is not None else None
    return jsonify({"scopes": sorted(scopes) if scopes is not None else None})


@bp.post("/webhooks")
def register_webhooks():
    """``{"callback_url"}``: register it (after the CRC, as ``POST /2/webhooks`` does) and
    subscribe it to every event type of every account — what sandbox mode wires up
    without any connected account. 400 with X's reason when the CRC fails."""
    from .activity import EVENT_TYPES, CrcFailed

    url = _json().get("callback_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _bad("callback_url (an http(s) URL) is required")
    state = current_state()
    try:
        hook = state.activity.register(url)  # not under the lock: the CRC calls the URL
    except CrcFailed as exc:
        return _bad(str(exc))
    with state.lock:
        for kind in sorted(EVENT_TYPES):
            state.activity.subscribe(hook.id, kind, None, "sandbox")
    return jsonify(state.activity.status())


@bp.post("/webhooks/invalidate")
def invalidate_webhook():
    """``{"webhook_id"}``: mark it invalid, as X does when its hourly CRC fails; nothing
    is delivered to it until ``PUT /2/webhooks/:id`` passes the CRC again."""
    state = current_state()
    with state.lock:
        hook = state.activity.webhooks.get(str(_json().get("webhook_id")))
        if hook is None:
            return _bad("webhook_id must name a registered webhook")
        hook.valid = False
    return jsonify(state.activity.status())


@bp.get("/webhooks")
def webhook_status():
    """Webhooks, subscriptions, and deliveries pending, delivered, failed and given up."""
    return jsonify(current_state().activity.status())
