"""The main navigation: Topics, Inbox, Metrics."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..expiry import expired_streams
from ..linking import may_reconnect
from .. import conversations
from .. import inbox as inbox_rows
from ..conversations import Filters
from ..models import Stream, Topic, TopicStream, with_topic_names
from ..prepared import Prepared, slot
from ..renewal import expiring_soon
from ..threads import thread_links
from ..topics import topics_of
from . import plugins

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return redirect(url_for("main.topics"))


@bp.route("/topics")
@login_required
def topics():
    """The account's topics and the state of their streams; expired ones in a red banner."""
    account = current_user.account
    topics = list(Topic.select().where(Topic.account == account).order_by(Topic.name))
    streams = {}
    for stream in (Stream.select(Stream, TopicStream.topic.alias("held_by")).join(TopicStream)
                   .where(Stream.account == account).order_by(Stream.service, Stream.name).objects()):
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
    return render_template("main/inbox.html", streams=streams, comments=comments,
                           threads=thread_links(comments),
                           messages=inbox_rows.message_lines(streams, INBOX_SIZE), filters=filters,
                           conversations=conversations.listed(current_user, filters),
                           unread=conversations.unread_count(current_user),
                           topics=topics_of(account.id))


@bp.route("/metrics")
@login_required
def metrics():
    """Post- and page-level figures of the account's streams (impressions, reach, …)."""
    from .. import metrics as figures

    account = current_user.account
    streams = with_topic_names(Stream.select().where(Stream.account == account).order_by(Stream.name))
    return render_template("main/metrics.html", streams=streams, pages=figures.page_figures(account),
                           posts=figures.top_posts(streams), meanings=figures.MEANINGS)
