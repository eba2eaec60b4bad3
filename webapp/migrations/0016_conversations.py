"""The team inbox: conversations, who read them, and saved replies.

A conversation is a private-message thread (``kind`` "message", ``external_id`` the
provider's conversation id) or a story's comments by others (``kind`` "comments",
``external_id`` the story's provider id), one per stream and provider id: the crawl
upserts them by ``(stream_id, kind, external_id)``. ``(account_id, last_activity_at)``
serves the Inbox's list, newest first. A read marker is one row per user and
conversation. Saved replies belong to the account.
"""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField

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

    class Conversation(Model):
        id = IdField()
        account = ForeignKeyField(Account, on_delete="CASCADE")
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        kind = CharField(max_length=16)
        external_id = CharField(max_length=128)
        status = CharField(max_length=8, default="open")
        assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")
        last_activity_at = DateTimeField()
        news_at = DateTimeField(default=datetime.datetime.utcnow)
        preview = TextField(default="")
        who = CharField(max_length=255, default="")
        answered_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        answered_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "conversation"
            indexes = ((("stream", "kind", "external_id"), True), (("account", "last_activity_at"), False))

    class ConversationRead(Model):
        id = IdField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        conversation = ForeignKeyField(Conversation, on_delete="CASCADE")
        read_at = DateTimeField()

        class Meta:
            database = db
            table_name = "conversation_read"
            indexes = ((("user", "conversation"), True),)

    class SavedReply(Model):
        id = IdField()
        account = ForeignKeyField(Account, on_delete="CASCADE")
        title = CharField(max_length=80)
        text = TextField()
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "saved_reply"
            indexes = ((("account", "title"), False),)

    db.create_tables([Conversation, ConversationRead, SavedReply])


def down(migrator, db):
    for table in ("conversation_read", "conversation", "saved_reply"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
