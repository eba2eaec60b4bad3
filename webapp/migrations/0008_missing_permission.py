"""Streams remember the permission a provider refused (status "permission"), so the
stream list can name it and offer a link that asks for just that permission again."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column("stream", "missing_permission", CharField(max_length=64, null=True)))
