"""Analytics → CSV downloads: a stream's or topic's stories with their figures and its
metric history, for a range of days; streamed in keyset batches, UTF-8 with a BOM, ISO
times, formulas neutralised, empty (never 0) for a figure not provided, account-scoped."""
import csv
import datetime
import io
from urllib.parse import unquote

import pytest

from webapp import csvexport
from webapp.accounts import create_account
from webapp.models import Figure, FigureDay, Story, Stream, Topic

from factories import new_stream

DAY = datetime.date(2026, 11, 10)


@pytest.fixture
def data(topic):
    """A topic of two streams: stories over three days (one outside the range asked
    for, one with a formula for a text), their count figures and a few roll-up days."""
    fb = new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True)
    x = new_stream(topic, service="twitter", page_id="2", name="Bluebird on X", authorized=True)
    at = datetime.datetime.combine(DAY, datetime.time(9, 30))
    Story.create(stream=fb, external_id="1_1", created_at=at, text="=HYPERLINK(\"http://evil\")",
                 author_name="@mallory", url="https://facebook.test/1_1", views=120, engagements=7)
    Story.create(stream=x, external_id="77", created_at=at + datetime.timedelta(hours=2), text="Grand opening ☕",
                 author_name="Bluebird", url="javascript:alert(1)", views=None, engagements=None)
    Story.create(stream=fb, external_id="1_0", created_at=at - datetime.timedelta(days=5), text="too old")
    for name, value in (("reactions", 4), ("comments", 2), ("shares", 1), ("impressions", 120)):
        Figure.create(stream=fb, level="post", object_id="1_1", name=name, value=value)
    Figure.create(stream=x, level="post", object_id="77", name="likes", value=None, note="not provided by X")
    FigureDay.create(stream=fb, name="impressions", day=DAY, value=0, provider_metric="page_media_view",
                     api_version="v25.0", replaces="page_impressions")
    FigureDay.create(stream=fb, name="followers", day=DAY, value=1500, provider_metric="followers_count")
    FigureDay.create(stream=x, name="impressions", day=DAY, value=None, note="not provided by X")
    FigureDay.create(stream=x, name="followers", day=DAY - datetime.timedelta(days=30), value=10)
    return fb, x


def read(answer):
    """The CSV's rows as dicts, checking it is UTF-8 with a byte order mark."""
    body = answer.get_data()
    assert body.startswith("\ufeff".encode()), body[:20]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


RANGE = "from=2026-11-09&to=2026-11-11"


def test_topic_stories_csv(member_client, data, topic):
    answer = member_client.get(f"/analytics/topics/{topic.id}/stories.csv?{RANGE}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv" and answer.is_streamed
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="streamdesk-brand-stories-2026-11-09_2026-11-11.csv"')
    rows = read(answer)
    assert [r["story_id"] for r in rows] == ["77", "1_1"]  # newest first; the old one is outside the range
    x, fb = rows
    assert fb["time"] == "2026-11-10T09:30:00Z" and x["time"] == "2026-11-10T11:30:00Z"
    assert fb["text"] == "'=HYPERLINK(\"http://evil\")" and fb["author"] == "'@mallory"
    assert (fb["stream"], fb["service"], fb["url"]) == ("Bluebird Coffee", "facebook", "https://facebook.test/1_1")
    assert (fb["views"], fb["engagements"], fb["reactions"], fb["comments"], fb["shares"]) == ("120", "7", "4", "2", "1")
    assert fb["likes"] == "" and fb["reposts"] == ""
    assert x["text"] == "Grand opening ☕" and x["url"] == ""  # a javascript: link is not a link
    assert x["views"] == x["engagements"] == x["likes"] == ""  # not provided: empty, never 0


def test_stream_history_csv(admin_client, data):
    fb, x = data
    rows = read(admin_client.get(f"/analytics/streams/{x.id}/history.csv?{RANGE}"))
    assert rows == [{"day": "2026-11-10", "stream": "Bluebird on X", "service": "twitter", "figure": "impressions",
                     "value": "", "provider_metric": "", "api_version": "", "replaces": "",
                     "note": "not provided by X"}]
    rows = read(admin_client.get(f"/analytics/streams/{fb.id}/history.csv?{RANGE}"))
    assert [(r["figure"], r["value"]) for r in rows] == [("followers", "1500"), ("impressions", "0")]
    assert rows[1]["provider_metric"] == "page_media_view" and rows[1]["replaces"] == "page_impressions"
    assert rows[1]["api_version"] == "v25.0"


def test_topic_history_covers_every_stream_and_only_the_range(member_client, data, topic):
    fb, x = data
    answer = member_client.get(f"/analytics/topics/{topic.id}/history.csv?from=2026-10-01&to=2026-11-10")
    rows = read(answer)
    ours = (FigureDay.select().join(Stream).where(FigureDay.day.between(datetime.date(2026, 10, 1), DAY))
            .order_by(FigureDay.stream, FigureDay.name, FigureDay.day))
    assert [(r["stream"], r["figure"], r["day"]) for r in rows] == [
        (d.stream.name, d.name, d.day.isoformat()) for d in ours]
    assert len(rows) == 4


def test_the_dashboards_range_is_the_exports_range(member_client, data, topic, today):
    answer = member_client.get(f"/analytics/topics/{topic.id}/history.csv?range=7")
    start = today - datetime.timedelta(days=6)
    assert f"history-{start.isoformat()}_{today.isoformat()}.csv" in answer.headers["Content-Disposition"]


def test_the_range_defaults_to_the_last_28_days(member_client, data, topic, today):
    answer = member_client.get(f"/analytics/topics/{topic.id}/stories.csv")
    start = today - datetime.timedelta(days=27)
    assert f"stories-{start.isoformat()}_{today.isoformat()}.csv" in answer.headers["Content-Disposition"]
    inside = Story.select().where(Story.created_at >= datetime.datetime.combine(start, datetime.time()))
    assert sorted(r["story_id"] for r in read(answer)) == sorted(s.external_id for s in inside)


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01&to=2026-11-01", "“2026-13-01” is not a date for “From”: use YYYY-MM-DD"),
    ("from=2026-11-20&to=2026-11-01", "“From” is after “To”: swap the dates."),
    ("from=2026-11-01&to=<b>soon</b>", "“&lt;b&gt;soon&lt;/b&gt;” is not a date for “To”"),
    ("from=1999-12-31&to=2000-01-05", "“From” is before 2000-01-01"),
    ("from=2026-11-01", "A custom range needs both “From” and “To” dates."),
    ("range=12", "“12” is not a range"),
])
def test_a_bad_range_is_explained_on_the_page(member_client, data, topic, query, message):
    answer = member_client.get(f"/analytics/topics/{topic.id}/history.csv?{query}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert message in page and 'role="alert"' in page
    assert f'action="/analytics/topics/{topic.id}/stories.csv"' in page  # the form to try again


def test_another_accounts_stream_or_topic_is_not_found(member_client, data):
    rival = create_account("Rivals")
    theirs = Topic.create(account=rival, name="Theirs")
    stream = new_stream(theirs, service="facebook", page_id="9", name="Rival Roasters")
    Story.create(stream=stream, external_id="9_1", created_at=datetime.datetime(2026, 11, 10), text="secret")
    for path in (f"/analytics/streams/{stream.id}/stories.csv", f"/analytics/streams/{stream.id}/history.csv",
                 f"/analytics/topics/{theirs.id}/stories.csv", f"/analytics/topics/{theirs.id}/history.csv",
                 f"/analytics/streams/{stream.id}/csv", f"/analytics/topics/{theirs.id}/csv"):
        answer = member_client.get(f"{path}?{RANGE}")
        assert answer.status_code == 404 and "secret" not in answer.get_data(as_text=True), path


def test_logged_out_people_are_sent_to_log_in(client, data, topic):
    answer = client.get(f"/analytics/topics/{topic.id}/stories.csv")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_topic_name_is_safe_in_the_file_name(member_client, data, topic):
    topic.name = 'Café "Brand"\r\nX-Evil: 1'
    topic.save()
    disposition = member_client.get(f"/analytics/topics/{topic.id}/stories.csv?{RANGE}").headers["Content-Disposition"]
    assert "\n" not in disposition and "X-Evil: 1" not in disposition
    assert 'filename="streamdesk-cafe-brand-x-evil-1-stories-2026-11-09_2026-11-11.csv"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == \
        "streamdesk-café-brand-x-evil-1-stories-2026-11-09_2026-11-11.csv"


def test_stories_are_read_in_keyset_batches(member_client, data, topic, monkeypatch, caplog):
    from webapp import exports

    fb, _ = data
    for n in range(8):
        Story.create(stream=fb, external_id=f"1_{100 + n}", created_at=datetime.datetime(2026, 11, 11, 8, n),
                     text=f"story {n}")
    monkeypatch.setattr(exports, "BATCH", 3)
    with caplog.at_level("DEBUG", logger="peewee"):
        answer = member_client.get(f"/analytics/topics/{topic.id}/stories.csv?{RANGE}")
        chunks = list(answer.response)  # the generator, read as the server would send it
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    ours = (Story.select().where(Story.created_at.between(datetime.datetime(2026, 11, 9), datetime.datetime(2026, 11, 12)))
            .order_by(Story.created_at.desc(), Story.id.desc()))
    assert [r["story_id"] for r in rows] == [s.external_id for s in ours] and len(rows) == 10
    assert len(chunks) == 4  # 3 + 3 + 3 + 1 rows; the header rides with the first
    reads = [r.getMessage() for r in caplog.records if 'FROM "story"' in r.getMessage()]
    assert len(reads) == 4 and all("LIMIT" in q for q in reads) and not any("OFFSET" in q for q in reads), reads
    figures = [r.getMessage() for r in caplog.records if 'FROM "figure"' in r.getMessage()]
    assert len(figures) == 4  # one figures query per batch, not per story


def test_history_is_read_in_keyset_batches(member_client, data, topic, monkeypatch, caplog):
    from webapp import exports

    fb, _ = data
    for n in range(1, 8):
        FigureDay.create(stream=fb, name="reach", day=DAY - datetime.timedelta(days=n), value=n)
    monkeypatch.setattr(exports, "BATCH", 2)
    with caplog.at_level("DEBUG", logger="peewee"):
        answer = member_client.get(f"/analytics/topics/{topic.id}/history.csv?from=2026-10-01&to=2026-11-30")
        chunks = list(answer.response)
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == FigureDay.select().count() == 11
    assert [r["day"] for r in rows if r["figure"] == "reach"] == sorted(
        (DAY - datetime.timedelta(days=n)).isoformat() for n in range(1, 8))
    reads = [r.getMessage() for r in caplog.records if 'FROM "figure_day"' in r.getMessage()]
    assert len(reads) == 6 and not any("OFFSET" in q for q in reads), reads  # 5 full batches and an empty one


def test_the_download_partial_links_both_files(app, data, topic):
    from flask import render_template

    from webapp.analytics import DateRange
    from webapp.views.exports import topic_links

    with app.test_request_context():
        html = render_template("analytics/_export.html", links=topic_links(topic.id),
                               date_range=DateRange(datetime.date(2026, 11, 1), datetime.date(2026, 11, 28)))
        typed = render_template("analytics/_export.html", links=topic_links(topic.id), values={"from": "2026-11-03"})
    assert f'action="/analytics/topics/{topic.id}/stories.csv"' in html
    assert f'formaction="/analytics/topics/{topic.id}/history.csv"' in html
    assert 'value="2026-11-01"' in html and 'value="2026-11-28"' in html and "<label>From" in html
    assert 'value="2026-11-03"' in typed


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_cell_a_spreadsheet_would_run_as_a_formula_is_text(text):
    assert csvexport.cell(text) == "'" + text


def test_numbers_empty_cells_and_times_stay_values():
    assert csvexport.cell(-5) == -5 and csvexport.cell(None) is None and csvexport.cell("") == ""
    assert csvexport.cell("a=b") == "a=b"  # only a leading sign makes a formula
    assert csvexport.cell(datetime.datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00Z"
    assert csvexport.cell(datetime.date(2026, 3, 1)) == "2026-03-01"
