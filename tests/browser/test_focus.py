"""After an htmx swap, focus lands on its result's message (or first heading), status
changes are live regions, and a poll refreshing part of the page never steals focus."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import assert_accessible, log_in
from webapp.models import Topic

pytestmark = pytest.mark.browser


def focused(page) -> str:
    """The focused element, as a short description (for readable failures)."""
    return page.evaluate("""() => { const e = document.activeElement;
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + e.textContent.trim().slice(0, 60); }""")


def test_adding_a_user_focuses_the_error_then_the_confirmation(page, live_url, admin, member, axe_path):
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/account/users")
    page.get_by_label("E-mail").fill(member.email)
    page.get_by_label("Initial password").fill("a fine password")
    page.get_by_role("button", name="Add user").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(f"A user with the e-mail {member.email} already exists.")
    expect(alert).to_be_focused()
    expect(alert).to_have_attribute("aria-live", "assertive")
    assert_accessible(page, axe_path)  # the page with its error swapped in
    page.get_by_label("E-mail").fill("new@acme.test")
    page.get_by_label("Initial password").fill("a fine password")
    page.get_by_role("button", name="Add user").click()
    status = page.get_by_role("status").filter(has_text="has been added")
    expect(status).to_be_focused()
    expect(status).to_have_attribute("aria-live", "polite")
    # Focus on a message is for reading it, not another Tab stop.
    assert status.get_attribute("tabindex") == "-1", focused(page)


def test_creating_a_topic_focuses_the_error_or_the_new_topic_s_notice(page, live_url, admin, account, axe_path):
    Topic.create(account=account, name="Brand")
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/account/topics/")
    page.get_by_label("New topic").fill("Brand")
    page.get_by_role("button", name="Create topic").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("A topic named “Brand” already exists.")
    expect(alert).to_be_focused()
    # The field names its error, and the error exists under that id.
    expect(page.get_by_label("New topic")).to_have_attribute("aria-describedby", "topic-error")
    expect(page.locator("#topic-error")).to_have_text("A topic named “Brand” already exists.")
    assert_accessible(page, axe_path)
    # Success opens the topic (a redirect): the page starts at the flashed result.
    page.get_by_label("New topic").fill("Competitors")
    page.get_by_role("button", name="Create topic").click()
    notice = page.get_by_role("status").filter(has_text="created")
    expect(notice).to_have_text("Topic “Competitors” created. Add its first stream below.")
    expect(notice).to_be_focused()


def test_opening_an_add_panel_focuses_its_heading(page, live_url, admin, account):
    topic = Topic.create(account=account, name="Brand")
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/account/topics/{topic.id}")
    page.get_by_role("button", name="Add a public Facebook page").click()
    expect(page.get_by_role("heading", name="Add a public Facebook page")).to_be_focused()


def test_a_poll_does_not_steal_focus(page, live_url, admin):
    """The status section refreshes itself every 10 s and brings a heading: still, focus stays."""
    log_in(page, live_url, admin.email, PASSWORD)
    page.clock.install()  # fast-forward to the poll instead of waiting 10 s
    page.goto(f"{live_url}/account/status")
    link = page.get_by_role("navigation", name="Account settings").get_by_role("link", name="Outbox")
    link.focus()
    with page.expect_response(lambda r: r.url.endswith("/account/status") and r.request.headers.get("hx-request")):
        page.clock.run_for(11_000)
    page.clock.run_for(1_000)  # the swap settles, and anything it scheduled runs
    expect(page.locator("#status-section h2")).to_have_text("Status")
    expect(link).to_be_focused()


def test_the_login_field_keeps_its_autofocus_after_logging_out(page, live_url, admin):
    log_in(page, live_url, admin.email, PASSWORD)
    page.get_by_label("Profile menu for admin@acme.test").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status").filter(has_text="logged out")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_be_focused()
