"""The app shell in a real browser: navigation, htmx swaps with CSRF, expired sessions."""
import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_profile_icon_opens_personal_settings(page, live_url, admin):
    log_in(page, live_url, admin.email, PASSWORD)
    expect(page.get_by_role("heading", name="Topics")).to_be_visible()
    expect(page.get_by_text("Sandbox mode")).to_be_visible()
    page.get_by_label("Profile menu for admin@acme.test").click()
    page.get_by_role("link", name="Personal settings").click()
    expect(page.get_by_role("heading", name="Personal settings")).to_be_visible()
    page.get_by_role("link", name="Connected profiles").first.click()
    expect(page.locator('[data-service="facebook"]')).to_contain_text("Facebook")
    expect(page.locator('[data-service="twitter"]')).to_contain_text("X (Twitter)")


def test_adding_a_user_swaps_the_list_in_place(page, live_url, admin, member):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_url, admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account settings").click()
    page.get_by_role("navigation", name="Account settings").get_by_role("link", name="Users").click()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("E-mail").fill("member@acme.test")
    page.get_by_label("Initial password").fill("a fine password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_have_text("A user with the e-mail member@acme.test already exists.")
    page.get_by_label("E-mail").fill("new@acme.test")
    page.get_by_label("Initial password").fill("a fine password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_have_text("new@acme.test has been added as member.")
    expect(page.get_by_role("cell", name="new@acme.test", exact=True)).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # swapped by htmx, not reloaded
    # htmx logs the refused (400) request; nothing else may fail: no CSP refusal, no script error.
    assert [e for e in errors if "status of 400" not in e and "Response Status Error Code 400" not in e] == []


def test_htmx_request_after_the_session_expired_lands_on_login(page, live_url, admin, member):
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/account/users")
    page.context.clear_cookies()
    page.get_by_role("button", name="Change role").first.click()
    page.wait_for_url(f"{live_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("#users-section")).to_have_count(0)


def test_works_without_javascript(browser, live_url, admin, member):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_url, admin.email, PASSWORD)
        page.goto(f"{live_url}/account/users")
        page.get_by_label("E-mail").fill("plain@acme.test")
        page.get_by_label("Initial password").fill("a fine password")
        page.get_by_role("button", name="Add user").click()
        expect(page.get_by_text("plain@acme.test has been added as member.")).to_be_visible()
        page.get_by_label("Profile menu for admin@acme.test").click()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("You have been logged out.")).to_be_visible()
    finally:
        context.close()
