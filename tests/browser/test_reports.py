"""Weekly reports in a real browser: an admin schedules a topic's report for a teammate
and an outside address, sends it at once, and the real SMTP server receives one e-mail
per recipient with the topic's figures; a bad address is explained on the page."""
from __future__ import annotations

import datetime

import pytest
from conftest import PASSWORD, mail_part
from playwright.sync_api import expect

from browser.conftest import log_in
from factories import figure_days, new_stream

pytestmark = pytest.mark.browser


@pytest.fixture
def environ(environ, smtp_server):
    """The app sends through the test's SMTP server."""
    return {**environ, "SMTP_URL": smtp_server.url}


def test_an_admin_schedules_and_sends_a_weekly_report(page, live_url, admin, member, topic, smtp_server):
    stream = new_stream(topic, service="facebook", page_id="1", name="Bluebird Coffee", authorized=True)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    figure_days(stream, "followers", today - datetime.timedelta(days=13), [5000 + n for n in range(14)])
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/account/topics/{topic.id}")
    page.get_by_role("link", name="Weekly reports").click()
    new = page.locator("form", has=page.get_by_role("heading", name="New weekly report"))
    new.get_by_label(member.email).check()
    new.get_by_label("Other e-mail addresses").fill("boss-at-elsewhere")
    new.get_by_role("button", name="Schedule the report").click()
    expect(page.get_by_role("alert")).to_contain_text("“boss-at-elsewhere” is not an e-mail address")
    new = page.locator("form", has=page.get_by_role("heading", name="New weekly report"))
    new.get_by_label("Other e-mail addresses").fill("boss@elsewhere.test")
    new.get_by_label("Every", exact=True).select_option(label="Monday")
    new.get_by_role("button", name="Schedule the report").click()
    report = page.locator("form.report-schedule")
    expect(report).to_contain_text("Next:")
    report.get_by_role("button", name="Send now").click()
    expect(page.locator("p[role=status]")).to_contain_text("sent to 2 addresses")
    assert sorted(r for m in smtp_server.messages for r in m.recipients) == sorted([member.email,
                                                                                  "boss@elsewhere.test"])
    text = mail_part(smtp_server.messages[0])
    assert topic.name in text and "5,012" in text  # the followers at the week's end (yesterday)
