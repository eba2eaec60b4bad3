"""Metric history (issue "Analytics"): daily page figures with their backfill, snapshots of
changed figures only, story views/engagements, the derived day figures, pruning, and
malformed insights — through the real plugins over HTTP to the emulators."""
import datetime
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import requests
from test_streams import add, connect

from webapp import history
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.metrics import refresh
from webapp.models import Figure, FigureDay, FigureSnapshot, Story, Stream, utcnow
from webapp.plugins import Plugins
from webapp.streams import Runtime

BLUEBIRD = "104729384756102"  # the seed's page the admin manages
ACME = "100482736450917"      # a public page
PACIFIC = ZoneInfo("America/Los_Angeles")
UTC = datetime.UTC


@pytest.fixture
def rt(environ):
    return Runtime(load_settings(environ), Plugins())


@pytest.fixture
def graph(emulator_urls, environ):
    """A GET on the Facebook emulator's Graph API (v25.0), with the app's token unless
    another is given: the test's own reading of the emulator's data."""
    settings = load_settings(environ)
    app = f"{environ['FACEBOOK_CLIENT_ID']}|{environ['FACEBOOK_CLIENT_SECRET']}"
    assert settings  # configured from the same environment as the app

    def get(path: str, token: str | None = None, **params):
        response = requests.get(f"{emulator_urls['facebook']}/v25.0/{path.lstrip('/')}",
                                params={**params, "access_token": token or app}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def every(path: str, token: str | None = None, **params) -> list:
        """Every item of an edge, following its ``paging.next`` links."""
        body = get(path, token, **params)
        items = list(body["data"])
        while body.get("paging", {}).get("next"):
            body = requests.get(body["paging"]["next"], timeout=10).json()
            items += body["data"]
        return items

    get.every = every
    return get


@pytest.fixture
def linked(admin_client, emulator, topic):
    """Bluebird Coffee, the admin's page, added as an authorized stream, not crawled yet."""
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", BLUEBIRD)
    return Stream.get()


@pytest.fixture
def owned(linked, rt):
    """Bluebird Coffee crawled once (its first crawl refreshes its figures too)."""
    assert crawl(rt, Stream.get()) == "active"
    return Stream.get()


def daily_calls(emulator) -> list[dict]:
    """The period=day page insights calls the emulator served since its log was cleared."""
    return [r for r in emulator("facebook", "GET", "/requests")["requests"]
            if r["path"].endswith(f"{BLUEBIRD}/insights") and r.get("query", {}).get("period") == "day"]


def pacific_midnight(day: datetime.date) -> int:
    return int(datetime.datetime.combine(day, datetime.time(), PACIFIC).timestamp())


def last_ended_pacific_day(emulator) -> datetime.date:
    now = datetime.datetime.fromtimestamp(emulator("facebook", "GET", "/clock")["now"], UTC)
    return now.astimezone(PACIFIC).date() - datetime.timedelta(days=1)


def days_of(name: str, stream_id: int) -> dict[datetime.date, FigureDay]:
    return {row.day: row for row in FigureDay.select().where(FigureDay.stream == stream_id, FigureDay.name == name)}


def test_first_refresh_backfills_90_days_then_asks_only_the_last_days(linked, emulator, rt, graph, today):
    emulator("facebook", "DELETE", "/calls")
    assert crawl(rt, Stream.get()) == "active"  # a first crawl refreshes the figures at once
    owned = Stream.get()
    first = daily_calls(emulator)
    since = today - datetime.timedelta(days=history.BACKFILL_DAYS)
    now = emulator("facebook", "GET", "/clock")["now"]
    # Graph allows 90 days per call: the backfill runs from the asked day's Pacific
    # midnight to now in back-to-back windows of at most 90 days (one or two, by the hour).
    windows = [(int(c["query"]["since"]), int(c["query"]["until"])) for c in first]
    assert windows[0][0] == pacific_midnight(since) and now - 60 <= windows[-1][1] <= now
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all(until - start <= 90 * 86400 for start, until in windows)
    assert len(windows) == -(-(windows[-1][1] - windows[0][0]) // (90 * 86400))
    last = last_ended_pacific_day(emulator)
    expected = [since + datetime.timedelta(days=n) for n in range((last - since).days + 1)]
    for name, metric, retired in (("impressions", "page_media_view", "page_impressions"),
                                  ("reach", "page_total_media_view_unique", "page_impressions_unique"),
                                  ("new_followers", "page_daily_follows_unique", None)):
        rows = days_of(name, owned.id)
        assert sorted(rows) == expected, name
        assert all(r.value is not None and r.provider_metric == metric and r.replaces == retired
                   and r.api_version == "v25.0" for r in rows.values())
    # The values are the emulator's, day by day (read back independently for 3 days).
    answer = graph(f"{BLUEBIRD}/insights", Stream.get().credentials.access_token, metric="page_media_view",
                   period="day", since=pacific_midnight(last - datetime.timedelta(days=2)),
                   until=pacific_midnight(last + datetime.timedelta(days=1)))
    views = days_of("impressions", owned.id)
    for value in answer["data"][0]["values"]:
        end = datetime.datetime.strptime(value["end_time"], "%Y-%m-%dT%H:%M:%S%z").astimezone(PACIFIC)
        assert views[(end - datetime.timedelta(seconds=1)).date()].value == value["value"]
    # Followers: Graph's page_follows per day (it replaces page_fans), today from the page node.
    followers = days_of("followers", owned.id)
    assert followers[last].provider_metric == "page_follows" and followers[last].replaces == "page_fans"
    node = graph(BLUEBIRD, fields="followers_count")
    assert followers[today].value == node["followers_count"] and followers[today].provider_metric == "followers_count"
    page = Figure.get(Figure.level == "page", Figure.name == "impressions")
    assert (page.provider_metric, page.replaces, page.api_version) == ("page_media_view", "page_impressions", "v25.0")
    post = Figure.select().where(Figure.level == "post", Figure.name == "reach").first()
    assert (post.replaces, post.api_version) == ("post_impressions_unique", "v25.0")

    emulator("facebook", "DELETE", "/calls")
    assert refresh(rt, Stream.get()) == "refreshed"
    again = daily_calls(emulator)
    # Read again from two days before the provider's last stored day (followers, a stock
    # kept at today's UTC day, does not count).
    overlap = last - datetime.timedelta(days=history.OVERLAP_DAYS)
    assert len(again) == 1 and int(again[0]["query"]["since"]) == pacific_midnight(overlap)
    assert sorted(days_of("impressions", owned.id)) == expected  # nothing lost, nothing doubled


def test_a_backfill_is_asked_in_back_to_back_windows_of_at_most_90_days():
    from plugins.facebook.metrics import _windows

    since = datetime.date(2026, 9, 9)
    start = pacific_midnight(since)
    evening = datetime.datetime(2026, 12, 8, 20, tzinfo=UTC)  # 90 days and 13 hours later: two windows
    assert _windows(since, evening) == [(start, start + 90 * 86400), (start + 90 * 86400, int(evening.timestamp()))]
    night = datetime.datetime(2026, 12, 8, 0, 30, tzinfo=UTC)  # under 90 days: one window
    assert _windows(since, night) == [(start, int(night.timestamp()))]
    assert _windows(datetime.date(2026, 12, 9), night) == []  # nothing has ended yet


def test_unauthorized_facebook_streams_get_public_counts_and_followers(admin_client, emulator, topic, rt, graph, today):
    add(admin_client, topic, "facebook", "public", ACME, q="@acmeoutdoor")
    stream = Stream.get()
    assert crawl(rt, stream) == "active"
    emulator("facebook", "DELETE", "/calls")
    assert refresh(rt, Stream.get()) == "refreshed"
    assert daily_calls(emulator) == [] and not any(
        "insights" in r["path"] for r in emulator("facebook", "GET", "/requests")["requests"])
    figures = {(f.object_id, f.name): f for f in Figure.select().where(Figure.level == "post")}
    stories = list(Story.select().where(Story.stream == stream).order_by(Story.created_at.desc()).limit(50))
    for story in stories[:5]:
        # Counted by the test from the edges' own lists, not from their summaries.
        comments = graph.every(f"{story.external_id}/comments", filter="stream", limit=100)
        shares = graph(story.external_id, fields="shares").get("shares", {}).get("count", 0)
        got = {name: figures[(story.external_id, name)] for name in ("reactions", "comments", "shares")}
        assert got["comments"].value == len(comments) and got["shares"].value == shares
        assert got["reactions"].value == graph(story.external_id, fields="reactions.summary(true)")[
            "reactions"]["summary"]["total_count"]
        assert all(f.api_version == "v25.0" and f.replaces is None for f in got.values())
        assert Story.get_by_id(story.id).engagements == sum(f.value for f in got.values())
        for name in ("impressions", "reach"):
            figure = figures[(story.external_id, name)]
            assert figure.value is None and "admins" in figure.note
        assert Story.get_by_id(story.id).views is None
    followers = Figure.get(Figure.level == "page", Figure.name == "followers")
    assert followers.value == graph(ACME, fields="followers_count")["followers_count"]
    assert Figure.get(Figure.level == "page", Figure.name == "impressions").value is None
    day = FigureDay.get(FigureDay.name == "followers")
    assert day.day == today and day.value == followers.value
    assert not FigureDay.select().where(FigureDay.name.in_(["impressions", "reach"])).exists()


def test_x_figures_carry_api_version_2(admin_client, emulator, topic, rt, today):
    rival = next(u for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    add(admin_client, topic, "twitter", "public", rival["id"], q="@rivalroasters")
    assert crawl(rt, Stream.get()) == "active"
    assert refresh(rt, Stream.get()) == "refreshed"
    assert Figure.select().count() > 0 and all(f.api_version == "2" for f in Figure.select())
    followers = FigureDay.get(FigureDay.name == "followers")
    assert followers.day == today and followers.api_version == "2" and followers.value is not None
    assert not FigureDay.select().where(FigureDay.name == "impressions").exists()  # X has no page views
    likes = {f.object_id: f.value for f in Figure.select().where(Figure.name == "likes")}
    story = Story.get(Story.external_id == next(iter(likes)))
    counts = [f.value for f in Figure.select().where(Figure.object_id == story.external_id,
                                                     Figure.name.in_(["likes", "replies", "reposts", "quotes"]))]
    assert story.engagements == sum(counts)


def snapshots() -> list[tuple]:
    return sorted((s.level, s.object_id, s.name, s.value) for s in FigureSnapshot.select())


def test_snapshots_only_when_a_value_changed(owned, emulator, rt):
    first = snapshots()  # from the refresh that followed the first crawl
    with_values = Figure.select().where(Figure.value.is_null(False)).count()
    assert len(first) == with_values > 0  # the first reading of each figure with a value
    assert refresh(rt, Stream.get()) == "refreshed"
    assert snapshots() == first  # nothing changed, nothing added
    story = Story.select().where(Story.stream == owned).order_by(Story.created_at.desc()).first()
    before = Figure.get(Figure.object_id == story.external_id, Figure.name == "comments").value
    emulator("facebook", "POST", "/comments", post_id=story.external_id, message="Lovely flat white")
    assert refresh(rt, Stream.get()) == "refreshed"
    added = Counter(snapshots()) - Counter(first)
    assert list(added) == [("post", story.external_id, "comments", before + 1)]
    assert FigureSnapshot.get(FigureSnapshot.value == before + 1).api_version == "v25.0"


def test_derived_day_figures_match_the_emulators_data(owned, emulator, rt, graph, today):
    assert refresh(rt, Stream.get()) == "refreshed"
    token = Stream.get().credentials.access_token
    posts = emulator("facebook", "GET", f"/posts?page_id={BLUEBIRD}")["posts"]
    recent = sorted(posts, key=lambda p: -p["created"])[:50]
    first = datetime.datetime.fromtimestamp(recent[-1]["created"], UTC).date()

    def utc_day(unix: int) -> datetime.date:
        return datetime.datetime.fromtimestamp(unix, UTC).date()

    published = Counter(utc_day(p["created"]) for p in posts)
    received, views, engagements = Counter(), {}, {}
    ids = [p["id"] for p in posts]
    for post_id in ids:
        received.update(datetime.datetime.strptime(c["created_time"], "%Y-%m-%dT%H:%M:%S%z").date()
                        for c in graph.every(f"{post_id}/comments", token, filter="stream", limit=100,
                                             fields="created_time"))
    nodes = graph("/", token, ids=",".join(p["id"] for p in recent),
                  fields="insights.metric(post_media_view),reactions.limit(0).summary(true),"
                         "comments.filter(stream).limit(0).summary(true),shares")
    for post in recent:
        node, day = nodes[post["id"]], utc_day(post["created"])
        views[day] = views.get(day, 0) + node["insights"]["data"][0]["values"][0]["value"]
        engagements[day] = engagements.get(day, 0) + (node["reactions"]["summary"]["total_count"]
                                                      + node["comments"]["summary"]["total_count"]
                                                      + node.get("shares", {}).get("count", 0))
    stored = {name: days_of(name, owned.id) for name in history.DERIVED}
    expected_days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]
    for name in history.DERIVED:
        assert sorted(stored[name]) == expected_days, name
    for day in expected_days:
        assert stored["posts_published"][day].value == published.get(day, 0), day
        assert stored["comments_received"][day].value == received.get(day, 0), day
        # Only the refreshed (recent) posts have views: on the first day, older posts add none.
        assert stored["post_views"][day].value == views.get(day), day
        assert stored["post_engagements"][day].value == engagements.get(day), day
        if day not in views:
            assert stored["post_views"][day].note == history.NO_VIEWS
    assert sum(published.get(d, 0) for d in expected_days) >= 50


def test_pruning_removes_only_snapshots_older_than_90_days(linked):
    now = utcnow()
    ages = [91, 120, 95, 89, 10, 0]
    for n, days in enumerate(ages):
        FigureSnapshot.create(stream=linked, level="page", object_id=BLUEBIRD, name="followers", value=n,
                              taken_at=now - datetime.timedelta(days=days, minutes=1))
    assert history.prune(now - datetime.timedelta(days=history.SNAPSHOT_DAYS), batch=2) == 3
    assert sorted(s.value for s in FigureSnapshot.select()) == [3, 4, 5]


def test_malformed_insights_give_no_value_and_a_note(owned, emulator, emulator_urls, rt):
    last = last_ended_pacific_day(emulator)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), PACIFIC)
    end_time = end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    body = {"data": [
        {"name": "page_media_view", "period": "day", "values": [{"end_time": end_time, "value": {"a": "x"}}]},
        {"name": "page_total_media_view_unique", "period": "day", "values": [{"end_time": end_time}]},
        {"name": "page_daily_follows_unique", "period": "day", "values": [{"end_time": end_time, "value": "7"}]},
        {"name": "page_follows", "period": "day", "values": "many"},
        {"name": "page_follows", "period": "day", "values": [{"end_time": 12, "value": 3}]},
    ]}
    followers_before = days_of("followers", owned.id)[last].value
    assert followers_before is not None
    fault = {"kind": "malformed", "path": f"/v25.0/{BLUEBIRD}/insights", "body": body, "count": 5}
    # Both insights calls of the refresh get it (the control helper's own ``path`` hides the field).
    requests.post(f"{emulator_urls['facebook']}/_control/faults", json=fault, timeout=10).raise_for_status()
    assert refresh(rt, Stream.get()) == "refreshed"
    for name in ("impressions", "reach", "new_followers"):
        row = days_of(name, owned.id)[last]
        assert row.value is None and row.note and "no readable figure" in row.note, name
    page = Figure.get(Figure.level == "page", Figure.name == "impressions")
    assert page.value is None and "no figure" in page.note
    # page_follows entries without a readable day are left out: the stored day keeps its value.
    assert days_of("followers", owned.id)[last].value == followers_before


def test_recording_a_refresh_costs_the_same_statements_for_5_or_150_stories(db, topic):
    """No statement per figure or per story: the previous values are one query, the
    snapshots one insert per 500 rows, the stories one UPDATE per 200, the day figures
    one GROUP BY per family (counted where peewee runs its statements)."""
    from test_query_counts import counted

    from streamdesk_contract.values import Figure as Reading
    from factories import new_stream

    def statements(stories: int) -> list[str]:
        stream = new_stream(topic, service="facebook", page_id=f"p{stories}", name=f"Page {stories}", status="active")
        now = utcnow()
        for n in range(stories):
            Story.create(stream=stream, external_id=f"s{n}", created_at=now - datetime.timedelta(hours=n))
        readings = [Reading(name, n + 1, name, "post", f"s{n}", api_version="v25.0")
                    for n in range(stories) for name in ("impressions", "reactions", "comments")]
        readings.append(Reading("followers", 7, "followers_count", "page", stream.page_id))
        with counted(db) as run:
            history.record(stream, readings, now - datetime.timedelta(hours=stories - 1), now)
        assert Story.get(Story.stream == stream, Story.external_id == "s0").engagements == 2
        return run

    few, many = statements(5), statements(150)
    assert len(few) == len(many) == 5, many  # previous values, snapshots, stories, two GROUP BYs


def tile(html: str, figure: str) -> str:
    """The dashboard's tile of ``figure`` (its ``data-figure`` name), as HTML."""
    found = re.search(rf'data-figure="{figure}">(.*?)</article>', html, re.S)
    assert found, f"no {figure} tile"
    return found.group(1)


def tile_value(html: str, figure: str) -> str:
    """The headline number of ``figure``'s tile, as shown."""
    return re.search(r'<p class="tile-value">(.*?)</p>', tile(html, figure), re.S).group(1).strip()


def test_a_crawled_page_shows_on_its_dashboard_with_the_emulators_figures(linked, rt, emulator, admin_client, graph):
    """End to end: the first crawl's refresh fills the roll-up, and the stream's dashboard
    shows the emulator's numbers — views summed over the range's Pacific days as Graph
    gives them, followers as the page node says, posts counted from the stored stories."""
    from webapp.analytics import DateRange

    # The seed's posts are older than the range: these give "Posts published" a count.
    for days_ago in (1, 2, 3):
        at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
        emulator("facebook", "POST", "/posts", page_id=BLUEBIRD, created_time=int(at.timestamp()))
    assert crawl(rt, linked) == "active"
    owned = Stream.get()
    chosen = DateRange.parse({"range": "7"})
    answer = graph(f"{BLUEBIRD}/insights", owned.credentials.access_token, metric="page_media_view", period="day",
                   since=pacific_midnight(chosen.start), until=pacific_midnight(chosen.end + datetime.timedelta(days=1)))
    views = 0
    for value in answer["data"][0]["values"]:
        day = (datetime.datetime.strptime(value["end_time"], "%Y-%m-%dT%H:%M:%S%z").astimezone(PACIFIC)
               - datetime.timedelta(seconds=1)).date()
        if chosen.start <= day <= chosen.end:
            views += value["value"]
    assert views > 0
    followers = graph(BLUEBIRD, fields="followers_count")["followers_count"]
    start = datetime.datetime.combine(chosen.start, datetime.time())
    posts = Story.select().where(Story.stream == owned, Story.created_at >= start).count()
    assert posts == 3
    html = admin_client.get(f"/analytics/streams/{owned.id}?range=7").get_data(as_text=True)
    assert tile_value(html, "views") == f"{views:,}" and "page_media_view" in tile(html, "views")
    assert tile_value(html, "followers") == f"{followers:,}"
    assert tile_value(html, "posts_published") == f"{posts:,}"
