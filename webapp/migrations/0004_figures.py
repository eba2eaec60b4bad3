"""Metric figures of streams (post and page level) and when they are next refreshed."""
import datetime

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Stream(Model):
        class Meta:
            database = db
            table_name = "stream"

    class Figure(Model):
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        level = CharField(max_length=8)
        object_id = CharField(max_length=128)
        name = CharField(max_length=64)
        value = BigIntegerField(null=True)
        provider_metric = CharField(max_length=128, null=True)
        note = TextField(null=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "figure"
            indexes = ((("stream", "level", "object_id", "name"), True),)

    db.create_tables([Figure])
    migrator.migrate(migrator.add_column("stream", "next_metrics_at", DateTimeField(null=True, index=True)))
