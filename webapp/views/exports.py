"""Analytics → CSV downloads (members and admins): a stream's or a topic's stories with
their figures and its metric history, for a range of days, streamed.

Only the account's own streams and topics: another account's id answers 404. A bad
range answers 400 with the message above the range form, never half a file.
"""
from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required

from .. import analytics, csvexport, exports
from ..models import Stream
from ..streams import StreamError, get_stream, in_topic
from . import render
from .topics import topic_or_404

bp = Blueprint("exports", __name__, url_prefix="/analytics")

KINDS = {"stories": (exports.STORY_COLUMNS, exports.story_batches),
         "history": (exports.HISTORY_COLUMNS, exports.history_batches)}


def _stream_or_404(stream_id: int) -> Stream:
    try:
        return get_stream(current_user.account_id, stream_id)
    except StreamError as exc:
        abort(404, str(exc))


def _export(kind: str, subject: str, streams: list[Stream], links: dict[str, str]):
    """The streamed CSV of ``kind`` for ``streams``, or the range form with the reason
    the range cannot be used (checked before the first byte goes out)."""
    try:
        days = analytics.DateRange.parse(request.args)  # as the dashboards read it: their links carry it
    except analytics.RangeError as exc:
        return render("analytics/export.html", "analytics/_export.html", status=400, error=str(exc),
                      subject=subject, links=links, values=request.args)
    columns, batches = KINDS[kind]
    return csvexport.download(csvexport.csv_chunks(columns, batches(streams, days)),
                              exports.filename(subject, kind, days))


def stream_links(stream_id: int) -> dict[str, str]:
    """The stream's two downloads, for the range form."""
    return {kind: url_for(f"exports.stream_{kind}", stream_id=stream_id) for kind in KINDS}


def topic_links(topic_id: int) -> dict[str, str]:
    """The topic's two downloads, for the range form."""
    return {kind: url_for(f"exports.topic_{kind}", topic_id=topic_id) for kind in KINDS}


@bp.get("/streams/<id:stream_id>/csv")
@login_required
def stream_form(stream_id: int):
    """The stream's range form with its two downloads."""
    return _form(_stream_or_404(stream_id).name, stream_links(stream_id))


@bp.get("/topics/<id:topic_id>/csv")
@login_required
def topic_form(topic_id: int):
    """The topic's range form with its two downloads."""
    return _form(topic_or_404(topic_id).name, topic_links(topic_id))


def _form(subject: str, links: dict[str, str]):
    return render("analytics/export.html", "analytics/_export.html", subject=subject, links=links,
                  values=request.args)


@bp.get("/streams/<id:stream_id>/stories.csv")
@login_required
def stream_stories(stream_id: int):
    """The stream's stories of the range with their figures, newest first."""
    stream = _stream_or_404(stream_id)
    return _export("stories", stream.name, [stream], stream_links(stream_id))


@bp.get("/streams/<id:stream_id>/history.csv")
@login_required
def stream_history(stream_id: int):
    """The stream's daily figures of the range."""
    stream = _stream_or_404(stream_id)
    return _export("history", stream.name, [stream], stream_links(stream_id))


def _topic_streams(topic_id: int):
    topic = topic_or_404(topic_id)
    return topic, list(in_topic(topic).select(Stream.id, Stream.name, Stream.service))


@bp.get("/topics/<id:topic_id>/stories.csv")
@login_required
def topic_stories(topic_id: int):
    """The stories of all the topic's streams in the range with their figures."""
    topic, streams = _topic_streams(topic_id)
    return _export("stories", topic.name, streams, topic_links(topic_id))


@bp.get("/topics/<id:topic_id>/history.csv")
@login_required
def topic_history(topic_id: int):
    """The daily figures of all the topic's streams in the range."""
    topic, streams = _topic_streams(topic_id)
    return _export("history", topic.name, streams, topic_links(topic_id))
