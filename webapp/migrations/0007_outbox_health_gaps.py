"""The outbox: every e-mail Streamdesk sends (or, without SMTP_URL, would send), kept so
admins can read what was sent and a sandbox install shows what admins would receive.
Connected profiles remember which expiry warnings their owner got (and for which expiry
date, so a renewed token starts afresh) and when their token last worked. Streams remember when they expired, and the
gaps in their data that a crawl after the reconnect could not fill; topics may crawl on
an interval of their own."""
import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

from webapp.db import IdField


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class OutboxEmail(Model):
        id = IdField()
        account = ForeignKeyField(Account, null=True, on_delete="CASCADE")
        recipient = CharField(max_length=254)
        subject = TextField()
        text = TextField()
        html = TextField(null=True)
        delivered = BooleanField(default=False)
        error = TextField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "outbox_email"
            indexes = ((("account", "created_at"), False),)

    class Stream(Model):
        class Meta:
            database = db
            table_name = "stream"

    class StreamGap(Model):
        id = IdField()
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        starts_at = DateTimeField()
        ends_at = DateTimeField()
        reason = TextField()
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "stream_gap"
            indexes = ((("stream", "starts_at"), False),)

    db.create_tables([OutboxEmail, StreamGap])
    migrator.migrate(
        migrator.add_column("connected_profile", "warned_for", DateTimeField(null=True)),
        migrator.add_column("connected_profile", "warnings_sent", IntegerField(default=0)),
        migrator.add_column("stream", "expired_at", DateTimeField(null=True)),
        migrator.add_column("connected_profile", "last_success_at", DateTimeField(null=True)),
        migrator.add_column("topic", "crawl_interval", IntegerField(null=True)),
    )
