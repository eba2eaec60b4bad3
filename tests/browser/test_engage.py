"""Engage in Chromium: a comment sent with a double click reaches Facebook once (the
emulator's control API counts the calls), shows "Sending…", then "Sent" with a link,
and is in the thread."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token
from playwright.sync_api import expect
from test_engage_send import graph_calls
from test_worker import start_worker

from browser.conftest import PHONE, assert_accessible, log_in
from webapp.crawl import crawl
from webapp.models import Action, Comment, Story
from webapp.streams import Runtime

pytestmark = pytest.mark.browser


@pytest.fixture
def environ(environ, clean_redis):
    """The app queues its send jobs on the test's Redis, where a real worker takes them."""
    return {**environ, "REDIS_URL": clean_redis}


def test_a_double_clicked_comment_is_sent_once_and_shows_in_the_thread(page, live_url, member, topic, settings,
                                                                        plugins, emulator, emulator_urls, environ,
                                                                        clean_redis, tmp_path, axe_path):
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(settings, plugins), stream)
    story = Story.select().where(Story.stream == stream.id).order_by(Story.created_at.desc()).first()
    log_in(page, live_url, member.email, PASSWORD)
    page.goto(f"{live_url}/topics/{topic.id}/stories/{story.id}")
    assert_accessible(page, axe_path)  # the action forms under the story and each comment
    page.set_viewport_size(PHONE)  # the forms fit a phone (the figures table is not ours to check here)
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('.engage, .engage *')]"
                           ".map(e => e.getBoundingClientRect().right))")
    assert widest <= PHONE["width"], widest
    page.get_by_label("Comment as Bluebird Coffee").fill("Fresh beans on Friday!")
    expect(page.locator(".char-count").first).to_have_text("22 / 63206")
    emulator("facebook", "DELETE", "/calls")
    page.get_by_role("button", name="Comment", exact=True).dblclick()
    expect(page.get_by_role("status").filter(has_text="Sending…")).to_be_visible()
    expect(page.get_by_label("Comment as Bluebird Coffee")).to_have_value("")  # ready for the next one
    worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
    output, _ = worker.communicate(timeout=90)
    assert worker.returncode == 0, output
    sent = page.get_by_role("status").filter(has_text="Sent to Facebook.")
    expect(sent).to_be_visible()
    assert graph_calls(emulator, "POST /comments") == 1
    assert Action.select().count() == 1
    sent.get_by_role("link", name="See it in the thread").click()
    comment = Comment.get(Comment.external_id == Action.get().external_id)
    expect(page.locator(f"#comment-{comment.id}")).to_contain_text("Fresh beans on Friday!")
    expect(page.locator("li.comment", has_text="Fresh beans on Friday!")).to_have_count(1)


def test_reply_and_delete_without_javascript(browser, live_url, member, topic, settings, plugins, emulator,
                                             emulator_urls, environ, clean_redis, tmp_path):
    """Plain forms: the reply posts and lands on its status page ("Sending…", then
    "Sent" after a reload); the delete asks on a page of its own first."""
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(settings, plugins), stream)
    fan = Comment.select().where(Comment.stream == stream.id, Comment.author_id != BLUEBIRD).first()
    story = Story.get(Story.stream == stream.id, Story.external_id == fan.story_external_id)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_url, member.email, PASSWORD)
        page.goto(f"{live_url}/topics/{topic.id}/stories/{story.id}")
        item = page.locator(f"#comment-{fan.id}")
        item.locator("summary", has_text="Reply").first.click()
        item.get_by_label("Reply as Bluebird Coffee").first.fill("Thanks, no JavaScript needed")
        emulator("facebook", "DELETE", "/calls")
        item.get_by_role("button", name="Send reply").first.click()
        page.wait_for_url("**/actions/*")
        expect(page.locator(".action-status [role=status]")).to_contain_text("Sending…")
        worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
        output, _ = worker.communicate(timeout=90)
        assert worker.returncode == 0, output
        page.get_by_role("link", name="Check again").click()
        expect(page.locator(".action-status [role=status]")).to_contain_text("Sent to Facebook.")
        page.get_by_role("link", name="See it in the thread").click()
        reply = Comment.get(Comment.external_id == Action.get().external_id)
        expect(page.locator(f"#comment-{reply.id}")).to_contain_text("Thanks, no JavaScript needed")
        assert graph_calls(emulator, "POST /comments") == 1
        # delete the reply: a page asks first, Cancel would go back
        page.locator(f"#comment-{reply.id}").get_by_role("button", name="Delete").first.click()
        expect(page.get_by_role("heading", name="Delete this on Facebook?")).to_be_visible()
        assert Action.select().count() == 1
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url("**/actions/*")
        worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
        output, _ = worker.communicate(timeout=90)
        assert worker.returncode == 0, output
        page.get_by_role("link", name="Check again").click()
        expect(page.locator(".action-status [role=status]")).to_contain_text("Sent to Facebook.")
        assert graph_calls(emulator, f"DELETE /{reply.external_id}") == 1
        assert Comment.get_or_none(Comment.id == reply.id) is None
    finally:
        context.close()
