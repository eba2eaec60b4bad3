"""Adding streams to a topic (Account settings → Topics → topic → Add), and their status."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from streamdesk_contract.errors import InvalidQuery, PermissionMissing, ProviderError

from .. import realtime, streams
from ..models import TopicStream
from ..crawl import queue_crawl
from ..streams import Runtime, StreamError
from . import Confirmation, admin_required, confirmed, plugins, render, settings
from .topics import topic_or_404

bp = Blueprint("streams", __name__, url_prefix="/account/topics/<id:topic_id>")

#: While a stream waits for or runs its crawl, its status is polled this often.
PENDING = ("queued", "crawling")


def _runtime() -> Runtime:
    return Runtime(settings(), plugins())


def _service(service: str) -> str:
    """``service`` when a loaded plugin serves it, or a 404 page naming it."""
    if plugins().get(service) is None:
        abort(404, f"There is no service called “{service[:40]}”.")
    return service


def _added(topic, service: str) -> set[str]:
    """Page ids of ``service`` already in ``topic`` (their Add turns into "Added")."""
    return {s.page_id for s in streams.streams_of(topic) if s.service == service}


def _panel(topic, service: str, kind: str, status: int = 200, **context):
    """The Add panel: a full page without JavaScript, the panel alone for htmx."""
    loaded = plugins().get(service)
    return render("streams/add.html", f"streams/_{kind}.html", status=status,
                  topic=topic, service=service, loaded=loaded, **context)


@bp.route("/add/<service>/owned")
@admin_required
def owned(topic_id: int, service: str):
    """The pages the user's connected profile administers, each with its own Add."""
    topic, service = topic_or_404(topic_id), _service(service)
    try:
        profile, pages = streams.managed_pages(_runtime(), current_user, service)
    except streams.NoConnectedProfile as exc:
        return _panel(topic, service, "owned", no_profile=exc.message)
    except PermissionMissing as exc:
        # Declined at consent: the person can fix it by reconnecting, so it is an
        # explanation with a Reconnect link, not a failure of the service.
        return _panel(topic, service, "owned", missing=exc)
    except (StreamError, ProviderError) as exc:
        return _panel(topic, service, "owned", status=400 if isinstance(exc, StreamError) else 502, error=exc.message)
    return _panel(topic, service, "owned", profile=profile, pages=pages, added=_added(topic, service))


@bp.route("/add/<service>/public")
@admin_required
def public(topic_id: int, service: str):
    """Search a service's public pages by URL or handle; each result has its own Add."""
    topic, service = topic_or_404(topic_id), _service(service)
    query = request.args.get("q")
    if query is None:
        return _panel(topic, service, "public", query="")
    try:
        results = streams.search_pages(_runtime(), current_user, service, query)
    except (StreamError, InvalidQuery) as exc:
        return _panel(topic, service, "public", status=400, query=query, error=exc.message)
    except ProviderError as exc:
        return _panel(topic, service, "public", status=502, query=query, error=exc.message)
    return _panel(topic, service, "public", query=query, results=results, added=_added(topic, service))


@bp.route("/streams", methods=["POST"])
@admin_required
def add(topic_id: int):
    """Add a stream, checked again against the plugin, and queue its first crawl."""
    topic = topic_or_404(topic_id)
    form = request.form
    service, page_id, kind = form.get("service", ""), form.get("page_id", ""), form.get("kind", "")
    try:
        if kind == "owned":
            stream = streams.add_authorized(_runtime(), current_user, topic, service, page_id)
        elif kind == "public":
            stream = streams.add_unauthorized(_runtime(), current_user, topic, service, page_id, form.get("q", ""))
        else:
            raise StreamError("Choose whether the page is one of yours or a public page.")
    except (StreamError, ProviderError) as exc:
        message = exc.message
        if request.htmx:
            return render("streams/add.html", "streams/_add_result.html", status=400, error=message)
        flash(message, "error")
        return redirect(url_for("topics.manage", topic_id=topic.id), code=303)
    queued = queue_crawl(settings(), stream)
    realtime.queue_subscribe(_runtime(), stream)  # a job: the provider is not called here
    if request.htmx:
        return render("streams/add.html", "streams/_add_result.html", stream=stream, topic=topic,
                      streams=list(streams.streams_of(topic)), queued=queued)
    flash(f"“{stream.name}” added{'' if queued else ' (its first crawl will start when the queue is back)'}.",
          "success")
    return redirect(url_for("topics.manage", topic_id=topic.id), code=303)


@bp.route("/streams")
@admin_required
def status(topic_id: int):
    """The topic's streams and their status (polled while a crawl is pending)."""
    topic = topic_or_404(topic_id)
    if not request.htmx:
        return redirect(url_for("topics.manage", topic_id=topic.id))
    rows = list(streams.streams_of(topic))
    html, _ = render("topics/manage.html", "streams/_list.html", topic=topic, streams=rows)
    # 286 tells htmx to stop polling once nothing is pending.
    return html, 200 if any(s.status in PENDING for s in rows) else 286


@bp.route("/streams/<id:stream_id>/crawl", methods=["POST"])
@admin_required
def crawl_now(topic_id: int, stream_id: int):
    """Crawl a stream now instead of at its next planned time."""
    topic = topic_or_404(topic_id)
    try:
        stream = streams.crawl_now(topic, stream_id)
    except StreamError as exc:
        flash(exc.message, "error")
    else:
        queued = queue_crawl(settings(), stream)
        flash(f"“{stream.name}” is queued for crawling now." if queued else
              f"“{stream.name}” will be crawled at the scheduler's next look (within a minute).", "success")
    return redirect(url_for("topics.manage", topic_id=topic.id), code=303)


@bp.app_context_processor
def _stream_gaps():
    # The stream list is included by several pages: each render reads its gaps once.
    return {"stream_gaps": streams.gaps_of, "stream_modes": lambda rows: realtime.crawl_modes(_runtime(), rows)}


def _last_topic(stream) -> bool:
    """Whether only one topic holds ``stream`` (removing it there removes the stream)."""
    return TopicStream.select().where(TopicStream.stream == stream.id).count() <= 1


@bp.route("/streams/<id:stream_id>/delete", methods=["POST"])
@admin_required
def remove(topic_id: int, stream_id: int):
    """Remove a stream of this topic and what it crawled (asked first: in a dialog with
    JavaScript, on a page of its own without)."""
    topic = topic_or_404(topic_id)
    target = url_for("topics.manage", topic_id=topic.id)
    stream = streams.stream_of(topic, stream_id)
    if stream is not None:
        ask = confirmed(Confirmation(f"Remove “{stream.name}” from {topic.name}?",
                                     "Everything crawled from it in this topic goes with it. This cannot be undone.",
                                     "Remove stream", target))
        if ask:
            return ask
    # Read before the removal: the page token goes with the stream.
    byes = realtime.farewells(_runtime(), [stream]) if stream is not None and _last_topic(stream) else []
    try:
        name = streams.remove_stream(topic, stream_id)
    except StreamError as exc:
        flash(exc.message, "error")
    else:
        realtime.queue_unsubscribe(_runtime(), byes)
        flash(f"“{name}” removed from {topic.name}.", "success")
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)
