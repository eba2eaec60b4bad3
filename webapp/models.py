"""The application's peewee models. Schema changes go through webapp/migrations."""
from __future__ import annotations

import datetime

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model

from .db import database

ROLES = ("admin", "member")


def utcnow() -> datetime.datetime:
    """Naive UTC, the one time representation stored in the database."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        # snake_case table names (login_attempt), as the migrations create them.
        legacy_table_names = False


class Account(BaseModel):
    """A team: owns topics; its users are admins or members."""

    name = CharField(max_length=120)
    created_at = DateTimeField(default=utcnow)


class User(UserMixin, BaseModel):
    """A person who logs in; belongs to one account."""

    account = ForeignKeyField(Account, backref="users", on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="member")
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginAttempt(BaseModel):
    """One login attempt, kept for rate limiting."""

    email = CharField(max_length=254, index=True)
    ip = CharField(max_length=64, index=True)
    succeeded = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)


class Heartbeat(BaseModel):
    """The last time a scheduled job ran (shown on the status page)."""

    name = CharField(max_length=64, primary_key=True)
    ran_at = DateTimeField()
