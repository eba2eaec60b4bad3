"""Every page a person sees, checked by axe-core in Chromium at desktop width and at 375 px.

An admin with data in every corner (topics, streams, an expired one with the red banner,
comments, messages, figures, e-mails in the outbox) walks the pages and the panels htmx
opens; axe-core (pinned from the npm registry, see ``webapp.assets.AXE``) must report no
serious or critical violation, and at phone width nothing may stick out sideways.
"""
from __future__ import annotations

import datetime

import pytest
from conftest import PASSWORD
from playwright.sync_api import expect

from browser.conftest import DESKTOP, PHONE, assert_accessible, assert_fits, log_in
from webapp.models import Comment, Figure, Message, OutboxEmail, Story, Topic
from factories import new_stream

pytestmark = pytest.mark.browser
T = datetime.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def data(account, admin, member):
    """A lived-in account: two topics, an active and an expired stream, crawled content."""
    brand = Topic.create(account=account, name="Our brand")
    Topic.create(account=account, name="Competitors")
    active = new_stream(brand, service="facebook", page_id="104729384756102", name="Bluebird Coffee",
                           handle="bluebirdcoffee", url="https://www.facebook.com/bluebirdcoffee",
                           authorized=False, status="active")
    new_stream(brand, service="twitter", page_id="42", name="acmecoffee", handle="acmecoffee",
                  authorized=True, status="expired", status_message="The token was revoked.")
    story = Story.create(stream=active, external_id="s1", created_at=T, text="Our new roast is out")
    Comment.create(stream=active, external_id="c1", story_external_id="s1", created_at=T,
                   author_name="Ada", text="Lovely!")
    Comment.create(stream=active, external_id="c2", story_external_id="s1", parent_external_id="c1",
                   created_at=T, author_name="Bob", text="Agreed", is_hidden=True)
    Message.create(stream=active, external_id="m1", conversation_id="t1", created_at=T,
                   sender_name="Cy", text="Are you open on Sunday?")
    Figure.create(stream=active, level="page", object_id="104729384756102", name="impressions", value=1234)
    Figure.create(stream=active, level="page", object_id="104729384756102", name="reach", value=None,
                  note="not provided for public pages")
    Figure.create(stream=active, level="post", object_id="s1", name="impressions", value=7)
    OutboxEmail.create(account=account, recipient=admin.email, subject="A stream expired",
                       text="acmecoffee expired.")
    OutboxEmail.create(account=account, recipient=admin.email, subject="Not sent", text="…", error="SMTP refused")
    return {"topic": brand, "stream": active, "story": story}


def walk(page, base: str, data: dict):
    """Every page and panel, yielding a short name once each is on screen."""
    topic = data["topic"]
    for path, heading in [("/topics", "Topics"), ("/inbox", "Inbox"), ("/analytics", "Analytics"),
                          (f"/analytics/topics/{topic.id}", topic.name),
                          (f"/analytics/topics/{topic.id}/competitors", topic.name),
                          (f"/analytics/streams/{data['stream'].id}", data["stream"].name),
                          (f"/topics/{topic.id}", "Topics"), (f"/topics/{topic.id}?q=roast", "Topics"),
                          (f"/topics/{topic.id}/stories/{data['story'].id}", "Topics"),
                          ("/personal/", "Personal settings"), ("/personal/connected-profiles", "Personal settings"),
                          ("/account/users", "Account settings"), ("/account/outbox", "Account settings"),
                          ("/account/status", "Account settings"), ("/account/topics/", "Account settings"),
                          (f"/account/topics/{topic.id}/delete", "Account settings"),
                          (f"/account/topics/{topic.id}", "Account settings")]:
        page.goto(base + path)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        yield path
    # A page that is not there: the error page.
    page.goto(f"{base}/account/topics/999999")
    expect(page.get_by_role("alert")).to_be_visible()
    yield "error page"
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="Account settings")).to_be_visible()
    # The Add panels htmx opens on a topic's page (still on the manage page).
    page.get_by_role("button", name="Add one of your Facebook pages").click()
    expect(page.locator("#owned-panel")).to_be_visible()
    yield "owned panel"
    page.get_by_role("button", name="Add a public X (Twitter) page").click()
    page.get_by_role("searchbox").fill("@rivalroasters")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#public-panel li.page").first).to_be_visible()
    yield "public panel with results"
    # The confirmation page a browser without JavaScript gets: submit natively (htmx never sees it).
    page.locator("#streams-list form[action$='/delete']").first.evaluate("form => form.submit()")
    expect(page.get_by_role("heading", name="Remove “Bluebird Coffee” from Our brand?")).to_be_visible()
    yield "confirm page"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe(browser, live_url, admin, data, axe_path, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    failures = []
    try:
        page.goto(f"{live_url}/login")
        try:
            assert_accessible(page, axe_path)
            if viewport is PHONE:
                assert_fits(page)
        except AssertionError as exc:
            failures.append(str(exc))
        log_in(page, live_url, admin.email, PASSWORD)
        for name in walk(page, live_url, data):
            try:
                assert_accessible(page, axe_path)
                if viewport is PHONE:
                    assert_fits(page)
            except AssertionError as exc:
                failures.append(f"[{name}] {exc}")
    finally:
        context.close()
    assert not failures, "\n\n".join(failures)
