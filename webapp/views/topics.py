"""Account settings → Topics (admins): create, rename and delete topics."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import realtime, topics
from ..streams import Runtime, streams_of
from . import admin_required, plugins, render, settings

bp = Blueprint("topics", __name__, url_prefix="/account/topics")


def _list(status: int = 200, **context):
    listed = topics.topics_of(current_user.account)
    sizes = topics.sizes_of(listed)
    rows = [(topic, sizes.get(topic.id, topics.TopicSize(0, 0))) for topic in listed]
    return render("topics/index.html", "topics/_list.html", status=status, rows=rows, **context)


@bp.route("/")
@admin_required
def index():
    """The account's topics, with a form to create one."""
    return _list()


@bp.route("/", methods=["POST"])
@admin_required
def create():
    """Create a topic, then open it to add streams."""
    try:
        topic = topics.create_topic(current_user.account, request.form.get("name", ""))
    except topics.TopicError as exc:
        return _list(400, error=str(exc), name=request.form.get("name", ""))
    flash(f"Topic “{topic.name}” created. Add its first stream below.", "success")
    target = url_for("topics.manage", topic_id=topic.id)
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def topic_or_404(topic_id: int):
    """The current account's topic, or a 404 page saying there is no such topic."""
    try:
        return topics.get_topic(current_user.account, topic_id)
    except topics.TopicError as exc:
        abort(404, str(exc))


def _manage(topic, status: int = 200, partial: str = "topics/_streams.html", **context):
    """The topic page (rename form, streams, Add buttons), or one of its partials."""
    return render("topics/manage.html", partial, status=status, topic=topic,
                  streams=list(streams_of(topic)), loaded=plugins().services.values(),
                  settings_crawl_interval=settings().crawl_interval, **context)


@bp.route("/<id:topic_id>")
@admin_required
def manage(topic_id: int):
    """One topic: its streams, and an Add button for each service."""
    return _manage(topic_or_404(topic_id))


@bp.route("/<id:topic_id>/rename", methods=["POST"])
@admin_required
def rename(topic_id: int):
    """Rename a topic."""
    topic = topic_or_404(topic_id)
    try:
        topic = topics.rename_topic(current_user.account, topic.id, request.form.get("name", ""))
    except topics.TopicError as exc:
        return _manage(topic, 400, "topics/_rename.html", error=str(exc), name=request.form.get("name", ""))
    if request.htmx:
        return _manage(topic, partial="topics/_rename.html", message="Topic renamed.")
    flash(f"Topic renamed to “{topic.name}”.", "success")
    return redirect(url_for("topics.manage", topic_id=topic.id), code=303)


@bp.route("/<id:topic_id>/crawl-interval", methods=["POST"])
@admin_required
def crawl_interval(topic_id: int):
    """Let a topic's streams crawl on an interval of their own (or the default again)."""
    topic = topic_or_404(topic_id)
    value = request.form.get("crawl_interval", "")
    try:
        topic = topics.set_crawl_interval(current_user.account, topic.id, value)
    except topics.TopicError as exc:
        return _manage(topic, 400, "topics/_rename.html", interval_error=str(exc), interval=value)
    message = (f"Streams of this topic are crawled every {topic.crawl_interval} s." if topic.crawl_interval
               else "Streams of this topic are crawled on the default interval.")
    if request.htmx:
        return _manage(topic, partial="topics/_rename.html", message=message)
    flash(message, "success")
    return redirect(url_for("topics.manage", topic_id=topic.id), code=303)


@bp.route("/<id:topic_id>/delete")
@admin_required
def confirm_delete(topic_id: int):
    """Ask first, saying how many streams and stories go with the topic."""
    topic = topic_or_404(topic_id)
    return render("topics/confirm_delete.html", "topics/_confirm_delete.html",
                  topic=topic, size=topics.topic_size(topic))


@bp.route("/<id:topic_id>/delete", methods=["POST"])
@admin_required
def delete(topic_id: int):
    """Delete a topic with its streams and stories; the pages of the streams that go
    with it are unsubscribed from the provider's webhooks (a job each)."""
    topic = topic_or_404(topic_id)
    rt = Runtime(settings(), plugins())
    # Read before the deletion: the page tokens go with the streams.
    byes = realtime.farewells(rt, topics.streams_only_in(topic))
    name, size = topics.delete_topic(current_user.account, topic.id)
    realtime.queue_unsubscribe(rt, byes)
    message = f"Topic “{name}” deleted with its {size.describe()}."
    if request.htmx:
        return _list(message=message)
    flash(message, "success")
    return redirect(url_for("topics.index"), code=303)
