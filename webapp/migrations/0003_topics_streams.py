"""Connected profiles, topics, streams and what their crawls bring: stories, comments, messages."""
import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model, TextField


def up(migrator, db):
    now = datetime.datetime.utcnow

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Account(Base):
        class Meta:
            table_name = "account"

    class User(Base):
        class Meta:
            table_name = "user"

    class ConnectedProfile(Base):
        user = ForeignKeyField(User, on_delete="CASCADE")
        service = CharField(max_length=32)
        external_id = CharField(max_length=128)
        name = CharField(max_length=255)
        access_token = TextField()
        refresh_token = TextField(null=True)
        expires_at = DateTimeField(null=True)
        scopes = TextField(default="")
        granted = TextField(default="")
        declined = TextField(default="")
        status = CharField(max_length=16, default="connected")
        created_at = DateTimeField(default=now)
        updated_at = DateTimeField(default=now)

        class Meta:
            indexes = ((("user", "service"), True),)

    class Topic(Base):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        name = CharField(max_length=80)
        created_at = DateTimeField(default=now)

        class Meta:
            indexes = ((("account", "name"), True),)

    class Stream(Base):
        topic = ForeignKeyField(Topic, on_delete="CASCADE")
        service = CharField(max_length=32)
        page_id = CharField(max_length=128)
        name = CharField(max_length=255)
        handle = CharField(max_length=255, null=True)
        url = TextField(null=True)
        picture_url = TextField(null=True)
        authorized = BooleanField(default=False)
        connected_profile = ForeignKeyField(ConnectedProfile, null=True, on_delete="SET NULL")
        access_token = TextField(null=True)
        refresh_token = TextField(null=True)
        expires_at = DateTimeField(null=True)
        scopes = TextField(default="")
        status = CharField(max_length=16, default="queued")
        status_message = TextField(null=True)
        cursor = TextField(null=True)
        last_crawled_at = DateTimeField(null=True)
        next_crawl_at = DateTimeField(null=True, index=True)
        created_at = DateTimeField(default=now)

        class Meta:
            indexes = ((("topic", "service", "page_id"), True),)

    class Story(Base):
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        external_id = CharField(max_length=128)
        created_at = DateTimeField()
        updated_at = DateTimeField(null=True)
        text = TextField(default="")
        author_id = CharField(max_length=128, null=True)
        author_name = CharField(max_length=255, null=True)
        url = TextField(null=True)
        raw_type = CharField(max_length=64, null=True)
        is_hidden = BooleanField(default=False)

        class Meta:
            indexes = ((("stream", "external_id"), True), (("stream", "created_at"), False))

    class Comment(Base):
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        external_id = CharField(max_length=128)
        story_external_id = CharField(max_length=128)
        parent_external_id = CharField(max_length=128, null=True)
        created_at = DateTimeField()
        text = TextField(default="")
        author_id = CharField(max_length=128, null=True)
        author_name = CharField(max_length=255, null=True)
        is_hidden = BooleanField(default=False)

        class Meta:
            indexes = ((("stream", "external_id"), True), (("stream", "story_external_id"), False))

    class Message(Base):
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        external_id = CharField(max_length=128)
        conversation_id = CharField(max_length=128)
        created_at = DateTimeField()
        text = TextField(default="")
        sender_id = CharField(max_length=128, null=True)
        sender_name = CharField(max_length=255, null=True)

        class Meta:
            indexes = ((("stream", "external_id"), True),)

    db.create_tables([ConnectedProfile, Topic, Stream, Story, Comment, Message])
