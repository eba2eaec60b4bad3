"""The main navigation: Topics, Inbox, Metrics."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from ..expiry import expired_streams
from ..linking import may_reconnect
from .. import conversations
from .. import inbox as inbox_rows
from ..conversations import Filters
from ..models import Stream, Topic, TopicStream
from ..prepared import Prepared, slot
from ..renewal import expiring_soon
from ..topics import topics_of
from . import RowUrl, plugins, row_url

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return redirect(url_for("main.topics"))


#: What the Topics page shows of each stream, and which topic holds it (a stream held
#: by two topics is listed in both).
_TOPICS_STREAMS = Prepared(lambda: Stream.select(Stream.id, Stream.name, Stream.service, Stream.authorized,
                                                 Stream.status, TopicStream.topic.alias("held_by"))
                           .join(TopicStream).where(Stream.account == slot("account_id"))
                           .order_by(Stream.service, Stream.name).objects())


@bp.route("/topics")
@login_required
def topics():
    """The account's topics and the state of their streams; expired ones in a red banner."""
    account = current_user.account
    topics = list(Topic.select().where(Topic.account == account).order_by(Topic.name))
    streams = {}
    for stream in _TOPICS_STREAMS.rows(account_id=account.id):
        streams.setdefault(stream.held_by, []).append(stream)
    return render_template("main/topics.html", topics=topics, streams=streams,
                           expiring=expiring_soon(plugins(), current_user))


@bp.app_context_processor
def _expired_banner():
    """The red banner's streams (and the nav's badge), read once per request and only
    by the pages that show them."""

    def expired_banner() -> list:
        if not current_user.is_authenticated:
            return []
        if "expired_streams" not in g:
            g.expired_streams = list(expired_streams(current_user.account))
        return g.expired_streams

    return {"expired_banner": expired_banner, "may_reconnect": lambda stream: may_reconnect(current_user, stream)}


#: Only what the Inbox shows and needs, not the tokens (they would be decrypted per
#: stream); its SQL is built once (webapp/prepared.py).
_INBOX_STREAMS = Prepared(lambda: Stream.select(Stream.id, Stream.name, Stream.service, Stream.page_id)
                          .where(Stream.account == slot("account_id")))
#: How many of the newest comments and messages the inbox shows.
INBOX_SIZE = 50


@bp.route("/inbox")
@login_required
def inbox():
    """The team inbox: the account's conversations, filtered by the URL's arguments
    (who, status, service, topic), then the newest comments from others and private
    messages (sender → recipient) of the account's streams."""
    account = current_user.account
    streams = {s.id: s for s in _INBOX_STREAMS.rows(account_id=account.id)}
    comments = inbox_rows.outsiders_comments(streams, INBOX_SIZE)
    filters = Filters.from_args(request.args)
    return render_template("main/inbox.html", streams=streams, sources=_sources(streams), comments=comments,
                           threads=_thread_urls(comments),
                           messages=inbox_rows.message_lines(streams, INBOX_SIZE), filters=filters,
                           conversations=conversations.listed(current_user, filters),
                           unread=conversations.unread_count(current_user),
                           topics=topics_of(account.id))


def _sources(streams: dict[int, Stream]) -> dict[int, Markup]:
    """Each stream as the Inbox's rows name it: its name and its service's label
    (escaped here once per stream, not by a template macro per row)."""
    label = current_app.jinja_env.globals["service_label"]
    return {stream_id: Markup('{} <small class="muted">{}</small>').format(stream.name, label(stream.service))
            for stream_id, stream in streams.items()}


def _thread_urls(comments) -> dict[int, str]:
    """Each comment's link to its place in a story view (inbox.places), built
    with one url_for per topic, not one per comment (row_url)."""
    by_topic: dict[int, RowUrl] = {}
    urls = {}
    for comment_id, (topic_id, story_id) in inbox_rows.places(comments).items():
        story_url = by_topic.get(topic_id) or by_topic.setdefault(
            topic_id, row_url("feed.story", "story_id", topic_id=topic_id))
        urls[comment_id] = f"{story_url(story_id)}#comment-{comment_id}"
    return urls


@bp.route("/metrics")
def metrics():
    """The former Metrics page: its figures, with their history, are on Analytics now."""
    return redirect(url_for("analytics.index"), code=301)
