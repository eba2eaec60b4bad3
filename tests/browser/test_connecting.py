"""The seed's flow in a real browser against the whole stack (`streamdesk run`: web server,
worker, embedded Valkey, sandbox emulators): connecting monitored profiles."""
from __future__ import annotations

import itertools
import os
import re

import pytest
import requests
from conftest import PASSWORD, reset_postgres
from playwright.sync_api import expect
from stack import Run

from browser.conftest import DESKTOP, PHONE, assert_accessible, assert_fits, log_in
from webapp.accounts import create_account, create_user
from webapp.db import open_database

pytestmark = pytest.mark.browser
CONSENT = {"facebook": "Continue", "twitter": "Authorize app"}
LABEL = {"facebook": "Facebook", "twitter": "X (Twitter)"}
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One running stack for the module; tests reset the emulators and use their own users."""
    home = tmp_path_factory.mktemp("stack")
    environ = {"STREAMDESK_INSTANCE": str(home / "instance")}
    if os.environ.get("TEST_DATABASE_URL"):
        reset_postgres(os.environ["TEST_DATABASE_URL"])
        environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    run = Run(environ, home, ADMIN_EMAIL="first@stack.test", ADMIN_PASSWORD=PASSWORD)
    try:
        run.wait_for("Streamdesk is running on")
        run.emulators = {m.group(1): m.group(2) for m in
                         (re.search(r"Sandbox: (\w+) emulator on (\S+)", line) for line in run.output) if m}
        assert set(run.emulators) == {"facebook", "twitter"}, run.output
        run.database_url = environ.get("DATABASE_URL", f"sqlite:///{home / 'instance' / 'streamdesk.db'}")
        yield run
    finally:
        run.interrupt()
        print(run.log())


@pytest.fixture
def admin_page(stack, page):
    """A fresh admin (in a fresh account) logged in, with the emulators at their seed."""
    for url in stack.emulators.values():
        requests.post(f"{url}/_control/reset", timeout=10).raise_for_status()
    db = open_database(stack.database_url)
    n = next(_counter)
    with db.connection_context():
        user = create_user(create_account(f"Team {n}"), f"admin{n}@team.test", PASSWORD, role="admin")
    log_in(page, stack.url, user.email, PASSWORD)
    page.base = stack.url
    return page


def connect(page, service: str, button: str | None = None, untick=()):
    """Profile icon → Personal settings → Connected profiles → service → popup → button."""
    page.get_by_label(re.compile("Profile menu for")).click()
    page.get_by_role("link", name="Personal settings").click()
    page.get_by_role("navigation", name="Personal settings").get_by_role("link", name="Connected profiles").click()
    # The button works without JavaScript too (a plain link): under load Chromium could
    # click it before the deferred popup.js ran, and the consent page opened in place.
    page.wait_for_load_state("load")
    with page.expect_popup() as info:
        page.get_by_role("button", name=f"Connect {LABEL[service]}").click()
    popup = info.value
    for permission in untick:
        popup.get_by_label(permission).uncheck()
    with popup.expect_event("close"):
        popup.get_by_role("button", name=button or CONSENT[service]).click()
    page.wait_for_load_state()


def open_topic(page, name: str):
    """Account settings → Topics → create the topic (it opens)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account settings").click()
    page.get_by_role("navigation", name="Account settings").get_by_role("link", name="Topics").click()
    page.get_by_label("New topic").fill(name)
    page.get_by_role("button", name="Create topic").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    # The heading shows before the deferred scripts ran: on a busy machine a click that came
    # before htmx started would follow the Add link as a plain link.
    page.wait_for_load_state()


def add_button(page, service: str, kind: str):
    what = f"Add one of your {LABEL[service]} pages" if kind == "owned" else f"Add a public {LABEL[service]} page"
    return page.get_by_role("button", name=what)


def expect_active(page, page_id: str, stack):
    """The stream's status swaps in place (htmx polling) until the real worker is done."""
    status = page.locator(f'#streams-list tr[data-stream="{page_id}"] [data-status]')
    try:
        expect(status).to_have_attribute("data-status", "active", timeout=60_000)
    except AssertionError:
        print(stack.log())
        raise


@pytest.mark.parametrize("service, page_id, name", [
    ("facebook", "104729384756102", "Bluebird Coffee"),
    ("twitter", None, "acmecoffee"),
])
def test_authorized_stream(admin_page, stack, service, page_id, name):
    page = admin_page
    connect(page, service)
    item = page.locator(f'[data-service="{service}"]')
    expect(item).to_contain_text(re.compile("Healthy|Renews automatically|Expires in"))
    expect(item).to_contain_text("Permissions granted:")
    open_topic(page, f"Our {service} pages")
    add_button(page, service, "owned").click()
    row = page.locator("#owned-panel li.page").filter(has_text=name)
    row.get_by_role("button", name=re.compile("^Add")).click()
    expect(row.get_by_text("Added")).to_be_visible()
    stream = page.locator("#streams-list tr").filter(has_text=name)
    expect(stream.get_by_text("Authorized", exact=True)).to_be_visible()
    page_id = page_id or stream.get_attribute("data-stream")
    expect_active(page, page_id, stack)


@pytest.mark.parametrize("service, query, name, tracks", [
    ("facebook", "https://m.facebook.com/acmeoutdoor/?ref=bookmarks#top", "Acme Outdoor Gear",
     "Only updates to the 100 most recent posts can be tracked."),
    ("twitter", "@rivalroasters", "rivalroasters", "Only new posts are tracked, from the account's 100 most recent"),
])
def test_unauthorized_stream(admin_page, stack, service, query, name, tracks):
    page = admin_page
    open_topic(page, f"Competitors on {service}")
    add_button(page, service, "public").click()
    page.get_by_role("searchbox").fill(query)
    page.get_by_role("button", name="Search").click()
    row = page.locator("#public-panel li.page").filter(has_text=name).first
    row.get_by_role("button", name=re.compile("^Add")).click()
    expect(row.get_by_text("Added")).to_be_visible()
    stream = page.locator("#streams-list tr").filter(has_text=name)
    expect(stream.get_by_text("Unauthorized", exact=True)).to_be_visible()
    expect(stream).to_contain_text(tracks)  # what the service's plugin declares
    expect_active(page, stream.get_attribute("data-stream"), stack)
    # The same page again: the search shows it as added, and the topics page lists it.
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#public-panel li.page").filter(has_text=name).first.get_by_text("Added")).to_be_visible()
    page.get_by_role("link", name="Topics").first.click()
    expect(page.locator(".topic-card").filter(has_text=f"Competitors on {service}")).to_contain_text("active")


def test_consent_cancelled(admin_page):
    connect(admin_page, "facebook", button="Cancel")
    expect(admin_page.get_by_role("alert")).to_have_text("You cancelled the connection, so nothing was linked.")
    expect(admin_page.locator('[data-service="facebook"]')).to_contain_text("Not connected")


def test_permissions_declined(admin_page):
    page = admin_page
    connect(page, "facebook", untick=["pages_read_engagement"])
    item = page.locator('[data-service="facebook"]')
    expect(item).to_contain_text("Declined: pages_read_engagement")
    open_topic(page, "Declined")
    add_button(page, "facebook", "owned").click()
    row = page.locator("#owned-panel li.page").filter(has_text="Bluebird Coffee")
    expect(row).to_contain_text("pages_read_engagement")
    expect(row.get_by_role("button", name=re.compile("cannot be added"))).to_be_disabled()


def test_not_an_admin(admin_page):
    page = admin_page
    connect(page, "facebook")
    open_topic(page, "Partners")
    add_button(page, "facebook", "owned").click()
    row = page.locator("#owned-panel li.page").filter(has_text="Riverside Bikes")
    expect(row).to_contain_text("Not an Admin")
    expect(row.locator(".reason")).to_contain_text("Admin")  # what to do about it
    expect(row.get_by_role("button", name="Add Riverside Bikes (cannot be added)")).to_be_disabled()


def test_no_profile_links_to_personal_settings(admin_page):
    page = admin_page
    open_topic(page, "Nobody linked")
    add_button(page, "twitter", "owned").click()
    expect(page.locator("#owned-panel")).to_contain_text("You have no connected X (Twitter) profile yet.")
    page.locator("#owned-panel").get_by_role("link", name="Personal settings → Connected profiles").click()
    expect(page.get_by_role("heading", name="Connected profiles")).to_be_visible()


@pytest.mark.parametrize("service, query, message", [
    ("facebook", "javascript:alert(1)", "can name a Facebook page"),
    ("facebook", "@nosuchpage12345", "No Facebook page matches"),
    ("twitter", "https://example.com/someone", "is not an X profile"),
])
def test_bad_searches(admin_page, service, query, message):
    page = admin_page
    open_topic(page, f"Searching {service}")
    add_button(page, service, "public").click()
    page.get_by_role("searchbox").fill(query)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#public-panel")).to_contain_text(message)
    expect(page.locator("#public-panel li.page")).to_have_count(0)


def test_works_without_javascript(browser, stack, admin_page):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        email = admin_page.evaluate("document.querySelector('[aria-label^=\"Profile menu\"]').title")
        log_in(page, stack.url, email, PASSWORD)
        page.goto(f"{stack.url}/account/topics/")
        page.get_by_label("New topic").fill("No script")
        page.get_by_role("button", name="Create topic").click()
        add_button(page, "facebook", "public").click()
        page.get_by_role("searchbox").fill("@globexcoffee")
        page.get_by_role("button", name="Search").click()
        page.locator("li.page").filter(has_text="Globex Coffee Company").get_by_role("button").click()
        expect(page.get_by_text("“Globex Coffee Company” added.")).to_be_visible()
        expect(page.locator("#streams-list")).to_contain_text("Globex Coffee Company")
    finally:
        context.close()


def test_expired_stream_red_banner_and_reconnect(admin_page, stack):
    """Reconnecting Streams: the token is revoked, the next crawl expires the stream, the
    Topics page shows the red banner, and its Reconnect button brings the stream back."""
    from webapp.crawl import enqueue_crawl
    from webapp.models import Stream, Topic, TopicStream
    from webapp.queue import connect as redis_connect

    page = admin_page
    connect(page, "twitter")
    open_topic(page, "Our X account")
    add_button(page, "twitter", "owned").click()
    page.locator("#owned-panel li.page").filter(has_text="acmecoffee").get_by_role("button", name=re.compile("^Add")).click()
    stream_row = page.locator("#streams-list tr").filter(has_text="acmecoffee")
    page_id = stream_row.get_attribute("data-stream")
    expect_active(page, page_id, stack)

    twitter = stack.emulators["twitter"]
    requests.post(f"{twitter}/_control/tokens/revoke", json={"user": page_id}, timeout=10).raise_for_status()
    valkey = re.search(r"Embedded Valkey server on (\S+)", "".join(stack.output)).group(1)
    with open_database(stack.database_url).connection_context():
        stream = Stream.select().join(TopicStream).join(Topic).where(Stream.page_id == page_id, Topic.name == "Our X account").get()
    assert enqueue_crawl(redis_connect(valkey), stream.id, stream.job_key)

    page.get_by_role("link", name="Topics").first.click()
    banner = page.get_by_role("alert").filter(has_text="expired")
    for _ in range(60):  # the worker crawls, meets the revoked token, expires the stream
        if banner.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    with open_database(stack.database_url).connection_context():
        state = Stream.get_by_id(stream.id)
        assert banner.count(), (state.status, state.status_message, stack.log()[-3000:])
    expect(banner).to_contain_text("1 stream expired and no longer crawls new data.")
    banner.get_by_role("button", name=re.compile("Reconnect")).click()
    page.get_by_role("button", name="Authorize app").click()  # the consent page, in this window
    expect(page.get_by_role("status").filter(has_text="Reconnected 1 expired stream.")).to_be_visible()
    page.get_by_role("link", name="Topics").first.click()
    expect(page.get_by_role("alert").filter(has_text="expired")).to_have_count(0)
    expect(page.locator(".topic-card").filter(has_text="Our X account")).to_contain_text(re.compile("queued|crawling|active"))


def test_live_pages_pass_axe_at_both_widths(admin_page, stack, axe_path):
    """What only the whole stack shows (a connected profile, a linked user's pages with
    their Add buttons and reasons, live queues and workers) passes axe-core, and fits a phone."""
    page = admin_page
    connect(page, "facebook", untick=["pages_read_engagement"])
    open_topic(page, "Checked by axe")
    topic_url = page.url
    add_button(page, "facebook", "owned").click()
    expect(page.locator("#owned-panel li.page").filter(has_text="Riverside Bikes")).to_be_visible()
    pages = {"connected profiles": f"{stack.url}/personal/connected-profiles",
             "status": f"{stack.url}/account/status", "topic": topic_url}
    for width in (DESKTOP, PHONE):
        page.set_viewport_size(width)
        for name, url in pages.items():
            page.goto(url)
            if name == "topic":
                add_button(page, "facebook", "owned").click()
                expect(page.locator("#owned-panel li.page").first).to_be_visible()
            if name == "status":
                expect(page.locator("#status-section table").first).to_be_visible()
            assert_accessible(page, axe_path)
            if width is PHONE:
                assert_fits(page)
