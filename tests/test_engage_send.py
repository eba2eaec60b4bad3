"""Engage, below the UI: an action is recorded once per form key and sent once per
action, whatever runs twice — against the Facebook emulator over real HTTP, counted by
its control API; what was sent is stored at once and a crawl after it adds no copy."""
import re
import threading

import pytest
import requests
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token

from webapp import engage
from webapp.crawl import crawl
from webapp.engage import EngageError
from webapp.models import Action, Comment, Story, Stream
from webapp.send import send
from webapp.streams import Runtime
from factories import new_stream


def graph_calls(emulator, what: str) -> int:
    """How many Graph calls the emulator served (its control API counts them per
    ``METHOD /path``) with ``what``'s method and a path ending like ``what``'s."""
    method, tail = what.split(" ", 1)
    counted = emulator("facebook", "GET", "/calls")["calls"]
    return sum(n for call, n in counted.items() if call.startswith(f"{method} ") and call.endswith(tail))


@pytest.fixture
def rt(settings, plugins):
    return Runtime(settings, plugins)


@pytest.fixture
def fb(plugins):
    return plugins.get("facebook").service


@pytest.fixture
def page(topic, emulator, emulator_urls, admin):
    """Bluebird Coffee as an authorized stream with its page token, crawled once."""
    return authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                             "Bluebird Coffee")


@pytest.fixture
def story(rt, page):
    crawl(rt, page)
    return Story.select().where(Story.stream == page.id).order_by(Story.created_at.desc()).first()


def comment_on(admin, page, fb, story, text="Thanks for dropping by!", key=None):
    return engage.submit(admin, page, fb, "comment", key or engage.new_key(), text=text, story_id=story.id)


def test_the_same_form_twice_is_one_action(admin, page, fb, story):
    key = engage.new_key()
    first, created = comment_on(admin, page, fb, story, key=key)
    again, created_again = comment_on(admin, page, fb, story, key=key)
    assert (created, created_again) == (True, False)
    assert again.id == first.id and Action.select().count() == 1
    assert first.status == "queued" and first.target_id == story.external_id and first.user_id == admin.id


def test_a_job_run_twice_calls_facebook_once_and_the_comment_shows_at_once(rt, admin, page, fb, story, emulator):
    action, _ = comment_on(admin, page, fb, story)
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "sent"
    assert send(rt, action.id) == "sent"  # a worker retry: finds it sent, calls nothing
    assert graph_calls(emulator, "POST /comments") == 1
    action = Action.get_by_id(action.id)
    assert action.attempts == 1 and action.external_id and action.sent_at is not None
    shown = Comment.get(Comment.external_id == action.external_id)
    assert shown.text == "Thanks for dropping by!" and shown.story_external_id == story.external_id
    assert shown.author_id == BLUEBIRD
    # the next crawl finds it on Facebook and updates the same row
    crawl(rt, Stream.get_by_id(page.id))
    assert Comment.select().where(Comment.external_id == action.external_id).count() == 1


def test_two_jobs_at_once_call_facebook_once(rt, admin, page, fb, story, emulator, app):
    action, _ = comment_on(admin, page, fb, story, text="Two jobs, one comment")
    emulator("facebook", "DELETE", "/calls")
    results, barrier = [], threading.Barrier(4)
    db = app.extensions["streamdesk.db"]

    def job():
        with db.connection_context():
            barrier.wait()
            results.append(send(rt, action.id))

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert graph_calls(emulator, "POST /comments") == 1
    assert results.count("sent") >= 1 and set(results) <= {"sent", "sending"}
    assert Comment.select().where(Comment.text == "Two jobs, one comment").count() == 1


def test_a_job_that_died_after_claiming_is_not_sent_again(rt, admin, page, fb, story, emulator):
    action, _ = comment_on(admin, page, fb, story)
    Action.update(status="sending", claimed_at=Action.created_at).where(Action.id == action.id).execute()
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "sending"
    assert graph_calls(emulator, "POST /comments") == 0
    assert not engage.retry(Action.get_by_id(action.id))  # only a failed action is retried


def test_publish_stores_the_post_and_counts_it(rt, admin, page, fb, emulator):
    crawl(rt, page)
    before = Stream.get_by_id(page.id).story_count
    action, _ = engage.submit(admin, page, fb, "publish", engage.new_key(), text="New roast on Friday")
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /feed") == 1
    action = Action.get_by_id(action.id)
    assert Story.get(Story.external_id == action.external_id).text == "New roast on Friday"
    assert Stream.get_by_id(page.id).story_count == before + 1
    crawl(rt, Stream.get_by_id(page.id))
    assert Story.select().where(Story.external_id == action.external_id).count() == 1
    assert Stream.get_by_id(page.id).story_count == before + 1


def test_hide_and_delete_change_the_stored_thread(rt, admin, page, fb, story):
    comment = Comment.select().where(Comment.stream == page.id, Comment.author_id != BLUEBIRD).first()
    hide, _ = engage.submit(admin, page, fb, "hide", engage.new_key(), comment_id=comment.id)
    assert send(rt, hide.id) == "sent" and Comment.get_by_id(comment.id).is_hidden
    unhide, _ = engage.submit(admin, page, fb, "hide", engage.new_key(), undo=True, comment_id=comment.id)
    assert send(rt, unhide.id) == "sent" and not Comment.get_by_id(comment.id).is_hidden
    delete, _ = engage.submit(admin, page, fb, "delete", engage.new_key(), comment_id=comment.id)
    assert send(rt, delete.id) == "sent"
    assert Comment.get_or_none(Comment.id == comment.id) is None


def test_a_target_deleted_on_facebook_fails_readably_and_retry_reuses_the_row(rt, admin, page, fb, story,
                                                                             emulator):
    comment = Comment.select().where(Comment.stream == page.id, Comment.author_id != BLUEBIRD).first()
    gone, _ = engage.submit(admin, page, fb, "delete", engage.new_key(), comment_id=comment.id)
    assert send(rt, gone.id) == "sent"
    # The form of another tab still shows the comment: its reply fails, readably.
    reply, _ = engage.submit(admin, page, fb, "reply", engage.new_key(), text="Still there?",
                             story_id=story.id)
    Action.update(target_id=comment.external_id).where(Action.id == reply.id).execute()
    assert send(rt, reply.id) == "failed"
    failed = Action.get_by_id(reply.id)
    assert failed.error_kind in ("gone", "invalid", "provider"), failed.error
    assert failed.error and "Traceback" not in failed.error
    assert engage.retry(failed) and Action.get_by_id(reply.id).status == "queued"
    assert Action.get_by_id(reply.id).key == failed.key and Action.select().count() == 2


def test_a_token_expired_between_render_and_send(rt, admin, page, fb, story, emulator, emulator_urls):
    action, _ = comment_on(admin, page, fb, story, text="After the reconnect")
    emulator("facebook", "POST", "/tokens/expire", token=page.access_token)
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    failed = Action.get_by_id(action.id)
    assert failed.error_kind == "expired" and "reconnect" in failed.error.lower()
    assert Stream.get_by_id(page.id).status == "expired"
    assert graph_calls(emulator, "POST /comments") == 1  # refused by Facebook: nothing was created
    # a retry before the reconnect is refused without calling Facebook
    assert engage.retry(failed) and send(rt, action.id) == "failed"
    assert graph_calls(emulator, "POST /comments") == 1
    # reconnect: a new page token, the stream active again; the retry sends it once
    token = page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX)
    Stream.update(access_token=token, status="active", status_message=None).where(Stream.id == page.id).execute()
    assert engage.retry(Action.get_by_id(action.id)) and send(rt, action.id) == "sent"
    assert send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /comments") == 2
    assert Comment.select().where(Comment.text == "After the reconnect").count() == 1


def test_bad_input_is_refused_before_anything_is_recorded(admin, page, fb, story, plugins, topic):
    with pytest.raises(EngageError, match="empty"):
        comment_on(admin, page, fb, story, text="   ")
    x = plugins.get("twitter").service
    own_x = new_stream(topic, service="twitter", page_id="42", name="Bluebird on X", authorized=True,
                       status="active")
    with pytest.raises(EngageError, match="at most 280 characters; this text has 281"):
        engage.submit(admin, own_x, x, "publish", engage.new_key(), text="x" * 281)
    public = new_stream(topic, service="facebook", page_id="999", name="Rival Roasters", status="active")
    with pytest.raises(EngageError, match="unauthorized stream") as refused:
        engage.submit(admin, public, fb, "like", engage.new_key(), story_id=story.id)
    assert refused.value.status == 403
    with pytest.raises(EngageError, match="valid key"):
        engage.submit(admin, page, fb, "like", "short", story_id=story.id)
    with pytest.raises(EngageError, match="not in this stream"):
        engage.submit(admin, page, fb, "like", engage.new_key(), story_id=story.id + 10**6)
    assert Action.select().count() == 0
    assert engage.kind_for(x, "comment") == "reply" and "comment" in engage.allowed(own_x, x)


def test_an_action_the_web_could_not_queue_is_queued_by_the_schedule_once(admin, page, fb, story, environ,
                                                                         clean_redis, monkeypatch):
    """Without a reachable queue the action waits as queued; the cron pass queues its
    job once, however many passes run."""
    import datetime

    import redis
    from rq import Queue

    from webapp.runtime import runtime
    from webapp.send import WAITING_AFTER, enqueue_waiting_actions

    action, _ = comment_on(admin, page, fb, story)
    assert not engage.queue_send(_no_queue(environ), action)  # no REDIS_URL: nothing queued
    for name, value in {**environ, "REDIS_URL": clean_redis}.items():
        monkeypatch.setenv(name, value)
    runtime.cache_clear()
    try:
        assert enqueue_waiting_actions() == 0  # not waiting long enough yet
        Action.update(created_at=action.created_at - datetime.timedelta(seconds=WAITING_AFTER + 1)).execute()
        assert enqueue_waiting_actions() == 1
        assert enqueue_waiting_actions() == 0  # its job is queued already
    finally:
        runtime.cache_clear()
    jobs = Queue("default", connection=redis.Redis.from_url(clean_redis)).job_ids
    assert jobs == [engage.job_id(action)]


def _no_queue(environ):
    from webapp.config import load_settings

    return load_settings({k: v for k, v in environ.items() if k != "REDIS_URL"})


@pytest.fixture
def forget_pauses():
    """This process's memory of rate-limit pauses (the core's and the Facebook plugin's
    usage readings), emptied after the test: else the page stays paused for the next."""
    from plugins.facebook import usage

    from webapp.runtime import shared_pauses

    yield
    shared_pauses.cache_clear()
    usage.forget()


def test_a_rate_limit_fails_readably_with_the_time_to_retry(rt, admin, page, fb, story, emulator, emulator_urls,
                                                            forget_pauses):
    requests.post(f"{emulator_urls['facebook']}/_control/faults", timeout=10, json=dict(
        kind="rate_limit", code=32, regain_minutes=5, path=f"/v25.0/{story.external_id}/comments")).raise_for_status()
    action, _ = comment_on(admin, page, fb, story)
    assert send(rt, action.id) == "failed"
    failed = Action.get_by_id(action.id)
    assert failed.error_kind == "rate"
    assert re.search(r"^Facebook rate limited this until \d\d:\d\d UTC: nothing was sent\. Retry after that\.$",
                     failed.error), failed.error


def test_a_role_without_the_task_is_refused_in_the_seeds_words(rt, admin, page, fb, story, emulator):
    from plugins.facebook.rules import SCOPES

    Stream.update(scopes=",".join((*SCOPES, "task:ANALYZE"))).where(Stream.id == page.id).execute()
    action, _ = comment_on(admin, Stream.get_by_id(page.id), fb, story)
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    failed = Action.get_by_id(action.id)
    assert failed.error_kind == "permission" and "Ask an Admin of the page" in failed.error, failed.error
    assert emulator("facebook", "GET", "/calls")["total"] == 0


def test_a_5xx_while_commenting_is_not_confirmed_and_sent_again_only_on_send_anyway(rt, admin, page, fb, story,
                                                                                     emulator, emulator_urls, app):
    requests.post(f"{emulator_urls['facebook']}/_control/faults", timeout=10, json=dict(
        kind="transient", code=2, path=f"/v25.0/{story.external_id}/comments")).raise_for_status()
    action, _ = comment_on(admin, page, fb, story, text="Did this arrive?")
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "unconfirmed"
    assert graph_calls(emulator, "POST /comments") == 1
    held = Action.get_by_id(action.id)
    assert held.status == "unconfirmed" and engage.unconfirmed(held)
    assert "check the thread" in held.error
    # neither Retry nor a second job sends it: only the explicit click does
    assert not engage.retry(held)
    assert send(rt, action.id) == "unconfirmed"
    assert graph_calls(emulator, "POST /comments") == 1
    with app.test_request_context():
        from webapp.views.engage import _status
        html, _ = _status(held, None)
    assert "Send anyway" in html and ">Retry<" not in html
    assert engage.send_anyway(held)
    assert not engage.send_anyway(Action.get_by_id(action.id))  # a second click queues nothing more
    assert send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /comments") == 2
    sent = Action.get_by_id(action.id)
    assert sent.key == held.key and sent.attempts == 2 and sent.external_id


def test_a_5xx_while_liking_fails_with_retry(rt, admin, page, fb, story, emulator, emulator_urls, app):
    requests.post(f"{emulator_urls['facebook']}/_control/faults", timeout=10, json=dict(
        kind="transient", code=2, path=f"/v25.0/{story.external_id}/likes")).raise_for_status()
    action, _ = engage.submit(admin, page, fb, "like", engage.new_key(), story_id=story.id)
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    assert graph_calls(emulator, "POST /likes") == 1
    failed = Action.get_by_id(action.id)
    assert failed.error_kind == "provider" and not engage.unconfirmed(failed)
    assert not engage.send_anyway(failed)
    with app.test_request_context():
        from webapp.views.engage import _status
        html, _ = _status(failed, None)
    assert ">Retry<" in html and "Send anyway" not in html
    assert engage.retry(failed)
    assert send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /likes") == 2


def test_a_duplicate_post_is_refused_in_facebooks_words_and_sent_once(rt, admin, page, fb, emulator):
    first, _ = engage.submit(admin, page, fb, "publish", engage.new_key(), text="Open until 8 tonight")
    assert send(rt, first.id) == "sent"
    emulator("facebook", "DELETE", "/calls")
    again, _ = engage.submit(admin, page, fb, "publish", engage.new_key(), text="Open until 8 tonight")
    assert send(rt, again.id) == "failed"  # the emulator answers 506 "Duplicate status message"
    assert send(rt, again.id) == "failed"  # a worker retry sends nothing more
    assert graph_calls(emulator, f"POST /{BLUEBIRD}/feed") == 1
    failed = Action.get_by_id(again.id)
    assert failed.error_kind == "invalid"
    assert failed.error == "Facebook refused this post because it is identical to a recent one."
    assert Story.select().where(Story.text == "Open until 8 tonight").count() == 1


def test_a_duplicate_comment_injected_as_506_is_refused_readably(rt, admin, page, fb, story, emulator, emulator_urls):
    requests.post(f"{emulator_urls['facebook']}/_control/faults", timeout=10, json=dict(
        kind="error", code=506, path=f"/v25.0/{story.external_id}/comments")).raise_for_status()
    action, _ = comment_on(admin, page, fb, story, text="Same as before")
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    assert graph_calls(emulator, "POST /comments") == 1
    failed = Action.get_by_id(action.id)
    assert (failed.error_kind, failed.error) == ("invalid", "Facebook refused this post because it is identical "
                                                            "to a recent one.")
    assert Comment.select().where(Comment.text == "Same as before").count() == 0


def test_posting_too_fast_is_refused_in_the_seeds_words_with_the_time_to_retry(rt, admin, page, fb, story,
                                                                              emulator, emulator_urls,
                                                                              forget_pauses):
    requests.post(f"{emulator_urls['facebook']}/_control/faults", timeout=10, json=dict(
        kind="posting_too_fast", path=f"/v25.0/{story.external_id}/comments")).raise_for_status()
    action, _ = comment_on(admin, page, fb, story, text="One more!")
    emulator("facebook", "DELETE", "/calls")
    assert send(rt, action.id) == "failed"
    assert graph_calls(emulator, "POST /comments") == 1
    failed = Action.get_by_id(action.id)
    assert failed.error_kind == "rate"
    assert re.fullmatch(r"Facebook has temporarily blocked this page from posting because it was posting too "
                        r"fast: nothing was sent\. Retry after \d\d:\d\d UTC\.", failed.error), failed.error
    # Retry reuses the row; once Facebook lets the page post again it is sent once
    assert engage.retry(failed) and send(rt, action.id) == "sent"
    assert graph_calls(emulator, "POST /comments") == 2
    assert Comment.select().where(Comment.text == "One more!").count() == 1


def test_a_hidden_comment_takes_no_reply_or_like_until_unhidden(rt, admin, page, fb, story, emulator):
    fan = Comment.select().where(Comment.stream == page.id, Comment.author_id != BLUEBIRD).first()
    hide, _ = engage.submit(admin, page, fb, "hide", engage.new_key(), comment_id=fan.id)
    assert send(rt, hide.id) == "sent"
    emulator("facebook", "DELETE", "/calls")
    for kind, text in (("reply", "Hello?"), ("like", "")):
        with pytest.raises(EngageError, match="That comment is hidden: .* Unhide it first.") as refused:
            engage.submit(admin, page, fb, kind, engage.new_key(), text=text, comment_id=fan.id)
        assert refused.value.status == 409
    assert Action.select().count() == 1 and emulator("facebook", "GET", "/calls")["total"] == 0
    unhide, _ = engage.submit(admin, page, fb, "hide", engage.new_key(), undo=True, comment_id=fan.id)
    assert send(rt, unhide.id) == "sent"
    reply, _ = engage.submit(admin, page, fb, "reply", engage.new_key(), text="Hello?", comment_id=fan.id)
    assert send(rt, reply.id) == "sent"
    assert graph_calls(emulator, f"POST /{fan.external_id}/comments") == 1
