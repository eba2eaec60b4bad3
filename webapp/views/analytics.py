"""Analytics (members and admins): the account's topics and streams, a topic's and a
stream's dashboard over a range, a topic's own streams against its competitors.

The range lives in the URL (``range``, ``from``, ``to``; ``by`` for top posts), so a
dashboard can be bookmarked and shared; the selector is a GET form that htmx turns into
a swap of the dashboard partial. Another account's topic or stream id is a 404.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import analytics, charts
from ..metrics import MEANINGS
from ..models import Stream, TopicStream
from ..topics import topics_of
from . import plugins, render
from .exports import stream_links, topic_links
from .topics import topic_or_404

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _labels() -> dict[str, str]:
    """Service → its label, for "not provided by <label>"."""
    return {name: loaded.service.label for name, loaded in plugins().services.items()}


def _range():
    """The URL's range and top-posts order; an error message instead when unusable."""
    by = request.args.get("by") or "engagements"
    try:
        chosen = analytics.DateRange.parse(request.args)
    except analytics.RangeError as exc:
        return analytics.DateRange.last(analytics.DEFAULT_DAYS), by, str(exc)
    if by not in analytics.RANK_BY:
        return chosen, "engagements", f"Top posts can be ranked by engagements or views, not “{by[:40]}”."
    return chosen, by, None


def _charts(dash: analytics.Dashboard, names: dict[int, str]) -> list[charts.Chart]:
    """Views and followers as lines, posts and engagements as bars: one series for a
    stream, one per stream (by name) for a topic, the smaller ones added up beyond
    :data:`charts.MAX_SERIES`."""
    def series(name: str) -> dict[str, list]:
        figure = dash[name]
        if len(names) == 1:
            return {figure.label: figure.series}
        by_stream = {names[i]: values for i, values in figure.by_stream.items()}
        return charts.top_series(by_stream) if by_stream else {figure.label: figure.series}

    span = f"{dash.range.start.isoformat()} to {dash.range.end.isoformat()}"
    made = []
    for name, draw, what in (("views", charts.line_chart, "Views (impressions) per day"),
                             ("followers", charts.line_chart, "Followers at the end of each day"),
                             ("posts_published", charts.bar_chart, "Posts published"),
                             ("engagements", charts.bar_chart, "Engagements")):
        figure = dash[name]
        per = "" if draw is charts.line_chart else (" per week" if dash.range.days > charts.WEEKLY_AFTER
                                                    else " per day")
        title = what + per
        description = f"{title}, {span}." + (f" {figure.note}." if figure.note else "")
        made.append(draw(title, description, dash.days, series(name), figure.note))
    return made


def _compared(report: analytics.Competitors) -> list[charts.Chart]:
    """Audience growth and engagements per post, a bar per stream (own ones first)."""
    rows = report.own + report.others
    span = f"{report.range.start.isoformat()} to {report.range.end.isoformat()}"
    return [charts.compare_chart("Audience growth", f"Net follower growth in percent per stream, {span}.",
                                 [(r.stream.name, r.growth_percent) for r in rows], percent=True),
            charts.compare_chart("Engagements per post", f"Public engagements per post published, {span}.",
                                 [(r.stream.name, r.engagements_per_post) for r in rows])]


def _page(kind: str, subject, streams, story_topic: int | None, dash_of):
    chosen, by, error = _range()
    links = {key: url_for(request.endpoint, **request.view_args, **chosen.args(), by=key)
             for key in analytics.RANK_BY}
    context = dict(kind=kind, subject=subject, range=chosen, by=by, error=error, meanings=MEANINGS,
                   story_topic=story_topic, rank_links=links,
                   export_links=_downloads(kind, subject.id, chosen))
    if error:
        return render("analytics/dashboard.html", "analytics/_dashboard.html", status=400, dash=None, **context)
    dash = dash_of(chosen)
    names = {s.id: s.name for s in streams}
    top = analytics.top_posts(streams, chosen, by=by)
    html, status = render("analytics/dashboard.html", "analytics/_dashboard.html", dash=dash,
                          charts=_charts(dash, names), top=top, **context)
    return html, status, {"Vary": "HX-Request"}


def _downloads(kind: str, subject_id: int, chosen: analytics.DateRange) -> dict[str, str]:
    """The dashboard's two CSV files for the range it shows (the exports read the range
    with the same parser, so the arguments carry over unchanged)."""
    links = stream_links(subject_id) if kind == "stream" else topic_links(subject_id)
    return {name: f"{url}?{urlencode(chosen.args())}" for name, url in links.items()}


@bp.route("")
@login_required
def index():
    """The account's topics and their streams, each a link to its dashboard."""
    account = current_user.account
    topics = topics_of(account.id)
    streams: dict[int, list] = {}
    for row in (Stream.select(Stream.id, Stream.name, Stream.service, Stream.authorized,
                              TopicStream.topic.alias("held_by")).join(TopicStream)
                .where(Stream.account == account).order_by(Stream.authorized.desc(), Stream.name).objects()):
        streams.setdefault(row.held_by, []).append(row)
    return render_template("analytics/index.html", topics=topics, streams=streams, meanings=MEANINGS)


@bp.route("/charts.css")
def chart_styles():
    """pygal's chart rules, from our origin (the CSP refuses inline styles)."""
    return Response(charts.stylesheet(), mimetype="text/css", headers={"Cache-Control": "public, max-age=86400"})


@bp.route("/topics/<id:topic_id>")
@login_required
def topic(topic_id: int):
    """A topic's dashboard: its streams' figures added up, charts per stream, top posts."""
    subject = topic_or_404(topic_id)
    streams = analytics.topic_streams(subject)
    return _page("topic", subject, streams, subject.id,
                 lambda chosen: analytics.topic_dashboard(subject, chosen, _labels(), streams=streams))


@bp.route("/topics/<id:topic_id>/competitors")
@login_required
def competitors(topic_id: int):
    """A topic's authorized streams beside its unauthorized ones (Sprout's competitor report)."""
    subject = topic_or_404(topic_id)
    chosen, by, error = _range()
    context = dict(kind="competitors", subject=subject, range=chosen, by=by, error=error)
    if error:
        return render("analytics/competitors.html", "analytics/_competitors.html", status=400, report=None,
                      **context)
    report = analytics.competitors(subject, chosen, _labels())
    html, status = render("analytics/competitors.html", "analytics/_competitors.html", report=report,
                          charts=_compared(report), **context)
    return html, status, {"Vary": "HX-Request"}


@bp.route("/streams/<id:stream_id>")
@login_required
def stream(stream_id: int):
    """One stream's dashboard."""
    subject = analytics.account_stream(current_user.account_id, stream_id)
    if subject is None:
        abort(404, "There is no such stream in your account.")
    return _page("stream", subject, [subject], subject.topic_id,
                 lambda chosen: analytics.stream_dashboard(subject, chosen, _labels()))
