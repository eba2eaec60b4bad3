"""Streamdesk on a phone (375 px wide): the navigation folds into a Menu that works with
the keyboard, and wide tables scroll inside their own box instead of the page."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import DESKTOP, PHONE, assert_accessible, assert_fits, log_in
from browser.test_accessibility import data  # noqa: F401  (the lived-in account)

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser):
    """A page in a 375 px wide window."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def tab_to(page, name: str, limit: int = 15) -> None:
    """Press Tab until the focused element's text is ``name``: reachable by keyboard alone."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} not reached with {limit} presses of Tab")


def test_navigation_folds_into_a_menu_used_by_keyboard(phone, live_url, admin, data, axe_path):  # noqa: F811
    page = phone
    log_in(page, live_url, admin.email, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_be_hidden()
    menu = nav.locator("summary", has_text="Menu")
    expect(menu).to_be_visible()
    assert_fits(page)
    tab_to(page, "Menu")
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    assert_fits(page)  # the open menu stays on screen too
    assert_accessible(page, axe_path)
    tab_to(page, "Inbox", limit=4)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/inbox")
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    page.get_by_label("Profile menu for admin@acme.test").click()
    expect(page.get_by_role("link", name="Personal settings")).to_be_visible()
    assert_fits(page)  # the profile menu, open, stays on screen as well
    page.get_by_label("Profile menu for admin@acme.test").click()  # (Pico: a click closes it first)
    # Every link of the row is in the menu, Account settings included.
    page.get_by_text("Menu").click()
    nav.get_by_role("link", name="Account settings").click()
    expect(page.get_by_role("heading", level=1, name="Account settings")).to_be_visible()


def test_wide_navigation_has_no_menu(page, live_url, admin):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_url, admin.email, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator("summary", has_text="Menu")).to_be_hidden()
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()


def test_tables_reflow_so_every_control_is_on_screen(phone, live_url, admin, member, data):  # noqa: F811
    """Rows with buttons stack on a phone: no Remove or Change role hides off to the side
    (a table that only scrolled inside its box would leave them out of sight)."""
    page = phone
    log_in(page, live_url, admin.email, PASSWORD)
    for path in ["/account/users", "/account/topics/", f"/account/topics/{data['topic'].id}"]:
        page.goto(live_url + path)
        controls = page.locator("table :is(button, select, a)")
        assert controls.count() > 0, path
        for i in range(controls.count()):
            box = controls.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], \
                f"{path}: {controls.nth(i).evaluate('e => e.outerHTML.slice(0, 120)')} at {box}"
        assert_fits(page)


def test_story_view_figures_scroll_inside_their_box(phone, live_url, admin, data):  # noqa: F811
    """A story's Figures table, with a long provider metric name, stays inside a 375 px
    page: the table scrolls in its own keyboard-focusable region."""
    from webapp.models import Figure

    story = data["story"]
    Figure.create(stream=data["stream"], level="post", object_id=story.external_id, name="reach", value=None,
                  provider_metric="post_total_media_view_unique", note="Facebook shares insights only with the "
                  "page's own admins (authorized streams).")
    page = phone
    log_in(page, live_url, admin.email, PASSWORD)
    page.goto(f"{live_url}/topics/{data['topic'].id}/stories/{story.id}")
    region = page.locator("div.table-scroll[role=region]")
    expect(region).to_be_visible()
    expect(region.get_by_text("post_total_media_view_unique")).to_be_attached()
    assert_fits(page)
