"""Metric history (issue "Analytics").

* ``figure_snapshot``: a dated copy of a figure each time a refresh read a *different*
  value from the one stored before (an unchanged figure adds nothing, so hourly
  refreshes of a quiet page cost no rows). Page and post level. Kept for
  ``analytics.SNAPSHOT_DAYS``, then pruned once rolled up.
* ``figure_day``: the daily roll-up, one row per stream, figure and day; what every
  dashboard reads, so a year of history is 365 rows per figure.
* ``figure`` keeps the API version and the retired metric its provider metric replaces;
  ``story`` keeps its latest views and engagements for ranking top posts, and is indexed
  by stream and time for the dashboards' per-stream date ranges, and by stream and each
  figure (partial: only stories that have it) for walking a stream's best stories first.
"""
import datetime

from peewee import BigIntegerField, CharField, DateField, DateTimeField, ForeignKeyField, Model, TextField

from webapp.db import IdField


def up(migrator, db):
    class Stream(Model):
        class Meta:
            database = db
            table_name = "stream"

    class FigureSnapshot(Model):
        id = IdField()
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        level = CharField(max_length=8)
        object_id = CharField(max_length=128)
        name = CharField(max_length=64)
        value = BigIntegerField(null=True)
        provider_metric = CharField(max_length=128, null=True)
        api_version = CharField(max_length=16, null=True)
        taken_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "figure_snapshot"
            indexes = ((("stream", "level", "object_id", "name", "taken_at"), False),)

    class FigureDay(Model):
        id = IdField()
        stream = ForeignKeyField(Stream, on_delete="CASCADE")
        name = CharField(max_length=64)
        day = DateField()
        value = BigIntegerField(null=True)
        provider_metric = CharField(max_length=128, null=True)
        api_version = CharField(max_length=16, null=True)
        replaces = CharField(max_length=128, null=True)
        note = TextField(null=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "figure_day"
            indexes = ((("stream", "name", "day"), True),)

    db.create_tables([FigureSnapshot, FigureDay])
    migrator.migrate(migrator.add_column("figure", "api_version", CharField(max_length=16, null=True)),
                     migrator.add_column("figure", "replaces", CharField(max_length=128, null=True)),
                     migrator.add_column("story", "views", BigIntegerField(null=True)),
                     migrator.add_column("story", "engagements", BigIntegerField(null=True)))
    db.execute_sql('CREATE INDEX IF NOT EXISTS "story_stream_id_created_at" ON "story" ("stream_id", "created_at")')
    # Top posts walk a stream's stories best first (webapp/analytics.py top_posts). Partial:
    # a story has no figures until its first refresh, so crawling writes no entry here.
    for figure in ("engagements", "views"):
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "story_stream_id_{figure}" ON "story" '
                       f'("stream_id", "{figure}", "created_at") WHERE "{figure}" IS NOT NULL')


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "figure_snapshot"')
    db.execute_sql('DROP TABLE IF EXISTS "figure_day"')
