"""Subscribing a page to the app's webhooks (Graph's ``/{page-id}/subscribed_apps``).

Graph delivers a page's feed changes and messages only once the page subscribed the
app: ``POST /{page-id}/subscribed_apps?subscribed_fields=feed,messages`` with the page's
own token, which needs ``pages_manage_metadata`` (a refusal is ``(#200)``, read as
PermissionMissing). ``DELETE`` on the same edge ends it. Two calls at most, never on a
crawl's path.
"""
from __future__ import annotations

from streamdesk_contract.values import Credentials, ServiceConfig, StreamRef

from .client import GraphClient

#: The fields Streamdesk reads (plugins.facebook.webhooks): page feed and Messenger.
FIELDS = ("feed", "messages")
NEEDS = ("pages_manage_metadata",)


def subscribe(config: ServiceConfig, stream: StreamRef, credentials: Credentials, on: bool) -> tuple[str, ...]:
    """Subscribe (``on``) or unsubscribe the page; returns the fields it is subscribed
    to afterwards (empty after unsubscribing)."""
    client = GraphClient(config, credentials.access_token, bucket=stream.page_id)
    path = f"/{stream.page_id}/subscribed_apps"
    if not on:
        client.delete(path, needs=NEEDS)
        return ()
    client.post(path, {"subscribed_fields": ",".join(FIELDS)}, needs=NEEDS)
    return FIELDS
