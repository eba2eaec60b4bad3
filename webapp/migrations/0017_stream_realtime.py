"""Streams remember whether their page is subscribed to the provider's webhooks:
``realtime`` is None (never asked, or the service has none), "subscribing", "on",
"permission" (the token lacks what subscribing needs) or "error"; ``realtime_message``
says why it is off; ``realtime_at`` is when the subscription last succeeded (the crawl
interval counts on it only while recent)."""
from peewee import CharField, DateTimeField, TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("stream", "realtime", CharField(max_length=16, null=True)),
                     migrator.add_column("stream", "realtime_message", TextField(null=True)),
                     migrator.add_column("stream", "realtime_at", DateTimeField(null=True)))
    # Whether a page's webhooks went silent: its latest event, found without a scan.
    migrator.migrate(migrator.add_index("webhook_event", ("service", "page_id", "received_at"), False))
