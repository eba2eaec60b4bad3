"""Analytics exports in a real browser: pick a range, download both CSVs of a topic,
read them back; a bad range is explained on the page."""
from __future__ import annotations

import csv
import datetime
import io

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import log_in
from factories import new_stream
from webapp.models import Figure, FigureDay, Story

pytestmark = pytest.mark.browser
DAY = datetime.date(2026, 11, 10)


def downloaded(page, button: str):
    """Click ``button``; the file the browser saved, as its name and its CSV rows."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    download = info.value
    body = open(download.path(), "rb").read()
    assert body.startswith("\ufeff".encode())
    return download.suggested_filename, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_download_both_csvs_and_read_them_back(page, live_url, member, topic):
    fb = new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True)
    Story.create(stream=fb, external_id="1_1", created_at=datetime.datetime(2026, 11, 10, 9, 30),
                 text="=1+1 <b>bold</b>", url="https://facebook.test/1_1", views=50, engagements=3)
    Figure.create(stream=fb, level="post", object_id="1_1", name="reactions", value=3)
    FigureDay.create(stream=fb, name="reach", day=DAY, value=None, note="Facebook shares insights only with admins")
    FigureDay.create(stream=fb, name="followers", day=DAY, value=1500, provider_metric="followers_count")
    log_in(page, live_url, member.email, PASSWORD)
    page.goto(f"{live_url}/analytics/topics/{topic.id}/csv")
    page.get_by_label("From").fill("2026-11-13")
    page.get_by_label("To").fill("2026-11-01")
    page.get_by_role("button", name="Metric history").click()
    expect(page.get_by_role("alert")).to_have_text("“From” is after “To”: swap the dates.")
    page.get_by_label("From").fill("2026-11-01")
    page.get_by_label("To").fill("2026-11-28")
    name, stories = downloaded(page, "Stories with their figures")
    assert name == "streamdesk-brand-stories-2026-11-01_2026-11-28.csv"
    assert [(s["time"], s["text"], s["views"], s["reactions"], s["likes"]) for s in stories] == [
        ("2026-11-10T09:30:00Z", "'=1+1 <b>bold</b>", "50", "3", "")]
    name, history = downloaded(page, "Metric history")
    assert name == "streamdesk-brand-history-2026-11-01_2026-11-28.csv"
    assert [(h["day"], h["figure"], h["value"], h["note"]) for h in history] == [
        ("2026-11-10", "followers", "1500", ""), ("2026-11-10", "reach", "", "Facebook shares insights only with admins")]
