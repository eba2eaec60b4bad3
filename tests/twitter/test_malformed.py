"""Malformed answers of X end in the shared typed error, never a KeyError or ValueError.

The emulator answers the next call of an endpoint with a 200 whose body the test gives
(``/_control/malformed``); every hook must then raise ProviderUnavailable with the one
readable message, so the core retries instead of reporting a plugin bug.
"""
from __future__ import annotations

import logging
import types

import pytest

from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import Interaction, StreamRef

from .x_helpers import authorize

UNREADABLE = "X sent an answer Streamdesk could not read; it will be retried."
NOT_FOUND = {"errors": [{"value": "me", "detail": "Could not find user with id: [me].", "title": "Not Found Error",
                         "resource_type": "user", "parameter": "id", "resource_id": "me",
                         "type": "https://api.twitter.com/2/problems/resource-not-found"}]}


@pytest.fixture
def run(emulator, config, plugins_registry, owner, owner_stream):
    """Call one hook as the core does, with the connected @acmecoffee at hand."""

    def call(hook, **kwargs):
        result = plugins_registry.call(hook, "twitter", config, **kwargs)
        if isinstance(result, types.GeneratorType):
            return list(result)
        return result

    call.owner, call.stream, call.emulator, call.config = owner, owner_stream, emulator, config
    return call


def crawl(run, stream=None, credentials=None):
    stream = stream or run.stream
    return run("streamdesk_crawl", stream=stream, credentials=credentials or (run.owner if stream.authorized
                                                                              else None), cursor=None)


def public(run):
    return StreamRef(page_id=run.emulator.user_id("beanwire"), authorized=False, handle="beanwire")


def interact(run, **interaction):
    return run("streamdesk_interact", stream=run.stream, credentials=run.owner, interaction=Interaction(**interaction))


TWEET = {"id": "1790000000000000000", "text": "hello", "author_id": "1790000000000000001",
         "created_at": "2026-11-28T10:00:00.000Z"}

CASES = {
    # /2/users/me at 200 with only an errors array (link.py reads body["data"]).
    "users/me errors only, linking": (
        "GET /2/users/me", NOT_FOUND,
        lambda run: run("streamdesk_link_profile", token={"access_token": run.owner.access_token})),
    "users/me errors only, managed pages": (
        "GET /2/users/me", NOT_FOUND, lambda run: run("streamdesk_managed_pages", credentials=run.owner)),
    "users/me without an id": (
        "GET /2/users/me", {"data": {"name": "No Id", "username": "acmecoffee"}},
        lambda run: run("streamdesk_managed_pages", credentials=run.owner)),
    # A token answer without access_token (the refresh; the code exchange is tested below).
    "refresh without access_token": (
        "POST /2/oauth2/token", {"token_type": "bearer", "expires_in": 7200, "scope": "tweet.read"},
        lambda run: run("streamdesk_refresh", credentials=run.owner)),
    "refresh with a non-numeric expires_in": (
        "POST /2/oauth2/token", {"token_type": "bearer", "access_token": "x", "expires_in": "soon"},
        lambda run: run("streamdesk_refresh", credentials=run.owner)),
    # ["data"]["id"] after publish and reply.
    "publish without data.id": (
        "POST /2/tweets", {"data": {"text": "Open late tonight"}},
        lambda run: interact(run, kind="publish", text="Open late tonight")),
    "publish with errors only": (
        "POST /2/tweets", NOT_FOUND, lambda run: interact(run, kind="publish", text="Open late tonight")),
    "reply with a list as data": (
        "POST /2/tweets", {"data": []},
        lambda run: interact(run, kind="reply", target_id=run.emulator.tweet_ids("jane_doe")[0], text="Thanks!")),
    "like with a string as data": (
        "POST /2/users/:id/likes", {"data": "liked"},
        lambda run: interact(run, kind="like", target_id=run.emulator.tweet_ids("jane_doe")[0])),
    # Tweets and users without an id.
    "timeline tweet without id": (
        "GET /2/users/:id/tweets", {"data": [{"text": "no id"}], "meta": {"result_count": 1}}, crawl),
    "public timeline tweet without id": (
        "GET /2/users/:id/tweets", {"data": [{"text": "no id"}], "meta": {"result_count": 1}},
        lambda run: crawl(run, public(run))),
    "included user without id": (
        "GET /2/users/:id/tweets",
        {"data": [TWEET], "includes": {"users": [{"name": "No Id", "username": "noid"}]}, "meta": {"result_count": 1}},
        lambda run: crawl(run, public(run))),
    # Times X does not send: not RFC 3339, no offset (the zone would be guessed), not a string.
    "tweet with a created_at that is not a date": (
        "GET /2/users/:id/tweets", {"data": [{**TWEET, "created_at": "yesterday"}], "meta": {"result_count": 1}},
        crawl),
    "tweet with a created_at without its offset": (
        "GET /2/users/:id/tweets",
        {"data": [{**TWEET, "created_at": "2026-11-28T10:00:00.000"}], "meta": {"result_count": 1}}, crawl),
    "tweet with a created_at that is a number": (
        "GET /2/users/:id/tweets", {"data": [{**TWEET, "created_at": 1764324000}], "meta": {"result_count": 1}},
        lambda run: crawl(run, public(run))),
    "mentions with users that are not objects": (
        "GET /2/users/:id/mentions", {"data": [TWEET], "includes": {"users": ["noid"]}, "meta": {"result_count": 1}},
        crawl),
    "search result without id": (
        "GET /2/users/by/username/:username", {"data": {"name": "No Id", "username": "beanwire"}},
        lambda run: run("streamdesk_search", query="@beanwire", credentials=None)),
    "search result that is a list": (
        "GET /2/users/by/username/:username", {"data": ["beanwire"]},
        lambda run: run("streamdesk_search", query="@beanwire", credentials=None)),
    # A DM id that is not a number.
    "dm id not a number": (
        "GET /2/dm_events", {"data": [{"id": "not-a-number", "event_type": "MessageCreate", "text": "hi"}],
                             "meta": {"result_count": 1}}, crawl),
    "metrics with a string as data": (
        "GET /2/tweets", {"data": "nothing"},
        lambda run: run("streamdesk_metrics", stream=run.stream, credentials=run.owner,
                        story_ids=run.emulator.tweet_ids("acmecoffee")[:1], history_since=None)),
    "account figures with a list as data": (
        "GET /2/users/:id", {"data": []},
        lambda run: run("streamdesk_metrics", stream=run.stream, credentials=run.owner, story_ids=[],
                        history_since=None)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_answers_end_in_one_readable_error(run, case):
    endpoint, body, action = CASES[case]
    run.emulator.malformed(endpoint, body)
    with pytest.raises(ProviderUnavailable) as raised:
        action(run)
    assert raised.value.message == UNREADABLE
    assert run.emulator.counts().get(endpoint, 0) >= 1  # X was really asked, and answered 200


def test_the_reading_error_stays_in_the_log(run, caplog):
    run.emulator.malformed("GET /2/users/me", NOT_FOUND)
    with (caplog.at_level(logging.WARNING, logger="streamdesk_contract.pluginkit"),
          pytest.raises(ProviderUnavailable) as raised):
        run("streamdesk_managed_pages", credentials=run.owner)
    assert isinstance(raised.value.__cause__, KeyError)
    assert any("streamdesk_managed_pages" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_code_exchange_without_access_token(emulator, config, plugins_registry):
    emulator.malformed("POST /2/oauth2/token", {"token_type": "bearer", "expires_in": 7200, "scope": "tweet.read"})
    token = authorize(emulator, config)  # what the core's OAuth client received
    with pytest.raises(ProviderUnavailable) as raised:
        plugins_registry.call("streamdesk_link_profile", "twitter", config, token=token)
    assert raised.value.message == UNREADABLE
    assert "GET /2/users/me" not in emulator.counts()  # nothing to ask X with


def test_a_malformed_page_stops_the_crawl_where_it_is(emulator, config, plugins_registry, owner, owner_stream):
    emulator.malformed("GET /2/dm_events", {"data": [{"id": "x1", "text": "hi"}], "meta": {}})
    pages = plugins_registry.call("streamdesk_crawl", "twitter", config, stream=owner_stream, credentials=owner,
                                  cursor=None)
    assert isinstance(pages, types.GeneratorType)  # still lazy behind the guard
    stored = [next(pages) for _ in range(3)]  # timeline (two pages), mentions: stored with their cursors
    with pytest.raises(ProviderUnavailable):
        next(pages)
    # The retry resumes at the DMs, which X now answers properly.
    rest = list(plugins_registry.call("streamdesk_crawl", "twitter", config, stream=owner_stream,
                                      credentials=owner, cursor=stored[-1].cursor))
    assert len(rest) == 1 and len(rest[0].messages) == 9

