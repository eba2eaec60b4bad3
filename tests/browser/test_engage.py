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

#: The app queues its send jobs on the test's Redis, where a real worker takes them.
pytestmark = [pytest.mark.browser, pytest.mark.redis]


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


def _run_jobs(environ, clean_redis, tmp_path) -> None:
    """A real worker takes every queued send job, then stops."""
    worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
    output, _ = worker.communicate(timeout=90)
    assert worker.returncode == 0, output


def _sent_once(page, where, button: str, emulator, call: str, environ, clean_redis, tmp_path) -> None:
    """Click ``button`` in ``where``; "Sending…" shows, a worker sends it, "Sent" shows in
    its place, and Facebook served ``call`` exactly once (and no other write)."""
    emulator("facebook", "DELETE", "/calls")
    before = Action.select().count()
    where.get_by_role("button", name=button, exact=True).first.click()
    expect(where.get_by_role("status").filter(has_text="Sending…")).to_be_visible()
    _run_jobs(environ, clean_redis, tmp_path)
    expect(where.get_by_role("status").filter(has_text="Sent to Facebook.")).to_be_visible()
    assert Action.select().count() == before + 1
    assert graph_calls(emulator, call) == 1, emulator("facebook", "GET", "/calls")
    writes = {c: n for c, n in emulator("facebook", "GET", "/calls")["calls"].items() if not c.startswith("GET ")}
    assert sum(writes.values()) == 1, writes


def test_like_unlike_hide_unhide_and_publish_each_reach_facebook_once(page, live_url, member, topic, settings,
                                                                      plugins, emulator, emulator_urls, environ,
                                                                      clean_redis, tmp_path):
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(settings, plugins), stream)
    fan = Comment.select().where(Comment.stream == stream.id, Comment.author_id != BLUEBIRD,
                                 Comment.parent_external_id.is_null()).first()
    story = Story.get(Story.stream == stream.id, Story.external_id == fan.story_external_id)
    log_in(page, live_url, member.email, PASSWORD)
    thread = f"{live_url}/topics/{topic.id}/stories/{story.id}"
    page.goto(thread)
    actions = page.locator(f"#engage-{story.id}")
    _sent_once(page, actions, "Like", emulator, f"POST /{story.external_id}/likes", environ, clean_redis, tmp_path)
    page.goto(thread)  # the page likes it now: only Unlike is offered
    expect(page.locator(f"#engage-{story.id}").get_by_role("button", name="Like", exact=True)).to_have_count(0)
    _sent_once(page, page.locator(f"#engage-{story.id}"), "Unlike", emulator,
               f"DELETE /{story.external_id}/likes", environ, clean_redis, tmp_path)
    # hide a fan's comment, then unhide it: the button turns into Unhide once it is hidden
    page.goto(thread)
    item = page.locator(f"#comment-{fan.id} .comment-actions").first  # its own, not its replies
    _sent_once(page, item, "Hide", emulator, f"POST /{fan.external_id}", environ, clean_redis, tmp_path)
    assert Comment.get_by_id(fan.id).is_hidden
    page.goto(thread)
    item = page.locator(f"#comment-{fan.id} .comment-actions").first
    expect(item.get_by_role("button", name="Hide", exact=True)).to_have_count(0)
    expect(item.get_by_role("button", name="Like", exact=True)).to_have_count(0)  # a hidden comment takes none
    _sent_once(page, item, "Unhide", emulator, f"POST /{fan.external_id}", environ, clean_redis, tmp_path)
    assert not Comment.get_by_id(fan.id).is_hidden
    # publish: the count is shown as one types, an over-limit text is refused before anything is sent
    page.goto(thread)
    page.get_by_role("link", name="Publish a new post as Bluebird Coffee").click()
    box = page.get_by_label("Post")
    counter = page.locator(".char-count")
    expect(counter).to_have_text("0 / 63206")
    box.fill("x" * 63207)
    expect(counter).to_have_text("1 over the limit of 63206")
    emulator("facebook", "DELETE", "/calls")
    before = Action.select().count()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("at most 63,206 characters; this text has 63,207")).to_be_visible()
    assert Action.select().count() == before
    assert graph_calls(emulator, "POST /feed") == 0
    box.fill("Friday: new roast")
    expect(counter).to_have_text("17 / 63206")
    _sent_once(page, page.locator("main"), "Publish", emulator, f"POST /{BLUEBIRD}/feed", environ, clean_redis,
               tmp_path)
    post = Action.select().order_by(Action.id.desc()).first()
    assert post.kind == "publish" and post.status == "sent"
    page.get_by_role("link", name="See it in the thread").click()
    expect(page.get_by_text("Friday: new roast").first).to_be_visible()
    assert Story.select().where(Story.external_id == post.external_id).count() == 1


def test_a_comment_on_a_story_without_javascript_is_sent_once(browser, live_url, member, topic, settings, plugins,
                                                               emulator, emulator_urls, environ, clean_redis,
                                                               tmp_path):
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(Runtime(settings, plugins), stream)
    story = Story.select().where(Story.stream == stream.id).order_by(Story.created_at.desc()).first()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_url, member.email, PASSWORD)
        page.goto(f"{live_url}/topics/{topic.id}/stories/{story.id}")
        page.get_by_label("Comment as Bluebird Coffee").fill("Plain HTML works too")
        emulator("facebook", "DELETE", "/calls")
        page.get_by_role("button", name="Comment", exact=True).click()
        page.wait_for_url("**/actions/*")
        expect(page.locator(".action-status [role=status]")).to_contain_text("Sending…")
        _run_jobs(environ, clean_redis, tmp_path)
        page.get_by_role("link", name="Check again").click()
        expect(page.locator(".action-status [role=status]")).to_contain_text("Sent to Facebook.")
        assert graph_calls(emulator, f"POST /{story.external_id}/comments") == 1
        assert Action.select().count() == 1
        page.get_by_role("link", name="See it in the thread").click()
        comment = Comment.get(Comment.external_id == Action.get().external_id)
        expect(page.locator(f"#comment-{comment.id}")).to_contain_text("Plain HTML works too")
        expect(page.locator("li.comment", has_text="Plain HTML works too")).to_have_count(1)
    finally:
        context.close()
