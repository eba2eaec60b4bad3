"""Engage on X: a reply to a post and a publish, each sent once however often its job
runs (counted by the X emulator's control API), stored at once and not duplicated by
the next crawl; X's 280 characters are counted before anything is recorded."""
import importlib

import emulators
import pytest
from twitter.x_helpers import REDIRECT_URI, Emulator, authorize

from webapp import engage
from webapp.crawl import crawl
from webapp.engage import EngageError
from webapp.models import Action, Comment, ConnectedProfile, Story, Stream
from webapp.send import send
from webapp.streams import Runtime
from factories import new_stream


@pytest.fixture
def x(emulator, emulator_urls):
    """The X emulator, also accepting the test helper's callback URL (until its reset)."""
    x = Emulator(emulator_urls["twitter"])
    callbacks = x.control("GET", "/app")["redirect_uris"]
    x.control("PUT", "/app", redirect_uris=[*callbacks, REDIRECT_URI])
    return x


@pytest.fixture
def rt(settings, plugins):
    return Runtime(settings, plugins)


@pytest.fixture
def own(x, emulator_urls, admin, topic, rt):
    """@acmecoffee as an authorized stream on its owner's connected profile, crawled."""
    config = importlib.import_module(emulators.EMULATORS["twitter"]).sandbox_config(emulator_urls["twitter"])
    token = authorize(x, config)
    me = x.user_id("acmecoffee")
    profile = ConnectedProfile.create(user=admin, service="twitter", external_id=me, name="Acme Coffee",
                                      access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                                      scopes=token.get("scope", "").replace(" ", ","))
    stream = new_stream(topic, service="twitter", page_id=me, name="Acme Coffee", handle="acmecoffee",
                        authorized=True, connected_profile=profile, status="active")
    crawl(rt, stream)
    return Stream.get_by_id(stream.id)


def tweets_posted(x) -> int:
    return x.counts().get("POST /2/tweets", 0)


def test_a_reply_and_a_post_are_sent_once_and_a_crawl_adds_no_copy(rt, x, own, admin, plugins):
    service = plugins.get("twitter").service
    story = Story.select().where(Story.stream == own.id).order_by(Story.created_at.desc()).first()
    assert story is not None, "the crawl stored no post"
    reply, _ = engage.submit(admin, own, service, "comment", engage.new_key(), text="Thanks, see you soon!",
                             story_id=story.id)
    post, _ = engage.submit(admin, own, service, "publish", engage.new_key(), text="Friday: new roast")
    assert reply.kind == "reply"  # X has no comments of its own: a reply to the post
    x.clear_counts()
    for _ in range(2):  # the job and its retry
        send(rt, reply.id)
        send(rt, post.id)
    assert tweets_posted(x) == 2, x.counts()
    reply, post = Action.get_by_id(reply.id), Action.get_by_id(post.id)
    assert reply.status == post.status == "sent", (reply.error, post.error)
    assert Comment.get(Comment.external_id == reply.external_id).story_external_id == story.external_id
    assert Story.get(Story.external_id == post.external_id).text == "Friday: new roast"
    crawl(rt, Stream.get_by_id(own.id))
    assert Comment.select().where(Comment.external_id == reply.external_id).count() == 1
    assert Story.select().where(Story.external_id == post.external_id).count() == 1


def test_x_counts_280_characters(own, admin, plugins):
    service = plugins.get("twitter").service
    assert service.text_limit == 280
    engage.submit(admin, own, service, "publish", engage.new_key(), text="é" * 280)  # characters, not bytes
    with pytest.raises(EngageError, match="X \\(Twitter\\) allows at most 280 characters; this text has 300"):
        engage.submit(admin, own, service, "publish", engage.new_key(), text="x" * 300)
    assert Action.select().count() == 1
