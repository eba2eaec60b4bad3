"""Topics → a topic's feed (members and admins): its stories, a story's thread, and
the "new stories" notice the feed polls."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import login_required

from .. import engage, feed, threads
from ..search import highlight
from ..streams import web_url
from ..topics import topics_of
from . import is_partial_request, plugins, render
from .topics import topic_or_404

bp = Blueprint("feed", __name__, url_prefix="/topics/<id:topic_id>")
bp.add_app_template_global(highlight, "highlight")
bp.add_app_template_global(web_url, "web_url")

def _filters(streams):
    """The feed's filters and paging position from the query string (FeedError names a bad one)."""
    f = feed.parse_filters(request.args, streams, set(plugins().services))
    before = request.args.get("before")
    return f, feed.Cursor.parse(before, "before") if before else None


def _more():
    """The position of a search's next page of results (FeedError names a bad one)."""
    more = request.args.get("more")
    return feed.parse_more(more) if more else None


@bp.route("")
@login_required
def topic(topic_id: int):
    """The topic's stories, newest first, filtered by the form; "Older stories" pages on
    (for htmx, when the last row comes into view: only the next rows are sent). A
    search's "More results" pages on the same way, on click."""
    topic = topic_or_404(topic_id)
    streams = feed.feed_streams(topic)
    context = dict(topic=topic, streams=streams, topics=topics_of(topic.account_id), args=request.args)
    try:
        f, before = _filters(streams)
        more = _more()
    except feed.FeedError as exc:
        return render("feed/page.html", "feed/_feed.html", status=400, error=str(exc), filters=feed.Filters(),
                      listing=feed.FeedPage(), before=None, **context)
    page = feed.feed_page(streams, f, before, more=more)
    partial = "feed/_rows.html" if before is not None or more is not None else "feed/_feed.html"
    html, status = render("feed/page.html", partial, filters=f, listing=page, before=before, **context)
    return html, status, {"Vary": "HX-Request"}


@bp.route("/new")
@login_required
def new(topic_id: int):
    """How many stories came in after ``after`` (the feed polls this): 204 when none.
    With ``show``, the new rows themselves, for the top of the feed."""
    topic = topic_or_404(topic_id)
    show = bool(request.args.get("show"))
    # The poll runs every few seconds in every open feed: it reads the streams' ids only
    # when a filter picks among them, and no stream row at all without filters.
    narrowed = any(request.args.get(name) for name in feed.NARROWING)
    streams = feed.feed_streams(topic) if show else feed.poll_streams(topic) if narrowed else []
    try:
        f, _ = _filters(streams)
        after = feed.Cursor.parse(request.args.get("after", ""), "after")
    except feed.FeedError as exc:
        abort(400, str(exc))
    if not is_partial_request():  # without htmx: the feed itself, which has them at the top
        return redirect(url_for("feed.topic", topic_id=topic.id, **f.args()))
    if show:
        stories = feed.new_since(streams, f, after)
        page = feed.FeedPage(rows=stories, stories=stories,
                             newest=feed.Cursor(stories[0].created_at, stories[0].id) if stories else after)
        page.figures = feed.figures_of(stories)
        return render("feed/page.html", "feed/_new_rows.html", topic=topic, filters=f, listing=page, before=None)
    count = feed.count_new(streams, f, after) if narrowed else feed.count_new_in_topic(topic.id, after)
    if not count:
        return "", 204
    return render("feed/page.html", "feed/_new.html", topic=topic, filters=f, after=after, count=count)


@bp.route("/stories/<id:story_id>")
@login_required
def story(topic_id: int, story_id: int):
    """One story with its comments as a thread, its post figures, and what an
    unauthorized stream of its service can track."""
    topic = topic_or_404(topic_id)
    story = threads.story_in(topic, story_id)
    if story is None:
        abort(404, "There is no such story in this topic.")
    show_all = request.args.get("comments") == "all"
    thread = threads.thread_of(story, limit=None if show_all else threads.THREAD_SIZE)
    return render("feed/story.html", "feed/_story.html", topic=topic, story=story, thread=thread,
                  figures=threads.post_figures(story), topics=topics_of(topic.account_id),
                  liked=engage.liked(story.stream_id, [story.external_id, *threads.external_ids(thread)]))
