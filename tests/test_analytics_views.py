"""Analytics pages: dashboards, competitors and top posts as members and admins see them,
the range in the URL, htmx partials, charts without scripts, and other accounts' ids."""
import datetime
import re

import pytest
from conftest import login
from factories import figure_days, new_stream, story_at

from webapp.accounts import create_account
from webapp.analytics import DateRange
from webapp.models import Topic


def seed(topic, days: int = 60):
    """An authorized Facebook page and an unauthorized X account with ``days`` of history
    up to today; returns them."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    start = today - datetime.timedelta(days=days - 1)
    fb = new_stream(topic, service="facebook", page_id="104729384756102", name="Bluebird Coffee", authorized=True,
                    status="active")
    x = new_stream(topic, service="twitter", page_id="42", name="Rival <script>alert(1)</script> Roasters",
                   status="active")
    figure_days(fb, "impressions", start, [1000 + 7 * n for n in range(days)], "page_media_view", "v23.0",
                "page_impressions")
    figure_days(fb, "reach", start, [400 + n for n in range(days)], "page_total_media_view_unique", "v23.0",
                "page_impressions_unique")
    figure_days(fb, "followers", start, [5000 + 3 * n for n in range(days)], "page_follows", "v23.0")
    figure_days(x, "followers", start, [800 + n for n in range(days)], "public_metrics.followers_count", "2")
    figure_days(x, "impressions", start, [None] * days, note="not provided by X")
    figure_days(x, "reach", start, [None] * days, note="not provided by X")
    for stream in (fb, x):
        figure_days(stream, "posts_published", start, [n % 3 for n in range(days)])
        figure_days(stream, "post_engagements", start, [20 + n % 5 for n in range(days)])
    figure_days(x, "post_views", start, [300 + n for n in range(days)])
    for n in range(5):
        at = datetime.datetime.combine(today - datetime.timedelta(days=n + 1), datetime.time(9))
        story_at(fb, f"fb-{n}", at, views=100 * (n + 1), engagements=50 - n, text=f"Our post {n}")
        story_at(x, f"x-{n}", at, views=None, engagements=10 + n, text=f"Rival <b>post</b> {n}")
    return fb, x


@pytest.fixture
def seeded(topic):
    return seed(topic)


def test_stream_dashboard_shows_figures_changes_charts_and_top_posts(admin_client, topic, seeded):
    fb, _ = seeded
    response = admin_client.get(f"/analytics/streams/{fb.id}?range=7")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Last 7 days" in html and "page_media_view" in html and "replaces page_impressions" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="pygal-chart"') == 4
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    assert "style=" not in html
    assert 'role="img"' in html and "<title id=" in html and "The numbers" in html
    assert "Our post 0" in html and f"/topics/{topic.id}/stories/" in html
    assert "Comments received" in html and "Not provided by Facebook" in html  # no comment roll-up here


def test_a_dashboard_offers_its_range_as_csv_downloads(admin_client, topic, seeded):
    fb, _ = seeded
    for base in (f"/analytics/streams/{fb.id}", f"/analytics/topics/{topic.id}"):
        html = admin_client.get(f"{base}?range=7").get_data(as_text=True)
        for name in ("stories", "history"):
            assert f'href="{base}/{name}.csv?range=7" download' in html
        response = admin_client.get(f"{base}/history.csv?range=7")
        assert response.status_code == 200 and response.get_data(as_text=True).count("\n") > 7


def test_a_missing_figure_is_not_provided_never_zero(admin_client, seeded):
    _, x = seeded
    html = admin_client.get(f"/analytics/streams/{x.id}").get_data(as_text=True)
    reach = re.search(r'data-figure="reach">(.*?)</article>', html, re.S).group(1)
    assert "Not provided by X" in reach and ">0<" not in reach
    assert "from posts published in the range" in html  # views of an X account: from its posts
    assert "Rival &lt;script&gt;alert(1)&lt;/script&gt; Roasters" in html and "<script>alert(1)" not in html


def test_topic_dashboard_names_streams_in_escaped_legends(admin_client, topic, seeded):
    html = admin_client.get(f"/analytics/topics/{topic.id}?range=90").get_data(as_text=True)
    assert "Last 90 days" in html and "per week" in html
    assert "Rival &lt;script&gt;alert(1)&lt;/script&gt; Roasters" in html and "<script>alert" not in html
    assert "Rival &lt;b&gt;post&lt;/b&gt; 0" in html


def test_a_topic_of_many_streams_charts_the_largest_and_adds_up_the_others(admin_client, topic, seeded, today):
    start = today - datetime.timedelta(days=6)
    for n in range(10):  # ten more pages: twelve streams in all, eight series a chart
        page = new_stream(topic, service="facebook", page_id=f"9{n}", name=f"Small page {n}", status="active")
        figure_days(page, "followers", start, [n] * 7)
    html = admin_client.get(f"/analytics/topics/{topic.id}?range=7").get_data(as_text=True)
    followers = html[html.index("Followers at the end of each day"):]
    followers = followers[:followers.index("</table>")]
    # The two largest by name, the next five small pages, then the five smallest added up.
    assert "Bluebird Coffee" in followers and "Rival &lt;script&gt;" in followers
    assert all(f"Small page {n}" in followers for n in range(5, 10))
    assert not any(f"Small page {n}<" in followers for n in range(5)) and "5 other streams" in followers
    assert "10" in re.findall(r"<td[^>]*>([^<]*)</td>", followers)  # 0+1+2+3+4 on each day


def test_the_range_is_in_the_url_and_htmx_gets_the_dashboard_only(admin_client, topic, seeded):
    fb, _ = seeded
    start = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=13)).isoformat()
    end = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=7)).isoformat()
    response = admin_client.get(f"/analytics/streams/{fb.id}?range=custom&from={start}&to={end}",
                                headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith("<section id=\"dashboard\"")
    assert f"{start} – {end}" in html and "<h1" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_top_posts_rank_by_views_too(admin_client, topic, seeded):
    fb, x = seeded
    html = admin_client.get(f"/analytics/topics/{topic.id}?range=7&by=views").get_data(as_text=True)
    table = html.split('class="reflow top-posts-table"', 1)[1]
    assert table.index("Our post 4") < table.index("Our post 0")  # 500 views before 100
    assert "Rival &lt;b&gt;post" not in table  # X gives no views: not ranked by views
    html = admin_client.get(f"/analytics/topics/{topic.id}?range=7").get_data(as_text=True)
    table = html.split('class="reflow top-posts-table"', 1)[1]
    assert table.index("Our post 0") < table.index("Rival &lt;b&gt;post&lt;/b&gt; 4")


@pytest.mark.parametrize("query, message", [
    ("range=14", "is not a range"),
    ("range=custom&from=2026-02-01", "needs both"),
    ("range=custom&from=nope&to=2026-01-01", "is not a date"),
    ("by=likes", "ranked by engagements or views"),
])
def test_bad_ranges_are_explained(admin_client, topic, seeded, query, message):
    for path in (f"/analytics/topics/{topic.id}", f"/analytics/streams/{seeded[0].id}",
                 f"/analytics/topics/{topic.id}/competitors"):
        response = admin_client.get(f"{path}?{query}")
        if "by=" in query and "competitors" in path:
            continue  # the competitor report has no top posts
        assert response.status_code == 400 and message in response.get_data(as_text=True), path


def test_competitors_put_own_streams_beside_the_others(admin_client, topic, seeded):
    response = admin_client.get(f"/analytics/topics/{topic.id}/competitors?range=28")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    yours, competitors = html.split(">Yours<", 1)[1].split(">Competitors<", 1)
    assert "Bluebird Coffee" in yours and "Rival &lt;script&gt;" in competitors
    assert "5,177" in yours  # the last follower count: 5000 + 3 × 59
    assert "+84" in yours and "+28" in competitors  # net growth over 28 days: 3 × 28 and 28
    charts = html.split('<div class="charts"', 1)[1]
    assert charts.count('class="pygal-chart"') == 2 and "Audience growth" in charts
    assert "Rival &lt;script&gt;" in charts and "<script>" not in charts  # names in the chart stay text


def test_members_see_analytics_and_metrics_moved_here(client, member, topic, seeded):
    login(client, member.email)
    response = client.get("/metrics")
    assert response.status_code == 301 and response.headers["Location"].endswith("/analytics")
    html = client.get("/analytics").get_data(as_text=True)
    assert "Bluebird Coffee" in html and f"/analytics/topics/{topic.id}" in html
    assert client.get(f"/analytics/topics/{topic.id}").status_code == 200
    assert client.get("/analytics/charts.css").mimetype == "text/css"


def test_other_accounts_topics_and_streams_are_404(admin_client, seeded, today):
    other = Topic.create(account=create_account("Rival"), name="Their topic")
    theirs = new_stream(other, service="facebook", page_id="1", name="Their secret page")
    figure_days(theirs, "followers", today, [987654])
    for path in (f"/analytics/topics/{other.id}", f"/analytics/topics/{other.id}/competitors",
                 f"/analytics/streams/{theirs.id}"):
        response = admin_client.get(path)
        assert response.status_code == 404, path
        assert "987,654" not in response.get_data(as_text=True)
        assert admin_client.post(path).status_code in (400, 404, 405)  # no POST route reveals anything
    html = admin_client.get("/analytics").get_data(as_text=True)
    assert "Their secret page" not in html and "Their topic" not in html


def test_range_args_round_trip():
    r = DateRange.parse({"range": "custom", "from": "2026-01-01", "to": "2026-01-05"},
                        today=datetime.date(2026, 2, 1))
    assert r.args() == {"range": "custom", "from": "2026-01-01", "to": "2026-01-05"}
