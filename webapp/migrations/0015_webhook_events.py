"""Raw webhook events: what a provider POSTed, one row per update, kept for replay.

The receiver only records them (deduplicated by the provider's event id, or a digest of
the update where the provider sends none) and a job turns them into stories, comments
and messages. ``status``: pending until that job ran, then processed, dropped (no
stream holds the page) or failed (``message`` says why).
"""
import datetime

from peewee import CharField, DateTimeField, Model, TextField

from webapp.db import IdField


def up(migrator, db):
    class WebhookEvent(Model):
        id = IdField()  # never reused, like every id since 0005
        service = CharField(max_length=32)
        event_key = CharField(max_length=255)
        page_id = CharField(max_length=128, null=True)
        received_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        body = TextField()
        status = CharField(max_length=16, default="pending")
        message = TextField(null=True)

        class Meta:
            database = db
            table_name = "webhook_event"
            indexes = ((("service", "event_key"), True),)

    db.create_tables([WebhookEvent])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "webhook_event"')
