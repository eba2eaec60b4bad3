"""The topic feed in a real browser: read, filter, search, scroll to older stories,
see new ones arrive, open a thread — and crawled content stays text throughout."""
from __future__ import annotations

import datetime
import subprocess
import sys

import pytest
import redis
from conftest import PASSWORD, subprocess_env
from playwright.sync_api import expect

from browser.conftest import log_in
from browser.test_inert import PROBE, payload, serve_unescaped, server_paths  # noqa: F401 (a fixture)
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token
from webapp.crawl import enqueue_crawl
from webapp.feed import PAGE_SIZE
from webapp.models import Comment, Story, Stream, StreamGap
from factories import new_stream

pytestmark = pytest.mark.browser
T = datetime.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def streams(topic):
    fb = new_stream(topic, service="facebook", page_id="page1", name="Acme Page", authorized=True, status="active")
    tw = new_stream(topic, service="twitter", page_id="rival", name="Rival", authorized=False, status="active")
    return fb, tw


def test_read_filter_search_scroll_and_open_a_thread(page, live_url, member, topic, streams):
    fb, tw = streams
    for n in range(PAGE_SIZE + 10):
        Story.create(stream=fb if n % 2 else tw, external_id=f"s{n}", created_at=T + datetime.timedelta(hours=n),
                     text=f"Story number {n}" + (" about the spring sale" if n == 3 else ""))
    first = Story.get(Story.external_id == "s3")
    Comment.create(stream=first.stream, external_id="c1", story_external_id="s3", created_at=T, author_id="u1",
                   author_name="Pat", text="When does it end?")
    Comment.create(stream=first.stream, external_id="c2", story_external_id="s3", parent_external_id="c1", created_at=T,
                   author_id="page1", author_name="Acme Page", text="Sunday!")
    StreamGap.create(stream=fb, starts_at=T + datetime.timedelta(minutes=10), ends_at=T + datetime.timedelta(minutes=50),
                     reason="the token had expired")
    log_in(page, live_url, member.email, PASSWORD)
    page.get_by_role("navigation", name="Topics").get_by_role("link", name="Brand").click()
    expect(page.get_by_role("heading", name="Stories")).to_be_visible()
    items = page.locator("li.feed-item")
    expect(items.first).to_contain_text(f"Story number {PAGE_SIZE + 9}")
    # Scrolling to the end loads the older stories (htmx, on "revealed"), the gap among them.
    expect(items).to_have_count(PAGE_SIZE)
    page.keyboard.press("End")
    expect(items).to_have_count(PAGE_SIZE + 10)
    expect(page.locator(".feed-gap")).to_contain_text("(Acme Page): the token had expired")
    assert "before=" not in page.url  # rows were added in place
    # Filter (a GET form): only the unauthorized stream.
    page.get_by_label("Connection").select_option("unauthorized")
    page.get_by_role("button", name="Show stories").click()
    page.wait_for_url("**connection=unauthorized**")
    expect(page.locator("li.feed-item", has_text="Acme Page")).to_have_count(0)
    expect(page.locator("li.feed-item").first).to_contain_text("Rival")
    # Search: the match is marked.
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Search").fill("sale")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()
    expect(items).to_have_count(1)
    expect(page.locator("li.feed-item mark")).to_have_text("sale")
    # Open the thread: the reply sits under the comment it answers.
    page.get_by_role("link", name="Comments and figures").click()
    page.wait_for_url(f"**/stories/{first.id}")
    expect(page.locator("li.comment", has_text="When does it end?").locator("ol.replies")).to_contain_text("Sunday!")


def _crawl_in_a_worker(stream, redis_url: str, environ, cwd) -> None:
    """Queue the stream's crawl as the schedule does and let a real worker process do it."""
    stream = Stream.get_by_id(stream.id)  # its job key as the app left it
    assert enqueue_crawl(redis.Redis.from_url(redis_url), stream.id, stream.job_key)
    worker = subprocess.run([sys.executable, "-m", "worker", "--burst", "--no-cron"], cwd=cwd, timeout=120,
                            env=subprocess_env(environ, REDIS_URL=redis_url), capture_output=True, text=True)
    assert worker.returncode == 0, worker.stderr
    assert Stream.get_by_id(stream.id).status == "active", worker.stderr


def test_a_post_published_on_facebook_appears_through_the_notice(page, live_url, member, topic, emulator,
                                                                 emulator_urls, clean_redis, environ, tmp_path):
    """Emulator → crawl job → worker → the feed's poll → "1 new story — show" → the row."""
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    _crawl_in_a_worker(stream, clean_redis, environ, tmp_path)
    page.clock.install()
    log_in(page, live_url, member.email, PASSWORD)
    page.goto(f"{live_url}/topics/{topic.id}")
    items = page.locator("li.feed-item")
    expect(items).to_have_count(PAGE_SIZE)
    assert page.get_by_role("link", name="new story").count() == 0
    emulator("facebook", "POST", "/posts", page_id=BLUEBIRD, message="Pumpkin spice is back, from the emulator")
    _crawl_in_a_worker(stream, clean_redis, environ, tmp_path)
    page.clock.run_for(16_000)  # the feed polls every 15 s
    notice = page.get_by_role("link", name="1 new story — show")
    expect(notice).to_be_visible()
    notice.click()
    expect(items.first).to_contain_text("Pumpkin spice is back, from the emulator")
    expect(items).to_have_count(PAGE_SIZE + 1)
    expect(notice).to_have_count(0)


def test_focus_moves_to_the_first_new_row_after_older_new_and_more_results(page, live_url, member, topic,
                                                                          streams):
    """Keyboard and screen-reader users land on what each swap brought, not on <body>."""
    fb, _ = streams
    for n in range(PAGE_SIZE + 5):
        Story.create(stream=fb, external_id=f"s{n}", created_at=T + datetime.timedelta(hours=n), text=f"Sale {n}")
    page.clock.install()
    log_in(page, live_url, member.email, PASSWORD)
    page.goto(f"{live_url}/topics/{topic.id}")
    items = page.locator("li.feed-item")
    expect(items).to_have_count(PAGE_SIZE)
    # Tabbing onto "Older stories" brings it into view: the rows load in its place.
    page.get_by_role("link", name="Older stories").focus()
    expect(items).to_have_count(PAGE_SIZE + 5)
    expect(items.nth(PAGE_SIZE)).to_be_focused()
    expect(items.nth(PAGE_SIZE)).to_have_attribute("tabindex", "-1")  # focusable, not a Tab stop
    Story.create(stream=fb, external_id="new", created_at=T + datetime.timedelta(days=9), text="Brand new")
    page.clock.run_for(16_000)
    page.get_by_role("link", name="1 new story — show").click()
    expect(items.first).to_contain_text("Brand new")
    expect(items.first).to_be_focused()
    # A search's next page, asked for with Enter on "More results".
    page.goto(f"{live_url}/topics/{topic.id}?q=sale")
    page.wait_for_function("() => window.htmx !== undefined")
    expect(items).to_have_count(PAGE_SIZE)
    page.get_by_role("link", name="More results").press("Enter")
    expect(items).to_have_count(PAGE_SIZE + 5)
    expect(items.nth(PAGE_SIZE)).to_be_focused()
    assert "more=" not in page.url  # appended in place


INERT = {
    "script": '<script>window.__pwned = 1</script>',
    "img": '<img src=x onerror="window.__pwned = 2">',
    "htmx": f'<b id="inj" hx-get="{PROBE}" hx-trigger="load">x</b>',
    "css": '<style>body { display: none !important }</style>',
}


def test_crawled_markup_renders_as_text_in_the_feed_and_the_story_view(page, live_url, server_paths, member, topic):
    text = "Marker " + " ".join(INERT.values())
    stream = new_stream(topic, service="facebook", page_id="1", name=INERT["img"] + INERT["css"], authorized=False,
                        status="active")
    story = Story.create(stream=stream, external_id="s1", created_at=T, text=text, author_name=INERT["htmx"],
                         url="javascript:window.__pwned=3")
    Story.create(stream=stream, external_id="s2", created_at=T, text="x", url='https://e.test/" onmouseover="x')
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=T, text=text,
                   author_name=INERT["script"])
    log_in(page, live_url, member.email, PASSWORD)
    fired = []
    page.on("request", lambda request: fired.append(request.url) if PROBE in request.url else None)
    page.on("dialog", lambda dialog: fired.append(dialog.message))
    # The search finds words inside markup on both databases (migration 0014), and marks them.
    for path in (f"/topics/{topic.id}", f"/topics/{topic.id}?q=script", f"/topics/{topic.id}/stories/{story.id}"):
        page.goto(f"{live_url}{path}")
        page.wait_for_function("() => window.htmx !== undefined")
        expect(page.locator("main")).to_contain_text("<script>window.__pwned = 1</script>")
        expect(page.locator("main")).to_contain_text("body { display: none !important }")
        expect(page.locator("body")).to_be_visible()
        assert page.locator("#inj, main script, main style, main img").count() == 0, path
        assert page.evaluate("() => window.__pwned") is None, path
        assert page.locator('a[href^="javascript:"], [onmouseover]').count() == 0, path
    assert fired == [] and PROBE not in server_paths


@pytest.mark.parametrize("where", ["feed", "story"])
def test_htmx_attributes_stay_dead_even_if_a_template_forgot_to_escape(page, live_url, server_paths, member, topic,
                                                                      where):
    stream = new_stream(topic, service="facebook", page_id="1", name=payload("stream"), authorized=False,
                        status="active")
    story = Story.create(stream=stream, external_id="s1", created_at=T, text=payload("story"))
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=T, text=payload("comment"))
    path = f"/topics/{topic.id}" if where == "feed" else f"/topics/{topic.id}/stories/{story.id}"
    wheres = ["stream", "story"] + (["comment"] if where == "story" else [])
    log_in(page, live_url, member.email, PASSWORD)
    fired = []
    page.on("request", lambda request: fired.append(request.url) if PROBE in request.url else None)
    serve_unescaped(page, path, wheres)
    page.goto(f"{live_url}{path}")
    page.wait_for_function("() => window.htmx !== undefined")
    for name in wheres:
        injected = page.locator(f"#injected-{name}").filter(visible=True).first
        expect(injected).to_be_visible()  # the markup is live in the page, as if unescaped
        injected.click()
    page.evaluate("() => fetch('/login').then(r => r.status)")
    page.wait_for_timeout(300)
    assert fired == [] and PROBE not in server_paths, (fired, server_paths)
