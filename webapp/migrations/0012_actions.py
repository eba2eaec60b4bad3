"""Actions: one row per interaction the team sends (publish, reply, comment, like, hide,
delete), kept as the audit log and as the guard that sends each one exactly once.

``(account_id, key)`` is unique: the key is made when the form is rendered, so a double
click, a browser retry or two tabs sending the same form find the row the first one
inserted. ``(account_id, created_at)`` serves the account's Activity list, newest first.
"""
import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

from webapp.db import IdField


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Stream(Model):
        class Meta:
            database = db
            table_name = "stream"

    class Action(Model):
        id = IdField()
        account = ForeignKeyField(Account, on_delete="CASCADE")
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        # The audit log outlives a removed stream: its name and service are kept.
        stream = ForeignKeyField(Stream, null=True, on_delete="SET NULL")
        stream_name = CharField(max_length=255, default="")
        service = CharField(max_length=32, default="")
        kind = CharField(max_length=16)
        target_id = CharField(max_length=128, null=True)
        story_external_id = CharField(max_length=128, null=True)
        undo = BooleanField(default=False)
        text = TextField(default="")
        key = CharField(max_length=64)
        status = CharField(max_length=16, default="queued")
        external_id = CharField(max_length=128, null=True)
        error = TextField(null=True)
        error_kind = CharField(max_length=16, null=True)
        attempts = IntegerField(default=0)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        claimed_at = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "action"
            indexes = ((("account", "key"), True), (("account", "created_at"), False), (("stream",), False))

    db.create_tables([Action])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "action"')
