"""The team inbox in Chromium with two people in two browser contexts: an admin assigns
a conversation to a member, who finds it under "mine" unread and replies (sent once
through a real worker to the Facebook emulator); the admin sees who answered and closes it."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token
from playwright.sync_api import expect
from test_worker import start_worker

from browser.conftest import log_in
from webapp.crawl import crawl
from webapp.models import Action, Conversation
from webapp.streams import Runtime

#: The app queues its send jobs on the test's Redis, where a real worker takes them.
pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_assign_reply_answered_by_and_close_with_two_people(browser, live_url, admin, member, topic, settings,
                                                            plugins, emulator, emulator_urls, environ,
                                                            clean_redis, tmp_path):
    emulator("facebook", "POST", "/messages", page_id=BLUEBIRD, message="Do you sell gift cards?")
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(settings, plugins), stream)
    conversation = (Conversation.select().where(Conversation.kind == "message")
                    .order_by(Conversation.last_activity_at.desc()).first())
    assert conversation.preview == "Do you sell gift cards?"
    a_context, b_context = browser.new_context(), browser.new_context()
    try:
        a, b = a_context.new_page(), b_context.new_page()
        for page in (a, b):
            page.set_default_timeout(15_000)
        log_in(a, live_url, admin.email, PASSWORD)
        log_in(b, live_url, member.email, PASSWORD)

        # A opens it in place (htmx) and assigns it to B
        a.goto(f"{live_url}/inbox")
        a.locator(f"#row-{conversation.id} a").click()
        detail = a.locator("#conversation article")
        expect(detail).to_contain_text("Do you sell gift cards?")
        assert a.url.endswith(f"/inbox/{conversation.id}")  # pushed into the history
        detail.get_by_label("Assign to").select_option(label=member.email)
        detail.get_by_role("button", name="Assign").click()
        expect(a.locator("#conversation article")).to_contain_text(f"Assigned to {member.email}")

        # B finds it under "mine", unread, and replies
        b.goto(f"{live_url}/inbox")
        b.get_by_label("Whose").select_option("mine")
        b.get_by_role("button", name="Filter").click()
        b.wait_for_url("**/inbox?who=mine**")
        row = b.locator(f"#row-{conversation.id}")
        expect(row.locator(".unread-badge")).to_be_visible()
        expect(b.locator(".conversation-row")).to_have_count(1)
        row.locator("a").click()
        b.get_by_label("Reply privately").fill("Yes, at the counter!")
        emulator("facebook", "DELETE", "/calls")
        b.get_by_role("button", name="Send reply").click()
        expect(b.get_by_role("status").filter(has_text="Sending…")).to_be_visible()
        worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
        output, _ = worker.communicate(timeout=90)
        assert worker.returncode == 0, output
        expect(b.get_by_role("status").filter(has_text="Sent to Facebook.")).to_be_visible()
        calls = emulator("facebook", "GET", "/calls")["calls"]
        assert sum(n for c, n in calls.items() if c.startswith("POST ") and c.endswith("/messages")) == 1
        assert Action.select().count() == 1 and Action.get().user_id == member.id

        # A sees who answered, and closes it
        a.goto(f"{live_url}/inbox")
        expect(a.locator(f"#row-{conversation.id}")).to_contain_text(f"Answered by {member.email} at")
        a.locator(f"#row-{conversation.id} a").click()
        a.locator("#conversation").get_by_role("button", name="Close").click()
        expect(a.locator("#conversation").get_by_role("button", name="Reopen")).to_be_visible()
        assert Conversation.get_by_id(conversation.id).status == "closed"
        a.goto(f"{live_url}/inbox")
        expect(a.locator(f"#row-{conversation.id}")).to_have_count(0)  # open ones only by default
    finally:
        a_context.close()
        b_context.close()
