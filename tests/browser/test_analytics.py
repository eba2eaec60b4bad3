"""Analytics in Chromium: open a dashboard, change the range (htmx swaps the dashboard and
the URL keeps the range), rank top posts, compare with competitors, and see a figure the
service does not give as "not provided", never 0. Screenshots of the dashboards are
saved under test-artifacts/ (desktop, and the stream dashboard at 375 px)."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import ARTIFACTS, PHONE, assert_accessible, assert_fits, log_in
from test_analytics_views import seed

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_topic_dashboard_range_top_posts_and_competitors(page, live_url, admin, topic, axe_path):
    fb, x = seed(topic, days=120)
    log_in(page, live_url, admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").first.click()
    page.get_by_role("link", name=topic.name).first.click()
    expect(page.get_by_role("heading", level=1, name=topic.name)).to_be_visible()
    expect(page.locator(".range-caption")).to_contain_text("Last 28 days")
    expect(page.locator("svg.pygal-chart")).to_have_count(4)
    # The range: the form's request goes through htmx; the page stays, the URL keeps the range.
    page.evaluate("document.body.dataset.marker = 'same page'")
    page.locator("select[name=range]").select_option("90")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".range-caption")).to_contain_text("Last 90 days")
    assert "range=90" in page.url
    assert page.evaluate("document.body.dataset.marker") == "same page"
    expect(page.locator("figcaption", has_text="Posts published per week")).to_be_visible()
    # Reach of the X account: not provided, said so, never 0.
    reach = page.locator('[data-figure="reach"]')
    expect(reach).to_contain_text("not provided by X")
    # Top posts by views: Facebook's posts only (X gives no views of public posts).
    page.get_by_role("navigation", name="Rank top posts by").get_by_role("link", name="Views").click()
    expect(page.get_by_role("navigation", name="Rank top posts by").get_by_role("link", name="Views")) \
        .to_have_attribute("aria-current", "true")
    assert "by=views" in page.url and "range=90" in page.url
    assert_accessible(page, axe_path)
    shot(page, "analytics-topic.png")
    # Own vs competitors, same range.
    page.get_by_role("link", name="Own vs competitors").click()
    expect(page.locator("table.competitors")).to_contain_text("Bluebird Coffee")
    expect(page.locator(".range-caption")).to_contain_text("Last 90 days")
    competitors = page.locator("table.competitors tbody").nth(1)
    expect(competitors).to_contain_text("Rival <script>alert(1)</script> Roasters")  # shown as text
    assert_accessible(page, axe_path)
    shot(page, "analytics-competitors.png")
    # A top post opens the story.
    page.go_back()
    page.go_back()
    page.locator(".top-posts-table a").first.click()
    expect(page.locator(".story-text").first).to_be_visible()


def test_stream_dashboard_without_javascript_and_on_a_phone(browser, live_url, admin, topic, axe_path):
    fb, x = seed(topic, days=60)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_url, admin.email, PASSWORD)
        page.goto(f"{live_url}/analytics/streams/{x.id}")
        page.locator("select[name=range]").select_option("custom")
        page.locator("input[name=from]").fill("2026-01-01")
        page.locator("input[name=to]").fill("2025-12-01")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("alert")).to_contain_text("“From” is after “To”")
        page.locator("select[name=range]").select_option("7")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".range-caption")).to_contain_text("Last 7 days")
        expect(page.locator('[data-figure="reach"] .tile-value')).to_have_text("Not provided by X")
        expect(page.locator('[data-figure="views"]')).to_contain_text("from posts published in the range")
        chart = page.locator("figure.chart", has_text="Views (impressions) per day")
        chart.get_by_text("The numbers").click()
        expect(chart.locator("table")).to_be_visible()
        page.goto(f"{live_url}/analytics/streams/{fb.id}")
        shot(page, "analytics-stream.png")
    finally:
        context.close()
    phone = browser.new_context(viewport=PHONE)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_url, admin.email, PASSWORD)
        page.goto(f"{live_url}/analytics/streams/{fb.id}")
        expect(page.locator("svg.pygal-chart").first).to_be_visible()
        assert_fits(page)
        assert_accessible(page, axe_path)
        shot(page, "analytics-stream-phone.png")
        page.locator("figure.chart").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "analytics-stream-phone-chart.png"))  # one screenful, as seen
    finally:
        phone.close()
