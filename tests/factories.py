"""Rows for tests, made the way the application makes them."""
import datetime

from webapp.models import FigureDay, Story, Stream, TopicStream


def new_stream(topic, **fields) -> Stream:
    """A stream of ``topic``'s account held by ``topic`` — what Add stores once the
    provider has confirmed the page (tests that need no provider make it directly)."""
    stream = Stream.create(account=topic.account_id, **fields)
    TopicStream.create(topic=topic, stream=stream)
    return stream


def figure_days(stream, name: str, start: datetime.date, values, provider_metric: str | None = None,
                api_version: str | None = None, replaces: str | None = None, note: str | None = None) -> None:
    """Daily roll-up rows (:class:`FigureDay`) of ``stream``'s figure ``name``: one per
    value, from ``start`` on, as the metrics refresh writes them (a value None is "not
    provided": give its ``note``)."""
    rows = [dict(stream=stream.id, name=name, day=start + datetime.timedelta(days=n), value=value,
                 provider_metric=provider_metric, api_version=api_version, replaces=replaces,
                 note=note if value is None else None)
            for n, value in enumerate(values)]
    FigureDay.insert_many(rows).execute()


def story_at(stream, external_id: str, created_at: datetime.datetime, views: int | None = None,
             engagements: int | None = None, text: str = "") -> Story:
    """A crawled story of ``stream`` with the figures a metrics refresh copied onto it."""
    return Story.create(stream=stream, external_id=external_id, created_at=created_at, text=text or external_id,
                        views=views, engagements=engagements)
