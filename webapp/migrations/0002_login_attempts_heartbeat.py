"""Login rate limiting, last login time and the scheduler heartbeat."""
import datetime

from peewee import BooleanField, CharField, DateTimeField, Model


def up(migrator, db):
    class LoginAttempt(Model):
        email = CharField(max_length=254, index=True)
        ip = CharField(max_length=64, index=True)
        succeeded = BooleanField(default=False)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "login_attempt"

    class Heartbeat(Model):
        name = CharField(max_length=64, primary_key=True)
        ran_at = DateTimeField()

        class Meta:
            database = db
            table_name = "heartbeat"

    db.create_tables([LoginAttempt, Heartbeat])
    migrator.migrate(migrator.add_column("user", "last_login_at", DateTimeField(null=True)))
