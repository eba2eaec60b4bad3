"""Crawling authorized and unauthorized X streams: rows, threading, cursors, call counts."""
from __future__ import annotations

import json
import time
import types

import pytest

from streamdesk_contract.errors import NotFound, ProviderUnavailable, RateLimited, TokenExpired
from streamdesk_contract.values import StreamRef

from .x_helpers import authorize


def crawl(plugins_registry, config, stream, credentials, cursor=None):
    pages = plugins_registry.call("streamdesk_crawl", "twitter", config, stream=stream,
                                  credentials=credentials, cursor=cursor)
    assert isinstance(pages, types.GeneratorType)  # lazy: nothing is fetched until asked
    return pages


def collect(pages):
    pages = list(pages)
    rows = types.SimpleNamespace(
        stories={s.external_id: s for p in pages for s in p.stories},
        comments={c.external_id: c for p in pages for c in p.comments},
        messages={m.external_id: m for p in pages for m in p.messages},
        cursor=pages[-1].cursor, pages=pages,
    )
    return rows


def test_full_crawl_of_the_connected_account(emulator, config, plugins_registry, owner, owner_stream):
    emulator.clear_counts()
    pages = crawl(plugins_registry, config, owner_stream, owner)
    assert emulator.counts() == {}
    rows = collect(pages)
    # Timeline (129 tweets: two pages of 100), mentions (one page), DMs (one page).
    assert emulator.counts() == {"GET /2/users/:id/tweets": 2, "GET /2/users/:id/mentions": 1,
                                 "GET /2/dm_events": 1}
    owner_id = owner_stream.page_id
    own = [s for s in rows.stories.values() if s.author_id == owner_id]
    assert len(own) == 120 and {s.raw_type for s in own} == {"tweet"}
    kinds = {s.raw_type for s in rows.stories.values() if s.author_id != owner_id}
    assert kinds == {"mention", "quote"}
    assert sum(s.raw_type == "quote" for s in rows.stories.values()) == 3  # the 4th quote does not mention
    assert not any("free beans" in s.text for s in rows.stories.values())  # suspended author
    # Replies are comments of their conversation's first tweet; answers to replies name their parent.
    assert len(rows.comments) >= 30
    assert all(c.story_id in rows.stories for c in rows.comments.values())
    nested = [c for c in rows.comments.values() if c.parent_id]
    assert nested and all(c.parent_id in rows.comments for c in nested)
    self_thread = [c for c in rows.comments.values() if c.text.startswith("(thread")]
    assert len(self_thread) == 3 and all(c.parent_id is None for c in self_thread)
    story = next(iter(own))
    assert story.url == f"{config.api_url}/acmecoffee/status/{story.external_id}"  # sandbox: the emulator
    assert story.created_at.tzinfo is not None and story.author_name == "Acme Coffee (@acmecoffee)"
    # Direct messages: the last 30 days of the three conversations.
    assert len(rows.messages) == 9
    jane = emulator.user_id("jane_doe")
    conversation = "-".join(sorted((owner_id, jane), key=int))
    assert sum(m.conversation_id == conversation for m in rows.messages.values()) == 4
    assert any(m.sender_name == "Jane Doe (@jane_doe)" for m in rows.messages.values())


def test_idle_recrawl_costs_two_calls(emulator, config, plugins_registry, owner, owner_stream):
    first = collect(crawl(plugins_registry, config, owner_stream, owner))
    emulator.clear_counts()
    idle = collect(crawl(plugins_registry, config, owner_stream, owner, first.cursor))
    assert emulator.counts() == {"GET /2/tweets/search/recent": 1, "GET /2/dm_events": 1}
    assert not idle.stories and not idle.comments and not idle.messages
    emulator.clear_counts()
    again = collect(crawl(plugins_registry, config, owner_stream, owner, idle.cursor))
    assert sum(emulator.counts().values()) == 2 and not again.stories


def test_recrawl_brings_new_tweets_replies_mentions_and_messages(emulator, config, plugins_registry, owner,
                                                                 owner_stream):
    first = collect(crawl(plugins_registry, config, owner_stream, owner))
    root = max((s.external_id for s in first.stories.values() if s.raw_type == "tweet"), key=int)
    reply = emulator.control("POST", "/tweets", author="dev_dan", text="Is it fair trade?", in_reply_to=root)
    answer = emulator.control("POST", "/tweets", author="acmecoffee", text="It is!", in_reply_to=reply["id"])
    mention = emulator.control("POST", "/tweets", author="sam_eats", text="Lunch coffee by @acmecoffee")
    post = emulator.control("POST", "/tweets", author="acmecoffee", text="Closed on Monday")
    elsewhere = emulator.control("POST", "/tweets", author="rivalroasters", text="Not about Acme")
    dm = emulator.control("POST", "/dms", sender="mia_reads", recipient="acmecoffee", text="Are you open?")
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, owner_stream, owner, first.cursor))
    assert sum(emulator.counts().values()) == 2
    assert set(rows.comments) == {reply["id"], answer["id"]}
    assert rows.comments[reply["id"]].story_id == root and rows.comments[reply["id"]].parent_id is None
    assert rows.comments[answer["id"]].story_id == root
    assert rows.comments[answer["id"]].parent_id == reply["id"]
    assert {mention["id"], post["id"]} <= set(rows.stories) and elsewhere["id"] not in rows.stories
    assert rows.stories[mention["id"]].raw_type == "mention"
    assert list(rows.messages) == [dm["id"]]
    # The next crawl has nothing new, and says so in two calls.
    emulator.clear_counts()
    idle = collect(crawl(plugins_registry, config, owner_stream, owner, rows.cursor))
    assert sum(emulator.counts().values()) == 2
    assert set(idle.stories) <= set(rows.stories) and not idle.messages


def test_a_crawl_stopped_after_any_page_resumes_without_loss(emulator, config, plugins_registry, owner,
                                                            owner_stream):
    full = collect(crawl(plugins_registry, config, owner_stream, owner))
    emulator.clear_counts()
    stories, comments, messages, cursor, steps = {}, {}, {}, None, 0
    while True:  # a worker killed after every page: each run stores one page and its cursor
        page = next(iter(crawl(plugins_registry, config, owner_stream, owner, cursor)))
        steps += 1
        stories |= {s.external_id: s for s in page.stories}
        comments |= {c.external_id: c for c in page.comments}
        messages |= {m.external_id: m for m in page.messages}
        cursor = page.cursor
        if "stage" not in json.loads(cursor):
            break
    assert steps == 4 and sum(emulator.counts().values()) == 4
    assert set(stories) == set(full.stories) and set(comments) == set(full.comments)
    assert set(messages) == set(full.messages)
    assert json.loads(cursor)["since"] == json.loads(full.cursor)["since"]


def test_a_long_pause_falls_back_to_the_timelines(emulator, config, plugins_registry, owner, owner_stream):
    cursor = json.loads(collect(crawl(plugins_registry, config, owner_stream, owner)).cursor)
    cursor["at"] = time.time() - 8 * 86400  # beyond what recent search reaches
    emulator.clear_counts()
    collect(crawl(plugins_registry, config, owner_stream, owner, json.dumps(cursor)))
    assert emulator.counts() == {"GET /2/users/:id/tweets": 1, "GET /2/users/:id/mentions": 1,
                                 "GET /2/dm_events": 1}


def test_without_dm_permission_messages_are_skipped(emulator, config, plugins_registry, owner_stream):
    token = authorize(emulator, config, scopes=("tweet.read", "users.read", "offline.access"))
    creds = plugins_registry.call("streamdesk_link_profile", "twitter", config, token=token).credentials
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, owner_stream, creds))
    assert rows.stories and not rows.messages and "GET /2/dm_events" not in emulator.counts()


def test_public_account_tracks_only_the_100_most_recent(emulator, config, plugins_registry):
    stream = StreamRef(page_id=emulator.user_id("rivalroasters"), authorized=False, handle="rivalroasters")
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, stream, None))
    assert emulator.counts() == {"GET /2/users/:id/tweets": 1}
    assert len(rows.pages) == 1 and len(rows.stories) == 100 and not rows.comments and not rows.messages
    assert set(rows.stories) == set(emulator.tweet_ids("rivalroasters")[:100])
    emulator.clear_counts()
    idle = collect(crawl(plugins_registry, config, stream, None, rows.cursor))
    assert emulator.counts() == {"GET /2/users/:id/tweets": 1} and not idle.stories
    new = emulator.control("POST", "/tweets", author="rivalroasters", text="Autumn blend is out")
    fresh = collect(crawl(plugins_registry, config, stream, None, idle.cursor))
    assert list(fresh.stories) == [new["id"]]


def test_public_account_keeps_retweets_and_skips_replies(emulator, config, plugins_registry):
    stream = StreamRef(page_id=emulator.user_id("beanwire"), authorized=False, handle="beanwire")
    rows = collect(crawl(plugins_registry, config, stream, None))
    kinds = {s.raw_type for s in rows.stories.values()}
    assert "retweet" in kinds and not rows.comments
    assert not any(s.text.startswith("@rivalroasters") for s in rows.stories.values())


def test_crawl_errors_are_typed(emulator, config, plugins_registry, owner, owner_stream):
    emulator.control("POST", "/tokens/expire", token=owner.access_token)
    with pytest.raises(TokenExpired):
        collect(crawl(plugins_registry, config, owner_stream, owner))
    unknown = StreamRef(page_id="1234567890", authorized=False, handle="gone")
    with pytest.raises(NotFound):
        collect(crawl(plugins_registry, config, unknown, None))
    locked = StreamRef(page_id=emulator.user_id("lockedlucy"), authorized=False, handle="lockedlucy")
    with pytest.raises(NotFound) as protected:
        collect(crawl(plugins_registry, config, locked, None))
    assert "protected" in protected.value.message
    public = StreamRef(page_id=emulator.user_id("beanwire"), authorized=False, handle="beanwire")
    emulator.control("POST", "/fail", status=500, count=1)
    with pytest.raises(ProviderUnavailable):
        collect(crawl(plugins_registry, config, public, None))
    emulator.control("POST", "/fail", status=429, count=1)
    with pytest.raises(RateLimited) as limited:
        collect(crawl(plugins_registry, config, public, None))
    assert 0 < limited.value.retry_after <= 900


def test_rate_limit_headers_are_honoured_before_the_limit_is_hit(emulator, config, plugins_registry, owner,
                                                                 owner_stream):
    # One call left in the timeline window: the first page uses it, the second is not sent.
    emulator.control("POST", "/rate_limit", endpoint="GET /2/users/:id/tweets", user="acmecoffee", remaining=1)
    emulator.clear_counts()
    pages = crawl(plugins_registry, config, owner_stream, owner)
    first = next(pages)
    assert len(first.stories) + len(first.comments) == 100
    with pytest.raises(RateLimited) as limited:
        next(pages)
    assert 800 < limited.value.retry_after <= 900
    assert emulator.counts() == {"GET /2/users/:id/tweets": 1}
    # When the window resets, the crawl resumes from the stored cursor, second page first.
    emulator.control("POST", "/rate_limit", endpoint="GET /2/users/:id/tweets", user="acmecoffee", remaining=900)
    from plugins.twitter.client import RATES

    RATES.clear()  # stands for the reset time having passed
    rest = collect(crawl(plugins_registry, config, owner_stream, owner, first.cursor))
    second = rest.pages[0]  # the timeline's second page, not its first again
    assert second.stories and not {s.external_id for s in second.stories} & {s.external_id for s in first.stories}
    assert emulator.counts()["GET /2/users/:id/tweets"] == 2
