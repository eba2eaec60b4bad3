"""Login sessions: one row per browser a user logged in with, so a login can be ended."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model

from webapp.db import IdField


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class LoginSession(Model):
        id = IdField()  # never reused, like every id since 0005
        user = ForeignKeyField(User, on_delete="CASCADE")
        token_hash = CharField(max_length=64, unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        expires_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "login_session"

    db.create_tables([LoginSession])
