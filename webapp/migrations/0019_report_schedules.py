"""Weekly reports (issue "Analytics"): an admin has a topic's dashboard e-mailed to
chosen people every week on a weekday and hour (UTC).

``next_send_at`` is what the cron pass looks for (indexed) and what it claims with a
conditional UPDATE, so two cron processes never send one report twice.
"""
import datetime

from peewee import BooleanField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField

from webapp.db import IdField


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class Topic(Model):
        class Meta:
            database = db
            table_name = "topic"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class ReportSchedule(Model):
        id = IdField()
        account = ForeignKeyField(Account, on_delete="CASCADE")
        topic = ForeignKeyField(Topic, on_delete="CASCADE")
        recipients = TextField(default="")
        weekday = IntegerField()
        hour = IntegerField()
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        enabled = BooleanField(default=True)
        last_sent_at = DateTimeField(null=True)
        next_send_at = DateTimeField(null=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "report_schedule"
            indexes = ((("account", "topic"), False),)

    db.create_tables([ReportSchedule])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "report_schedule"')
