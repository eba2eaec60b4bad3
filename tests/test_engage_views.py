"""Engage through the web app: forms where the content is, sent exactly once whatever
is submitted twice — a double submit, two tabs at once, a duplicated job run by a real
worker process — counted by the Facebook emulator's control API; "sending…", "sent"
with a link, the provider's reason with Retry; no buttons and a 403 for unauthorized
streams; asking before a delete without JavaScript; CSRF on all of it."""
import html
import re
import threading

import pytest
import redis
from conftest import login
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token
from rq import Queue
from test_engage_send import graph_calls
from test_worker import start_worker

from webapp import engage
from webapp.accounts import create_account, create_user
from webapp.crawl import crawl
from webapp.models import Action, Comment, Story, Stream
from webapp.send import send
from webapp.streams import Runtime
from factories import new_stream


#: The app queues its send jobs on the test's Redis.
pytestmark = pytest.mark.redis


@pytest.fixture
def rt(settings, plugins):
    return Runtime(settings, plugins)


@pytest.fixture
def page(topic, emulator, emulator_urls, rt):
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(rt, stream)
    return Stream.get_by_id(stream.id)


@pytest.fixture
def story(page):
    """The newest story with a comment of a fan (one to reply to, hide or delete)."""
    commented = Comment.select(Comment.story_external_id).where(Comment.stream == page.id,
                                                                Comment.author_id != BLUEBIRD)
    return (Story.select().where(Story.stream == page.id, Story.external_id.in_(commented))
            .order_by(Story.created_at.desc()).first())


def story_url(topic, story) -> str:
    return f"/topics/{topic.id}/stories/{story.id}"


def form_of(page_html: str, kind: str, undo: bool = False) -> dict:
    """The hidden fields of the first form on the page that sends ``kind``."""
    for form in re.findall(r"<form[^>]*>.*?</form>", page_html, re.S):
        if f'name="kind" value="{kind}"' in form and ('name="undo"' in form) == undo:
            return {name: html.unescape(value)
                    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    raise AssertionError(f"no {kind} form on the page")


def send_jobs(clean_redis) -> list[str]:
    return [job_id for job_id in Queue("default", connection=redis.Redis.from_url(clean_redis)).job_ids
            if job_id.startswith("send-")]


def test_a_double_submit_and_a_duplicated_job_reach_facebook_once(admin_client, topic, story, emulator, environ,
                                                                   clean_redis, tmp_path):
    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "comment"),
            "text": "See you on Friday!"}
    first = admin_client.post("/actions", data=form)
    second = admin_client.post("/actions", data=form)  # the double click / browser retry
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert Action.select().count() == 1 and len(send_jobs(clean_redis)) == 1
    action = Action.get()
    # a second job for the same action, as a worker retry would run it
    Queue("default", connection=redis.Redis.from_url(clean_redis)).enqueue(
        engage.SEND_FUNC, action.id, job_id=f"send-{action.id}-again")
    emulator("facebook", "DELETE", "/calls")
    worker = start_worker(environ, clean_redis, tmp_path, "--burst", "--no-cron")
    output, _ = worker.communicate(timeout=90)
    assert worker.returncode == 0, output
    assert graph_calls(emulator, "POST /comments") == 1, output
    action = Action.get_by_id(action.id)
    assert action.status == "sent" and action.attempts == 1
    thread = admin_client.get(story_url(topic, story)).get_data(as_text=True)
    assert thread.count("See you on Friday!") == 1
    status = admin_client.get(first.headers["Location"]).get_data(as_text=True)
    comment = Comment.get(Comment.external_id == action.external_id)
    assert "Sent to Facebook." in status and f"#comment-{comment.id}" in status


def test_two_tabs_sending_the_same_form_at_once_make_one_action(app, admin, topic, story, clean_redis, rt,
                                                                emulator):
    tabs = [app.test_client() for _ in range(2)]
    assert login(tabs[0], admin.email).status_code == 302
    for cookie in tabs[0]._cookies.values():  # two tabs of one browser share its cookies
        tabs[1].set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    form = {**form_of(tabs[0].get(story_url(topic, story)).get_data(as_text=True), "comment"),
            "text": "Two tabs, one comment"}
    barrier, answers = threading.Barrier(2), []

    def submit(tab):
        barrier.wait()
        answers.append(tab.post("/actions", data=form).headers.get("Location"))

    threads = [threading.Thread(target=submit, args=(tab,)) for tab in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert Action.select().count() == 1 and len(send_jobs(clean_redis)) == 1
    emulator("facebook", "DELETE", "/calls")
    for job in range(2):
        send(rt, Action.get().id)
    assert graph_calls(emulator, "POST /comments") == 1


def test_htmx_shows_sending_then_sent(admin_client, topic, story, rt):
    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "comment"),
            "text": "Polled until sent"}
    answer = admin_client.post("/actions", data=form, headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 202 and "Sending…" in body and 'hx-trigger="load delay:1s"' in body
    # the form gets a new key and an empty box, so the next text is a new action
    fresh = re.search(r'<input type="hidden" name="key" value="([^"]+)" id="key-([^"]+)" hx-swap-oob="true">', body)
    assert fresh and fresh.group(1) != form["key"] and fresh.group(2) == form["place"]
    assert f'<textarea id="text-{form["place"]}" name="text" rows="2" required hx-swap-oob="true"' in body
    again = admin_client.post("/actions", data=form, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-swap-oob" not in again and Action.select().count() == 1  # the old key: the same action
    action = Action.get()
    assert send(rt, action.id) == "sent"
    polled = admin_client.get(f"/actions/{action.id}?topic={topic.id}", headers={"HX-Request": "true"})
    body = polled.get_data(as_text=True)
    assert "Sent to Facebook." in body and "hx-get" not in body and "<html" not in body


def test_a_refusal_shows_the_reason_with_retry_and_reconnect(admin_client, topic, page, story, rt, emulator,
                                                            emulator_urls, clean_redis):
    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "comment"),
            "text": "Expired meanwhile"}
    emulator("facebook", "POST", "/tokens/expire", token=page.access_token)  # between render and send
    location = admin_client.post("/actions", data=form).headers["Location"]
    action = Action.get()
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    body = admin_client.get(location).get_data(as_text=True)
    assert "Not sent:" in body and ">Reconnect</a>" in body and ">Retry</button>" in body
    assert Stream.get_by_id(page.id).status == "expired"
    # the retry is refused until the stream is reconnected, and nothing is queued
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    refused = admin_client.post(f"/actions/{action.id}/retry", data={"csrf_token": token})
    assert refused.status_code == 409 and "reconnect it" in refused.get_data(as_text=True)
    assert Action.get_by_id(action.id).status == "failed"
    # reconnected (a new page token): the retry sends the same action, once
    Stream.update(access_token=page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), status="active",
                  status_message=None).where(Stream.id == page.id).execute()
    again = admin_client.post(f"/actions/{action.id}/retry", data={"csrf_token": token},
                              headers={"HX-Request": "true"})
    assert again.status_code == 200 and "Sending…" in again.get_data(as_text=True)
    assert Action.get_by_id(action.id).status == "queued" and Action.select().count() == 1
    assert send(rt, action.id) == "sent" and send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /comments") == 2  # the refused one and the one sent
    assert Comment.select().where(Comment.text == "Expired meanwhile").count() == 1


def test_unauthorized_streams_show_no_buttons_and_are_refused(admin_client, topic, story):
    public = new_stream(topic, service="facebook", page_id="999", name="Rival Roasters", status="active")
    theirs = Story.create(stream=public, external_id="999_1", created_at=story.created_at, text="Their post")
    Comment.create(stream=public, external_id="999_1_c", story_external_id="999_1", created_at=story.created_at,
                   text="A fan", author_name="Fan")
    page_html = admin_client.get(story_url(topic, theirs)).get_data(as_text=True)
    assert 'name="kind"' not in page_html and "Reply" not in page_html
    token = re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)
    refused = admin_client.post("/actions", data={"csrf_token": token, "key": engage.new_key(),
                                                  "stream": public.id, "kind": "like", "story": theirs.id})
    assert refused.status_code == 403 and "unauthorized stream" in refused.get_data(as_text=True)
    assert Action.select().count() == 0


def test_the_authorized_story_offers_what_facebook_allows(admin_client, topic, story):
    page_html = admin_client.get(story_url(topic, story)).get_data(as_text=True)
    for kind in ("comment", "like", "reply", "hide", "delete"):
        assert f'name="kind" value="{kind}"' in page_html, kind
    keys = re.findall(r'name="key" value="([^"]+)"', page_html)
    assert len(keys) == len(set(keys)) > 5  # every form its own key
    assert "Publish a new post as Bluebird Coffee" in page_html


def test_delete_without_javascript_asks_first(admin_client, topic, page, story, rt, emulator):
    comment = Comment.get(Comment.story_external_id == story.external_id, Comment.author_id != BLUEBIRD)
    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "delete"),
            "comment": str(comment.id)}
    asked = admin_client.post("/actions", data=form)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Delete this on Facebook?" in body and Action.select().count() == 0
    confirm = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    assert confirm["confirmed"] == "1" and confirm["key"] == form["key"]
    done = admin_client.post("/actions", data=confirm)
    assert done.status_code == 303 and Action.get().kind == "delete"
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, Action.get().id) == "sent"
    assert Comment.get_or_none(Comment.id == comment.id) is None


def test_publish_counts_against_the_limit_and_refuses_over_it(admin_client, topic, page, rt, emulator):
    body = admin_client.get(f"/streams/{page.id}/publish?topic={topic.id}").get_data(as_text=True)
    assert 'data-limit="63206"' in body and "up to 63,206 characters" in body
    form = {**form_of(body, "publish")}
    too_long = admin_client.post("/actions", data={**form, "text": "x" * 63207})
    assert too_long.status_code == 400 and "at most 63,206 characters; this text has 63,207" in \
        too_long.get_data(as_text=True)
    empty = admin_client.post("/actions", data={**form, "text": "  "})
    assert empty.status_code == 400 and "Write something first" in empty.get_data(as_text=True)
    assert Action.select().count() == 0
    sent = admin_client.post("/actions", data={**form, "text": "Friday: new roast"})
    assert sent.status_code == 303
    assert send(rt, Action.get().id) == "sent"
    status = admin_client.get(sent.headers["Location"]).get_data(as_text=True)
    story = Story.get(Story.external_id == Action.get().external_id)
    assert f"/stories/{story.id}" in status


def test_csrf_and_other_accounts(app, admin_client, topic, story):
    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "comment"), "text": "Hi"}
    no_csrf = admin_client.post("/actions", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert no_csrf.status_code == 400 and Action.select().count() == 0
    assert admin_client.post("/actions", data=form).status_code == 303
    other = app.test_client()
    stranger = create_user(create_account("Rivals"), "eve@rivals.test", "correct horse battery", role="admin")
    assert login(other, stranger.email).status_code == 302
    assert other.get(f"/actions/{Action.get().id}").status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', other.get("/topics").get_data(as_text=True)).group(1)
    stolen = other.post("/actions", data={**form, "csrf_token": token, "key": engage.new_key()})
    assert stolen.status_code == 404 and Action.select().count() == 1
    assert other.post(f"/actions/{Action.get().id}/retry", data={"csrf_token": token}).status_code == 404


def test_an_action_whose_job_died_while_sending_is_not_confirmed(admin_client, topic, story):
    import datetime

    form = {**form_of(admin_client.get(story_url(topic, story)).get_data(as_text=True), "comment"), "text": "Lost"}
    location = admin_client.post("/actions", data=form).headers["Location"]
    long_ago = Action.get().created_at - datetime.timedelta(seconds=engage.UNCONFIRMED_AFTER + 1)
    Action.update(status="sending", claimed_at=long_ago, attempts=1).execute()
    body = admin_client.get(location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Not confirmed — check the thread" in body
    assert "hx-get" not in body and ">Retry</button>" not in body  # no blind second send
    assert ">Send anyway</button>" in body  # only on this explicit click
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    again = admin_client.post(f"/actions/{Action.get().id}/send-anyway", data={"csrf_token": csrf})
    assert again.status_code == 303
    assert Action.get().status == "queued" and Action.get().key == form["key"]
    assert admin_client.post(f"/actions/{Action.get().id}/send-anyway").status_code == 400  # no CSRF token


def test_feed_rows_lead_to_the_actions_of_authorized_stories_only(admin_client, topic, story):
    public = new_stream(topic, service="facebook", page_id="999", name="Rival Roasters", status="active")
    Story.create(stream=public, external_id="999_1", created_at=story.created_at, text="Their post")
    feed = admin_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    rows = re.findall(r'<li class="feed-item[^"]*" id="story-(\d+)".*?</li>', feed, re.S)
    assert str(story.id) in rows
    own_row = re.search(rf'id="story-{story.id}".*?</li>', feed, re.S).group(0)
    theirs = Story.get(Story.external_id == "999_1")
    their_row = re.search(rf'id="story-{theirs.id}".*?</li>', feed, re.S).group(0)
    assert f"#engage-{story.id}" in own_row and "Reply, like or hide" not in their_row
    assert f'id="engage-{story.id}"' in admin_client.get(story_url(topic, story)).get_data(as_text=True)


def _section(page_html: str, start: str, end: str) -> str:
    """The HTML from ``start`` to the next ``end``."""
    at = page_html.index(start)
    return page_html[at:page_html.index(end, at)]


def test_only_like_or_unlike_shows_as_the_last_sent_one_says(admin_client, topic, story, rt):
    def story_buttons():
        return _section(admin_client.get(story_url(topic, story)).get_data(as_text=True),
                        f'id="engage-{story.id}"', "</section>")

    buttons = story_buttons()
    assert ">Like</button>" in buttons and ">Unlike</button>" not in buttons
    form = form_of(story_buttons(), "like")
    assert admin_client.post("/actions", data=form).status_code == 303
    assert send(rt, Action.get(Action.key == form["key"]).id) == "sent"
    buttons = story_buttons()
    assert ">Unlike</button>" in buttons and ">Like</button>" not in buttons
    unlike = form_of(buttons, "like", undo=True)
    assert unlike["story"] == str(story.id)
    # a like still on its way does not count: the last *sent* one decides
    assert admin_client.post("/actions", data=unlike).status_code == 303
    assert ">Unlike</button>" in story_buttons()
    assert send(rt, Action.get(Action.key == unlike["key"]).id) == "sent"
    buttons = story_buttons()
    assert ">Like</button>" in buttons and ">Unlike</button>" not in buttons
    # a comment's state is its own
    fan = Comment.get(Comment.story_external_id == story.external_id, Comment.author_id != BLUEBIRD)
    page_html = admin_client.get(story_url(topic, story)).get_data(as_text=True)
    mine = _section(page_html, f'id="comment-{fan.id}"', "</li>")
    assert admin_client.post("/actions", data=form_of(mine, "like")).status_code == 303
    assert send(rt, Action.select().order_by(Action.id.desc()).first().id) == "sent"
    page_html = admin_client.get(story_url(topic, story)).get_data(as_text=True)
    assert ">Unlike</button>" in _section(page_html, f'id="comment-{fan.id}"', "</li>")
    assert ">Like</button>" in _section(page_html, f'id="engage-{story.id}"', "</section>")


def test_a_visitor_post_can_be_hidden_and_unhidden_but_not_the_pages_own(admin_client, topic, page, rt, emulator):
    visitor = Story.select().where(Story.stream == page.id, Story.author_id != BLUEBIRD).first()
    own = Story.select().where(Story.stream == page.id, Story.author_id == BLUEBIRD).first()
    assert visitor is not None and own is not None
    assert 'value="hide"' not in _section(admin_client.get(story_url(topic, own)).get_data(as_text=True),
                                          f'id="engage-{own.id}"', "</section>")
    buttons = _section(admin_client.get(story_url(topic, visitor)).get_data(as_text=True),
                       f'id="engage-{visitor.id}"', "</section>")
    assert ">Hide</button>" in buttons
    emulator("facebook", "DELETE", "/calls")
    assert admin_client.post("/actions", data=form_of(buttons, "hide")).status_code == 303
    assert send(rt, Action.get().id) == "sent" and Story.get_by_id(visitor.id).is_hidden
    assert graph_calls(emulator, f"POST /{visitor.external_id}") == 1
    buttons = _section(admin_client.get(story_url(topic, visitor)).get_data(as_text=True),
                       f'id="engage-{visitor.id}"', "</section>")
    assert ">Unhide</button>" in buttons and ">Hide</button>" not in buttons
    assert admin_client.post("/actions", data=form_of(buttons, "hide", undo=True)).status_code == 303
    assert send(rt, Action.select().order_by(Action.id.desc()).first().id) == "sent"
    assert not Story.get_by_id(visitor.id).is_hidden
    assert graph_calls(emulator, f"POST /{visitor.external_id}") == 2
