"""Crawling stories, comments and messages: completeness, call counts, incremental
re-crawls, the 100-most-recent rule for public pages, and resuming after a crash."""
import dataclasses
import json
import math
from dataclasses import dataclass, field

import pytest

from plugins.facebook import crawl as crawl_module
from plugins.facebook.cursor import FEED_LIMIT
from plugins.facebook.messages import NESTED_MESSAGES
from streamdesk_contract.values import CrawlPage

from .conftest import ACME, BLUEBIRD, authorized, public


@dataclass
class Drained:
    stories: dict = field(default_factory=dict)
    comments: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    cursor: str | None = None
    pages: int = 0


def drain(pages, into: Drained | None = None, stop_after: int | None = None) -> Drained:
    """Consume CrawlPages as the core does, keeping the last cursor (optionally stopping
    early, like a worker killed between two pages)."""
    out = into or Drained()
    for n, page in enumerate(pages):
        assert isinstance(page, CrawlPage) and isinstance(page.cursor, str)
        out.stories.update({s.external_id: s for s in page.stories})
        out.comments.update({c.external_id: c for c in page.comments})
        out.messages.update({m.external_id: m for m in page.messages})
        out.cursor = page.cursor
        out.pages += 1
        if stop_after is not None and n + 1 >= stop_after:
            break
    return out


def crawl(plugins, config, stream, credentials, cursor=None):
    return plugins.call("streamdesk_crawl", "facebook", config, stream=stream, credentials=credentials,
                        cursor=cursor)


def visible_comments(world, story, own: bool) -> list:
    """The comments a token sees: the page's own token sees hidden ones too."""
    comments = world.comments(story.id)
    if own:
        return comments
    hidden = {c.id for c in comments if c.is_hidden}
    return [c for c in comments if c.id not in hidden and c.parent_id not in hidden]


def expected_full_crawl_calls(world, stories, own: bool = True) -> int:
    """Feed pages of 100, then one call per further 100 comments beyond the 25 nested."""
    calls = math.ceil(len(stories) / FEED_LIMIT)
    for story in stories:
        extra = len(visible_comments(world, story, own)) - crawl_module.NESTED_COMMENTS
        calls += max(0, math.ceil(extra / crawl_module.MORE_LIMIT))
    return calls


def test_full_authorized_crawl_is_complete_and_counted(fb, fb_plugins, config, page_credentials):
    world = fb.state.world
    credentials = page_credentials()
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, authorized(), credentials))
    stories = world.posts(BLUEBIRD)
    assert set(got.stories) == {p.id for p in stories}  # including visitor posts
    assert any(s.author_id != BLUEBIRD for s in got.stories.values())
    all_comments = {c.id: c for p in stories for c in world.comments(p.id)}
    assert set(got.comments) == set(all_comments)  # replies and hidden ones included
    assert {c.external_id for c in got.comments.values() if c.parent_id} == \
        {i for i, c in all_comments.items() if c.parent_id}
    assert {i for i, c in got.comments.items() if c.is_hidden} == {i for i, c in all_comments.items() if c.is_hidden}
    conversations = world.conversations(BLUEBIRD)
    assert set(got.messages) == {m.id for c in conversations for m in c.messages}
    calls = fb.calls()
    expected = expected_full_crawl_calls(world, stories) + sum(
        max(0, math.ceil((len(c.messages) - NESTED_MESSAGES) / crawl_module.MORE_LIMIT))
        for c in conversations)
    assert sum(calls.values()) == expected == 10
    # The first call brings the newest 100 stories and the inbox; two more the older stories.
    assert calls[f"GET /v25.0/{BLUEBIRD}"] == 1 and calls[f"GET /v25.0/{BLUEBIRD}/feed"] == 2
    assert f"GET /v25.0/{BLUEBIRD}/conversations" not in calls
    # Idle re-crawls: the newest page with the inbox, and (every post being over 30 days
    # old) one older page revisited per crawl until the daily round is done; nothing new.
    cursor = got.cursor
    for swept in (1, 1, 0, 0):
        fb.clear_calls()
        idle = drain(crawl(fb_plugins, config, authorized(), credentials, cursor))
        assert (idle.stories, idle.comments, idle.messages) == ({}, {}, {})
        assert fb.calls() == {f"GET /v25.0/{BLUEBIRD}": 1} | ({f"GET /v25.0/{BLUEBIRD}/feed": 1} if swept else {})
        cursor = idle.cursor or cursor  # no page: the core keeps the stored cursor


def test_story_values_keep_the_story_not_the_object(fb, fb_plugins, config, page_credentials):
    got = drain(crawl(fb_plugins, config, authorized(), page_credentials()))
    shared = next(s for s in got.stories.values() if s.raw_type == "shared_story")
    # Sandbox mode links the story's page on the emulator; otherwise Facebook's permalink.
    assert shared.url == f"{fb.url}/_web/posts/{shared.external_id}"
    real = drain(crawl(fb_plugins, dataclasses.replace(config, sandbox=False), authorized(), page_credentials()))
    assert real.stories[shared.external_id].url.startswith("https://www.facebook.com/bluebirdcoffee/posts/")
    assert shared.created_at.tzinfo is not None and shared.updated_at >= shared.created_at
    assert shared.text  # the post's message, or Facebook's story line when it has none
    reply = next(c for c in got.comments.values() if c.parent_id)
    assert reply.story_id in got.stories and reply.parent_id in got.comments
    message = next(iter(got.messages.values()))
    assert message.conversation_id.startswith("t_") and message.sender_id and message.text


def test_unauthorized_crawl_tracks_only_the_100_most_recent_posts(fb, fb_plugins, config):
    world = fb.state.world
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, public(ACME), None))
    recent = world.posts(ACME)[:100]
    assert len(world.posts(ACME)) == 180 and set(got.stories) == {p.id for p in recent}
    visible = {c.id for p in recent for c in visible_comments(world, p, own=False)}
    assert set(got.comments) == visible and got.messages == {}
    fan_comment = next(c for c in got.comments.values() if c.author_id is None)
    assert fan_comment.author_name is None  # Facebook hides commenters from other apps' tokens
    assert fb.total_calls() == expected_full_crawl_calls(world, recent, own=False)
    fb.clear_calls()
    idle = drain(crawl(fb_plugins, config, public(ACME), None, got.cursor))
    assert (idle.stories, idle.comments) == ({}, {}) and fb.total_calls() == 1


def test_incremental_crawl_picks_up_new_stories_comments_replies_and_messages(
        fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    first = drain(crawl(fb_plugins, config, authorized(), credentials))
    world = fb.state.world
    old_story = world.posts(BLUEBIRD)[40]
    old_comment = next(c for p in world.posts(BLUEBIRD)[:60] for c in world.comments(p.id) if not c.parent_id)
    new_story = fb.control("posts", page_id=BLUEBIRD, message="Pumpkin spice is back")["id"]
    visitor_story = fb.control("posts", page_id=BLUEBIRD, message="Great shop!", author_id=old_comment.author_id)["id"]
    comment = fb.control("comments", post_id=old_story.id, message="Still available?")["id"]
    reply = fb.control("comments", parent_id=old_comment.id, message="+1")["id"]
    convo = world.conversations(BLUEBIRD)[3].id
    message = fb.control("messages", page_id=BLUEBIRD, conversation_id=convo, message="Hello again")["id"]
    new_convo = fb.control("messages", page_id=BLUEBIRD, message="First time writing")
    fb.clear_calls()
    second = drain(crawl(fb_plugins, config, authorized(), credentials, first.cursor))
    assert set(second.stories) == {new_story, visitor_story, old_story.id, old_comment.post_id}
    assert set(second.comments) == {comment, reply}
    assert second.comments[reply].parent_id == old_comment.id
    assert set(second.messages) == {message, new_convo["id"]}
    assert second.messages[message].conversation_id == convo
    assert fb.total_calls() == 2
    fb.clear_calls()
    third = drain(crawl(fb_plugins, config, authorized(), credentials, second.cursor))
    assert (third.stories, third.comments, third.messages) == ({}, {}, {}) and fb.total_calls() == 2


def test_many_new_stories_are_all_read_for_owned_pages(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    first = drain(crawl(fb_plugins, config, authorized(), credentials))
    added = {fb.control("posts", page_id=BLUEBIRD, message=f"Flash sale #{n}")["id"] for n in range(130)}
    fb.clear_calls()
    second = drain(crawl(fb_plugins, config, authorized(), credentials, first.cursor))
    assert set(second.stories) == added
    assert fb.calls()[f"GET /v25.0/{BLUEBIRD}/feed"] == 2


def test_public_pages_keep_to_the_100_most_recent_even_after_a_burst(fb, fb_plugins, config):
    first = drain(crawl(fb_plugins, config, public(ACME), None))
    added = {fb.control("posts", page_id=ACME, message=f"Deal {n}")["id"] for n in range(130)}
    fb.clear_calls()
    second = drain(crawl(fb_plugins, config, public(ACME), None, first.cursor))
    most_recent = {p.id for p in fb.state.world.posts(ACME)[:100]}
    assert most_recent < added and set(second.stories) == most_recent and fb.total_calls() == 1


@pytest.mark.parametrize("stop_after", [1, 2, 3, 6])
def test_a_crawl_killed_between_pages_resumes_without_loss(fb, fb_plugins, config, page_credentials, stop_after):
    credentials = page_credentials()
    complete = drain(crawl(fb_plugins, config, authorized(), credentials))
    partial = drain(crawl(fb_plugins, config, authorized(), credentials), stop_after=stop_after)
    resumed = drain(crawl(fb_plugins, config, authorized(), credentials, partial.cursor), into=partial)
    assert set(resumed.stories) == set(complete.stories)
    assert set(resumed.comments) == set(complete.comments)
    assert set(resumed.messages) == set(complete.messages)


def test_crawl_is_lazy_and_streams_page_by_page(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.clear_calls()
    pages = crawl(fb_plugins, config, authorized(), credentials)
    assert fb.total_calls() == 0  # nothing fetched until the core asks for the first page
    first = next(pages)
    assert fb.total_calls() == 1 and len(first.stories) == 100
    pages.close()
    assert fb.total_calls() == 1  # the other 130 stories were never fetched


def test_cursor_holds_no_token_and_urls_carry_none(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.clear_calls()
    got = drain(crawl(fb_plugins, config, authorized(), credentials))
    got = drain(crawl(fb_plugins, config, authorized(), credentials, got.cursor), into=got)
    # The emulator checks every query parameter of every call for a token or the app secret.
    assert fb.control("calls", "GET")["tokens_in_urls"] == 0  # sent in the Authorization header
    logged = fb.requests()
    assert len(logged) == fb.total_calls() and all("<secret>" not in r["query"].values() for r in logged)
    assert all(r["token"] == "PAGE" for r in logged)
    # Three revisit bands with their floors: a few hundred bytes each, whatever the page's size.
    assert credentials.access_token not in got.cursor and len(got.cursor) < 1000
    assert set(json.loads(got.cursor)) == {"v", "s", "si", "g", "w", "m", "mi", "l"}


def test_garbled_cursor_starts_over(fb, fb_plugins, config):
    got = drain(crawl(fb_plugins, config, public(ACME), None, cursor="{not json"))
    assert len(got.stories) == 100
