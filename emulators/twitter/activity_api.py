"""The X API v2 endpoints of webhooks and Activity API subscriptions.

``POST /2/webhooks`` (CRC first), ``GET /2/webhooks``, ``PUT /2/webhooks/:id`` (the
CRC again: a webhook that passes is valid again), ``DELETE /2/webhooks/:id``; ``POST
/2/activity/subscriptions``, ``GET /2/activity/subscriptions`` and ``DELETE
/2/activity/subscriptions/:id``. Webhooks are the app's: they take its bearer token. A
subscription to a private event (``dm.received``, ``oauth.revoke``) needs the filtered
account's own user token, as on X, and ``dm.received`` its ``dm.read`` scope.
"""
from __future__ import annotations

from flask import Blueprint, request

from .activity import EVENT_TYPES, CrcFailed
from .gateway import Principal, endpoint
from .problems import forbidden, invalid_body, invalid_request, missing_scope, unsupported_authentication
from .state import State

bp = Blueprint("twitter_activity", __name__)

#: Events only the account itself may subscribe to (user context).
PRIVATE_EVENTS = frozenset({"dm.received", "oauth.revoke"})
MAX_WEBHOOKS = 3


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise invalid_body("Request body is not valid JSON")
    return data


@bp.post("/2/webhooks")
@endpoint("POST /2/webhooks")
def create_webhook(state: State, principal: Principal):
    """Register a callback URL once it passes the CRC."""
    if not principal.app_only:
        raise unsupported_authentication()
    url = _body().get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise invalid_body("url must be an absolute https URL")
    if len(state.activity.webhooks) >= MAX_WEBHOOKS:
        raise forbidden(f"An app may register at most {MAX_WEBHOOKS} webhooks.")
    # The CRC calls the URL, which may call us back: not under the world's lock.
    state.lock.release()
    try:
        hook = state.activity.register(url)
    except CrcFailed as exc:
        raise invalid_request([{"message": f"CrcValidationFailed: {exc}"}]) from None
    finally:
        state.lock.acquire()
    return {"data": hook.json()}, 200


@bp.get("/2/webhooks")
@endpoint("GET /2/webhooks")
def list_webhooks(state: State, principal: Principal):
    """The app's webhooks."""
    hooks = [w.json() for w in state.activity.webhooks.values()]
    return ({"data": hooks, "meta": {"result_count": len(hooks)}} if hooks else {"meta": {"result_count": 0}}), 200


@bp.put("/2/webhooks/<webhook_id>")
@endpoint("PUT /2/webhooks/:webhook_id")
def recheck_webhook(state: State, principal: Principal, webhook_id: str):
    """Run the CRC against a registered webhook again: valid if it passes, else invalid."""
    if not principal.app_only:
        raise unsupported_authentication()
    if webhook_id not in state.activity.webhooks:
        raise invalid_request([{"message": f"webhook {webhook_id} does not exist"}])
    state.lock.release()  # the CRC calls the URL, which may call us back
    try:
        state.activity.recheck(webhook_id)
    except CrcFailed as exc:
        raise invalid_request([{"message": f"CrcValidationFailed: {exc}"}]) from None
    finally:
        state.lock.acquire()
    return {"data": {"attempted": True}}, 200


@bp.delete("/2/webhooks/<webhook_id>")
@endpoint("DELETE /2/webhooks/:webhook_id")
def delete_webhook(state: State, principal: Principal, webhook_id: str):
    """Remove a webhook and its subscriptions."""
    if not state.activity.remove_webhook(webhook_id):
        raise invalid_request([{"message": f"webhook {webhook_id} does not exist"}])
    return {"data": {"deleted": True}}, 200


@bp.post("/2/activity/subscriptions")
@endpoint("POST /2/activity/subscriptions")
def create_subscription(state: State, principal: Principal):
    """Send the events of one type about one account to a webhook."""
    data = _body()
    kind, flt, webhook_id = data.get("event_type"), data.get("filter"), data.get("webhook_id")
    user_id = flt.get("user_id") if isinstance(flt, dict) else None
    if kind not in EVENT_TYPES:
        raise invalid_body(f"event_type must be one of {', '.join(sorted(EVENT_TYPES))}")
    if not isinstance(user_id, str) or user_id not in state.users:
        raise invalid_body("filter.user_id must name an existing user")
    if webhook_id not in state.activity.webhooks:
        raise invalid_body("webhook_id must name one of the app's webhooks")
    if kind in PRIVATE_EVENTS and principal.user_id != user_id:
        raise forbidden(f"{kind} events are private: subscribe with {user_id}'s own user token.")
    if kind == "dm.received" and "dm.read" not in principal.scopes:
        raise missing_scope()
    tag = data.get("tag") if isinstance(data.get("tag"), str) else None
    sub = state.activity.subscribe(webhook_id, kind, user_id, tag)
    return {"data": sub.json(), "meta": {"total_subscriptions": len(state.activity.subscriptions)}}, 200


@bp.get("/2/activity/subscriptions")
@endpoint("GET /2/activity/subscriptions")
def list_subscriptions(state: State, principal: Principal):
    """The app's subscriptions."""
    subs = [s.json() for s in state.activity.subscriptions.values()]
    return {"data": subs, "meta": {"result_count": len(subs)}}, 200


@bp.delete("/2/activity/subscriptions/<subscription_id>")
@endpoint("DELETE /2/activity/subscriptions/:id")
def delete_subscription(state: State, principal: Principal, subscription_id: str):
    """End a subscription: with the app's token, or the filtered account's own."""
    sub = state.activity.subscriptions.get(subscription_id)
    if sub is None:
        raise invalid_request([{"message": f"subscription {subscription_id} does not exist"}])
    if not principal.app_only and principal.user_id != sub.user_id:
        raise forbidden("Only the app or the subscribed account may delete this subscription.")
    del state.activity.subscriptions[subscription_id]
    return {"data": {"deleted": True}, "meta": {"total_subscriptions": len(state.activity.subscriptions)}}, 200
