"""Analytics computations (webapp/analytics.py): ranges, dashboards, competitors and top
posts, read from daily roll-up rows made here directly."""
import datetime

import pytest
from factories import figure_days, new_stream, story_at
from test_query_counts import counted

from webapp import analytics
from webapp.analytics import DateRange, RangeError
from webapp.db import on_postgres
from webapp.models import Topic

TODAY = datetime.date(2026, 3, 15)
LABELS = {"facebook": "Facebook", "twitter": "X"}


def test_presets_end_today_and_compare_with_the_period_before():
    r = DateRange.parse({"range": "7"}, today=TODAY)
    assert r.end == TODAY and r.days == 7 and r.preset == 7
    assert r.previous.end == r.start - datetime.timedelta(days=1) and r.previous.days == 7
    assert DateRange.parse({}, today=TODAY).days == analytics.DEFAULT_DAYS
    assert DateRange.parse({"range": "90"}, today=TODAY).args() == {"range": "90"}


def test_custom_ranges_are_parsed_from_and_to():
    r = DateRange.parse({"from": "2026-01-01", "to": "2026-01-31"}, today=TODAY)
    assert (r.start, r.end, r.days, r.preset) == (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31), 31, None)
    assert r.previous == DateRange(datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))
    assert DateRange.parse(r.args(), today=TODAY) == r


@pytest.mark.parametrize("args, message", [
    ({"range": "14"}, "“14” is not a range"),
    ({"range": "custom", "from": "2026-01-01"}, "needs both “From” and “To”"),
    ({"from": "yesterday", "to": "2026-01-02"}, "“yesterday” is not a date for “From”"),
    ({"from": "2026-02-01", "to": "2026-01-02"}, "“From” is after “To”"),
    ({"from": "2026-03-01", "to": "2026-03-16"}, "is in the future"),
    ({"from": "2024-01-01", "to": "2026-01-02"}, "at most 366 days"),
    ({"from": "1999-01-01", "to": "2000-01-02"}, "there are no figures that old"),
])
def test_bad_ranges_say_what_is_wrong(args, message):
    with pytest.raises(RangeError, match=message):
        DateRange.parse(args, today=TODAY)


@pytest.fixture
def fb(topic):
    return new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True,
                      status="active")


@pytest.fixture
def x(topic):
    return new_stream(topic, service="twitter", page_id="2", name="Rival <b>Roasters</b>", status="active")




def test_stream_dashboard_sums_compares_and_keeps_the_provider_metric(fb):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    start = r.previous.start - datetime.timedelta(days=1)  # one more day: the follower baseline
    views = [100 + n for n in range(15)]
    engaged = [10 + n % 3 for n in range(15)]
    followers = [1000 + 5 * n for n in range(15)]
    figure_days(fb, "impressions", start, views, "page_media_view", "v23.0", "page_impressions")
    figure_days(fb, "post_engagements", start, engaged)
    figure_days(fb, "followers", start, followers, "page_follows", "v23.0")
    figure_days(fb, "posts_published", start, [1] * 15)
    dash = analytics.stream_dashboard(fb, r, LABELS)
    v = dash["views"]
    assert v.current == sum(views[8:]) and v.previous == sum(views[1:8])
    assert v.change.absolute == v.current - v.previous
    assert v.change.percent == pytest.approx((v.current - v.previous) / v.previous * 100)
    assert v.series == views[8:] and len(dash.days) == 7 and dash.days[-1] == r.end
    assert v.sources == [analytics.Source("page_media_view", "v23.0", "page_impressions")]
    assert v.basis is None and v.note is None
    assert dash["engagements"].current == sum(engaged[8:])
    assert dash["engagement_rate"].current == pytest.approx(sum(engaged[8:]) / sum(views[8:]) * 100)
    assert dash["followers"].current == followers[-1] and dash["followers"].previous == followers[7]
    assert dash["net_followers"].current == followers[-1] - followers[7]
    assert dash["net_followers"].previous == followers[7] - followers[0]
    assert dash["posts_published"].current == 7
    # not provided: None with the service's name, never 0
    assert dash["reach"].current is None and dash["reach"].note == "not provided by Facebook"
    assert dash["comments_received"].current is None and dash["comments_received"].series == [None] * 7


def test_without_page_views_views_come_from_posts_and_missing_days_are_gaps(x):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    figure_days(x, "impressions", r.start, [None] * 7, note="not provided by X")
    figure_days(x, "post_views", r.start, [50, None, 70, 80, None, 60, 40])
    dash = analytics.stream_dashboard(x, r, LABELS)
    v = dash["views"]
    assert v.current == 300 and v.previous is None and v.change == analytics.Change()
    assert v.basis == analytics.FROM_POSTS
    assert v.series == [50, None, 70, 80, None, 60, 40]
    assert dash["reach"].note == "not provided by X" and dash["reach"].current is None
    assert dash["views"].by_stream == {x.id: [50, None, 70, 80, None, 60, 40]}
    assert dash["engagement_rate"].current is None  # no engagements: no rate


def test_a_previous_period_of_zero_has_no_percent(fb):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    figure_days(fb, "posts_published", r.previous.start, [0] * 7 + [2] * 7)
    change = analytics.stream_dashboard(fb, r)["posts_published"].change
    assert change.absolute == 14 and change.percent is None


def test_topic_dashboard_adds_streams_up_and_names_what_one_of_them_lacks(topic, fb, x):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    figure_days(fb, "impressions", r.start, [10] * 7, "page_media_view", "v23.0")
    figure_days(x, "post_views", r.start, [5] * 7)
    figure_days(fb, "followers", r.start, [100] * 7)
    figure_days(x, "followers", r.start, [40, 41, None, 43, 44, 45, 46])
    dash = analytics.topic_dashboard(topic, r, LABELS)
    assert dash["views"].current == 7 * 15 and dash["views"].series == [15] * 7
    assert "Rival <b>Roasters</b>: from posts published in the range" in dash["views"].basis
    assert dash["followers"].current == 146
    assert dash["followers"].series[2] is None  # one stream unread that day: a gap, not a dip
    assert "Rival <b>Roasters</b>: not provided by X" in dash["reach"].note
    assert "Bluebird Coffee: not provided by Facebook" in dash["reach"].note


def test_competitors_put_own_streams_beside_the_others(topic, fb, x):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    base = r.start - datetime.timedelta(days=1)
    figure_days(fb, "followers", base, [200] + [210] * 7)
    figure_days(x, "followers", base, [50] + [60] * 7)
    figure_days(fb, "posts_published", r.start, [2] * 7)
    figure_days(fb, "post_engagements", r.start, [30] * 7)
    figure_days(x, "posts_published", r.start, [1] * 7)
    result = analytics.competitors(topic, r, LABELS)
    (own,), (other,) = result.own, result.others
    assert own.stream.id == fb.id and other.stream.id == x.id
    assert own.followers == 210 and own.net_followers == 10 and own.growth_percent == pytest.approx(5.0)
    assert own.engagements_per_post == pytest.approx(30 * 7 / 14)
    assert other.growth_percent == pytest.approx(20.0) and other.posts == 7
    assert other.engagements is None and other.engagements_per_post is None
    assert other.notes["engagements"] == "not provided by X"


def test_top_posts_rank_the_range_by_engagements_or_views(fb, x):
    r = DateRange.parse({"range": "7"}, today=TODAY)
    inside = datetime.datetime.combine(r.start, datetime.time(12))
    story_at(fb, "a", inside, views=900, engagements=5)
    story_at(fb, "b", inside, views=100, engagements=50)
    story_at(x, "c", inside + datetime.timedelta(days=1), views=None, engagements=20)
    story_at(x, "old", inside - datetime.timedelta(days=3), views=10**6, engagements=10**6)
    by_engagements = analytics.top_posts([fb, x], r)
    assert [p.story.external_id for p in by_engagements] == ["b", "c", "a"]
    assert by_engagements[1].stream.id == x.id
    assert [p.story.external_id for p in analytics.top_posts([fb, x], r, by="views")] == ["a", "b"]
    assert len(analytics.top_posts([fb, x], r, limit=1)) == 1
    with pytest.raises(RangeError, match="ranked by engagements or views"):
        analytics.top_posts([fb], r, by="likes")


@pytest.mark.parametrize("most", [0, 2000])
def test_top_posts_are_the_same_walked_best_first_or_sorted(fb, x, monkeypatch, most):
    """A stream with many stories in the range is walked on its figure's index, one with
    few is sorted: both give the same ranking, ties broken newest first, and nothing
    from outside the range (``most`` 0: every stream walked; 2000: every one sorted)."""
    monkeypatch.setattr(analytics, "SORT_AT_MOST", most)
    r = DateRange.parse({"range": "7"}, today=TODAY)
    inside = datetime.datetime.combine(r.start, datetime.time(12))
    for i in range(30):
        story_at(fb, f"f{i}", inside + datetime.timedelta(hours=i), views=i % 7, engagements=i % 5)
        story_at(x, f"x{i}", inside + datetime.timedelta(hours=i, minutes=30), views=None, engagements=i % 4)
    story_at(fb, "before", inside - datetime.timedelta(days=1), views=99, engagements=99)
    story_at(fb, "after", datetime.datetime.combine(r.end + datetime.timedelta(days=1), datetime.time()),
             views=99, engagements=99)
    ranked = [p.story.external_id for p in analytics.top_posts([fb, x], r, limit=6)]
    # engagements 4 at f4, f9, …, f29 (newest first), then 3s: x27 is newer than f28.
    assert ranked == ["f29", "f24", "f19", "f14", "f9", "f4"]
    by_views = [p.story.external_id for p in analytics.top_posts([fb, x], r, by="views", limit=3)]
    assert by_views == ["f27", "f20", "f13"]


def test_other_accounts_streams_never_join_a_topic(account, topic, fb):
    from webapp.accounts import create_account
    from webapp.models import TopicStream

    theirs = new_stream(Topic.create(account=create_account("Rival"), name="T"), service="facebook", page_id="9",
                        name="Their page")
    TopicStream.create(topic=topic, stream=theirs)  # a hold that should never exist
    assert [s.id for s in analytics.topic_streams(topic)] == [fb.id]


@pytest.mark.parametrize("days", ["7", "90"])
def test_queries_do_not_grow_with_range_or_streams(app, topic, days):
    db = app.extensions["streamdesk.db"]
    r = DateRange.parse({"range": days}, today=TODAY)
    counts = []
    for n in (1, 20):
        Topic.update(name=f"T{n}").where(Topic.id == topic.id).execute()
        for i in range(n):
            s = new_stream(topic, service="facebook", page_id=f"{n}-{i}", name=f"S{i}")
            figure_days(s, "impressions", r.previous.start, [1] * (2 * r.days))
            story_at(s, f"{n}-{i}", datetime.datetime.combine(r.start, datetime.time()), 1, 1)
        streams = analytics.topic_streams(topic)
        with counted(db) as statements:
            analytics.topic_dashboard(topic, r)
            analytics.competitors(topic, r, streams=streams)
            analytics.top_posts(streams, r)
            analytics.stream_dashboard(streams[0], r)
        counts.append(len(statements))
    top_posts = 1 if on_postgres() else 2  # SQLite counts the streams' ranges first
    assert counts[0] == counts[1] == 3 + 2 + top_posts + 2, counts


def test_a_stream_is_found_in_its_account_only_with_a_topic_holding_it(account, topic, fb):
    from webapp.accounts import create_account

    found = analytics.account_stream(account.id, fb.id)
    assert found.name == fb.name and found.topic_id == topic.id
    assert analytics.account_stream(create_account("Rival").id, fb.id) is None


def test_a_chart_keeps_its_largest_series_and_adds_up_the_rest_without_inventing_zeros():
    from webapp.charts import top_series

    series = {"a": [5, 5], "b": [None, 1], "c": [2, None], "d": [None, None], "e": [9, 9]}
    assert top_series(series, most=5) is series
    assert top_series(series, most=3) == {"e": [9, 9], "a": [5, 5], "3 other streams": [2, 1]}
    assert top_series({"x": [1], "y": [None], "z": [None]}, most=2) == {"x": [1], "2 other streams": [None]}
