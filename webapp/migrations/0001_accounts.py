"""Accounts and their users."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class Account(Model):
        name = CharField(max_length=120)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        account = ForeignKeyField(Account, backref="users", on_delete="CASCADE")
        email = CharField(max_length=254, unique=True)
        password_hash = CharField(max_length=255)
        role = CharField(max_length=16, default="member")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "user"

    db.create_tables([Account, User])
