"""Subscribing an account to the app's X Activity API webhook.

X delivers an account's events only to a webhook the app registered (``POST
/2/webhooks {"url"}``, which X accepts only after the URL answers its CRC) and only for
the subscriptions naming that account (``POST /2/activity/subscriptions {"event_type",
"filter": {"user_id"}, "webhook_id"}``, one per event type; the private ones,
``dm.received`` and ``oauth.revoke``, with the account's own user token). Subscribing
registers the webhook at ``config.webhook_url`` when the app has none there (or asks X
to check it again with ``PUT /2/webhooks/:id`` when X marked it invalid), then adds the
event types the account is not subscribed to yet, so repeating it adds nothing
(``dm.received`` only when the token has ``dm.read``).
Unsubscribing deletes the account's subscriptions (``DELETE
/2/activity/subscriptions/:id``, with the app's token: a revoked user token must not
keep the deliveries coming). Never on a crawl's path.
"""
from __future__ import annotations

from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import Credentials, ServiceConfig, StreamRef

from .client import XClient, app_token
from .webhooks import DM_EVENTS, EVENT_TYPES


def subscribe(config: ServiceConfig, stream: StreamRef, credentials: Credentials, on: bool) -> tuple[str, ...]:
    """Subscribe (``on``) or unsubscribe the account ``stream.page_id``; returns the
    event types it is subscribed to afterwards (empty after unsubscribing)."""
    app = XClient(config, app_token(config), user_context=False)
    if not on:
        for sub in _subscriptions(app, stream.page_id):
            app.request("DELETE", f"/2/activity/subscriptions/{sub['subscription_id']}",
                        "DELETE /2/activity/subscriptions/:id")
        return ()
    webhook_id = _webhook(app, config)
    have = {sub.get("event_type") for sub in _subscriptions(app, stream.page_id) if sub.get("webhook_id") == webhook_id}
    wanted = wanted_events(credentials)
    user = XClient(config, credentials.access_token)
    for kind in sorted(wanted - have):
        user.request("POST", "/2/activity/subscriptions", "POST /2/activity/subscriptions", scope="dm.read"
                     if kind in DM_EVENTS else None,
                     json={"event_type": kind, "filter": {"user_id": stream.page_id}, "webhook_id": webhook_id})
    return tuple(sorted(wanted))


def wanted_events(credentials: Credentials) -> frozenset[str]:
    """The event types to subscribe the account to: all of them, but ``dm.received``
    only with ``dm.read`` (X refuses it otherwise, and the crawl reads no DMs either, so
    real time misses nothing polling would have found)."""
    if credentials.scopes and "dm.read" not in credentials.scopes:
        return EVENT_TYPES - DM_EVENTS
    return EVENT_TYPES


def _webhook(app: XClient, config: ServiceConfig) -> str:
    """The id of the app's webhook at ``config.webhook_url``, registered (CRC passed) now
    if it is not yet, and checked again if X marked it invalid."""
    if not config.webhook_url:
        raise ProviderUnavailable("X webhooks need this installation's PUBLIC_URL to register the callback URL.")
    listed = app.get("/2/webhooks", "GET /2/webhooks").get("data") or []
    hook = next((h for h in listed if isinstance(h, dict) and h.get("url") == config.webhook_url), None)
    if hook is None:
        hook = app.request("POST", "/2/webhooks", "POST /2/webhooks", json={"url": config.webhook_url})["data"]
    elif hook.get("valid") is False:
        app.request("PUT", f"/2/webhooks/{hook['id']}", "PUT /2/webhooks/:webhook_id")
    return str(hook["id"])


def _subscriptions(app: XClient, user_id: str) -> list[dict]:
    """The app's subscriptions about ``user_id`` (any webhook)."""
    listed = app.get("/2/activity/subscriptions", "GET /2/activity/subscriptions").get("data") or []
    return [s for s in listed if isinstance(s, dict) and (s.get("filter") or {}).get("user_id") == user_id]
