"""Crawled content is inert in a real browser: htmx attributes inside it never fire.

Jinja escapes what a provider sends, so markup in a comment shows as text. This test
goes one step further and plays a template that forgot to escape (the page is served
with the crawled text unescaped, headers untouched): htmx must still ignore it, because
the containers of crawled content carry ``hx-disable``. The server records every path
it is asked for; the probe's must never be among them.
"""
from __future__ import annotations

import datetime

import pytest
from conftest import PASSWORD
from markupsafe import escape
from playwright.sync_api import expect

from browser.conftest import log_in
from webapp.models import Comment, Figure, Message, Story, Topic, utcnow
from factories import new_stream

pytestmark = pytest.mark.browser
PROBE = "/inert-probe"
T = datetime.datetime(2026, 3, 1, 12, 0)


def payload(where: str) -> str:
    """Markup a crawled text could hold: an htmx request fired on load and on click."""
    return f'<b id="injected-{where}" hx-get="{PROBE}?from={where}" hx-trigger="load, click">x</b>'


@pytest.fixture
def crawled(account):
    """A stream whose name, comment, message and top post all carry the payload."""
    topic = Topic.create(account=account, name="Brand")
    stream = new_stream(topic, service="facebook", page_id="1", name=payload("stream"),
                           authorized=True, status="active")
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=T, text=payload("comment"))
    Message.create(stream=stream, external_id="m1", conversation_id="t1", created_at=T, text=payload("message"))
    Story.create(stream=stream, external_id="s1", created_at=T, text=payload("story"))
    Figure.create(stream=stream, level="post", object_id="s1", name="impressions", value=7)
    # a top post of the last days on Analytics
    Story.create(stream=stream, external_id="s2", created_at=utcnow() - datetime.timedelta(hours=1),
                 text=payload("post"), engagements=3)
    return stream


@pytest.fixture
def server_paths(app):
    """Every path the live server is asked for, recorded below Flask."""
    seen = []
    inner = app.wsgi_app

    def recording(environ, start_response):
        seen.append(environ.get("PATH_INFO", ""))
        return inner(environ, start_response)

    app.wsgi_app = recording
    return seen


def serve_unescaped(page, path: str, wheres: list[str]) -> None:
    """Serve ``path`` as the server renders it, but with the payloads unescaped."""

    def handle(route):
        response = route.fetch()
        html = response.text()
        for where in wheres:
            escaped = str(escape(payload(where)))
            assert escaped in html, f"{where}: the payload is not in the page as rendered"
            html = html.replace(escaped, payload(where))
        route.fulfill(response=response, body=html)

    page.route(f"**{path}", handle)


@pytest.mark.parametrize("path, wheres", [
    ("/inbox", ["comment", "message"]),
    ("/analytics/streams/{stream}", ["stream", "post"]),
    ("/topics", ["stream"]),
])
def test_htmx_attributes_in_crawled_content_do_nothing(page, live_url, server_paths, admin, crawled, path, wheres):
    log_in(page, live_url, admin.email, PASSWORD)
    fired = []
    page.on("request", lambda request: fired.append(request.url) if PROBE in request.url else None)
    path = path.format(stream=crawled.id)
    serve_unescaped(page, path, wheres)
    page.goto(f"{live_url}{path}")
    page.wait_for_function("() => window.htmx !== undefined")
    for where in wheres:
        injected = page.locator(f"#injected-{where}")
        expect(injected).to_have_count(1)  # the markup is live in the page, as if unescaped
        injected.first.click()
    # A round trip to the server after the clicks: any probe request would be in by now.
    page.evaluate("() => fetch('/login').then(r => r.status)")
    page.wait_for_timeout(300)
    assert fired == [] and PROBE not in server_paths, (fired, server_paths)
    assert "/login" in server_paths  # the recorder does see the page's own requests
