"""Account settings → Topics (admins): create, rename and delete topics."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from .. import topics
from ..models import Stream
from . import admin_required, plugins, render

bp = Blueprint("topics", __name__, url_prefix="/account/topics")


def _list(status: int = 200, **context):
    rows = [(topic, topics.topic_size(topic)) for topic in topics.topics_of(current_user.account)]
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


def _manage(topic, status: int = 200, **context):
    streams = (Stream.select().where(Stream.topic == topic).order_by(Stream.service, Stream.name))
    return render("topics/manage.html", "topics/_streams.html", status=status, topic=topic,
                  streams=list(streams), loaded=plugins().services.values(), **context)


@bp.route("/<int:topic_id>")
@admin_required
def manage(topic_id: int):
    """One topic: its streams, and an Add button for each service."""
    try:
        topic = topics.get_topic(current_user.account, topic_id)
    except topics.TopicError as exc:
        return render("errors/page.html", "errors/_message.html", status=404,
                      code=404, title="Topic not found", message=str(exc))
    return _manage(topic)


@bp.route("/<int:topic_id>/rename", methods=["POST"])
@admin_required
def rename(topic_id: int):
    """Rename a topic."""
    try:
        topic = topics.rename_topic(current_user.account, topic_id, request.form.get("name", ""))
    except topics.TopicError as exc:
        return render("topics/index.html", "topics/_rename.html", status=400, error=str(exc),
                      topic=_topic_or_none(topic_id), name=request.form.get("name", ""))
    if request.htmx:
        return render("topics/index.html", "topics/_rename.html", topic=topic, message="Topic renamed.")
    flash(f"Topic renamed to “{topic.name}”.", "success")
    return redirect(url_for("topics.manage", topic_id=topic.id), code=303)


def _topic_or_none(topic_id):
    try:
        return topics.get_topic(current_user.account, topic_id)
    except topics.TopicError:
        return None


@bp.route("/<int:topic_id>/delete")
@admin_required
def confirm_delete(topic_id: int):
    """Ask first, saying how many streams and stories go with the topic."""
    topic = _topic_or_none(topic_id)
    if topic is None:
        return _list(404, error="There is no such topic in your account.")
    return render("topics/confirm_delete.html", "topics/_confirm_delete.html",
                  topic=topic, size=topics.topic_size(topic))


@bp.route("/<int:topic_id>/delete", methods=["POST"])
@admin_required
def delete(topic_id: int):
    """Delete a topic with its streams and stories."""
    try:
        name, size = topics.delete_topic(current_user.account, topic_id)
    except topics.TopicError as exc:
        return _list(404, error=str(exc))
    message = f"Topic “{name}” deleted with its {size.describe()}."
    if request.htmx:
        return _list(message=message)
    flash(message, "success")
    return redirect(url_for("topics.index"), code=303)
