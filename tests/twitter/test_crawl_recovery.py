"""Crawls that must recover on their own: an app without recent search, passes stopped too
long ago, unreadable cursors, authorized streams without a token."""
from __future__ import annotations

import json
import time

import pytest
import requests

from emulators.twitter import APP_TOKEN
from streamdesk_contract.errors import PermissionMissing, ProviderUnavailable, TokenExpired
from streamdesk_contract.values import StreamRef

from .test_crawl import collect, crawl
from .x_helpers import authorize

SEARCH = "GET /2/tweets/search/recent"
FULL = {"GET /2/users/:id/tweets": 2, "GET /2/users/:id/mentions": 1, "GET /2/dm_events": 1}
TIMELINES = {"GET /2/users/:id/tweets": 1, "GET /2/users/:id/mentions": 1, "GET /2/dm_events": 1}


@pytest.fixture
def idle_cursor(emulator, config, plugins_registry, owner, owner_stream) -> str:
    """The cursor after a complete crawl: the next one is a live pass (recent search)."""
    cursor = collect(crawl(plugins_registry, config, owner_stream, owner)).cursor
    emulator.clear_counts()
    return cursor


# -- 2. an access level without recent search -------------------------------------------

def test_the_emulator_refuses_recent_search_like_x(emulator, owner):
    emulator.refuse(SEARCH)
    for token in (APP_TOKEN, owner.access_token):
        refused = requests.get(f"{emulator.url}/2/tweets/search/recent", params={"query": "@acmecoffee"},
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        body = refused.json()
        assert body["type"] == "https://api.twitter.com/2/problems/client-forbidden"
        assert body["reason"] == "client-not-enrolled" and body["title"] == "Client Forbidden"
        assert body["client_id"].isdigit() and "attached to a Project" in body["detail"]
    emulator.refuse(SEARCH, None)
    assert requests.get(f"{emulator.url}/2/tweets/search/recent", params={"query": "@acmecoffee"}, timeout=10,
                        headers={"Authorization": f"Bearer {APP_TOKEN}"}).status_code == 200


@pytest.mark.parametrize("refusal", ["client-forbidden", "unsupported-authentication"])
def test_without_recent_search_live_passes_use_the_timelines(emulator, config, plugins_registry, owner,
                                                             owner_stream, idle_cursor, refusal):
    emulator.refuse(SEARCH, refusal)
    mention = emulator.control("POST", "/tweets", author="sam_eats", text="Lunch coffee by @acmecoffee")
    post = emulator.control("POST", "/tweets", author="acmecoffee", text="Closed on Monday")
    rows = collect(crawl(plugins_registry, config, owner_stream, owner, idle_cursor))
    # One refused search, then the timeline and mentions calls of a backfill from `since`.
    assert emulator.counts() == {SEARCH: 1, **TIMELINES}
    assert {mention["id"], post["id"]} <= set(rows.stories)
    assert "nosearch" in json.loads(rows.cursor)
    # Remembered: the next crawls do not ask for recent search again.
    emulator.clear_counts()
    idle = collect(crawl(plugins_registry, config, owner_stream, owner, rows.cursor))
    assert emulator.counts() == TIMELINES and not idle.stories and not idle.comments
    assert json.loads(idle.cursor)["since"] == json.loads(rows.cursor)["since"]


def test_recent_search_is_tried_again_after_a_week(emulator, config, plugins_registry, owner, owner_stream,
                                                   idle_cursor):
    cursor = json.loads(idle_cursor) | {"nosearch": time.time() - 8 * 86400}
    rows = collect(crawl(plugins_registry, config, owner_stream, owner, json.dumps(cursor)))
    assert emulator.counts() == {SEARCH: 1, "GET /2/dm_events": 1}  # X serves it again
    assert "nosearch" not in json.loads(rows.cursor)


def test_client_forbidden_elsewhere_names_the_apps_access_level(emulator, config, plugins_registry):
    emulator.refuse("GET /2/users/:id/tweets")
    stream = StreamRef(page_id=emulator.user_id("beanwire"), authorized=False, handle="beanwire")
    with pytest.raises(PermissionMissing) as missing:
        collect(crawl(plugins_registry, config, stream, None))
    assert missing.value.permission == "app access level"
    assert "client-not-enrolled" in missing.value.message and "reconnect" not in missing.value.message


# -- 3. a pass stopped too long ago ------------------------------------------------------

def _search_token(emulator, owner_id: str, since_id: str | None = None) -> str:
    params = {"query": f"from:{owner_id} OR @acmecoffee", "max_results": 10}
    if since_id:
        params["since_id"] = since_id
    body = requests.get(f"{emulator.url}/2/tweets/search/recent", params=params, timeout=10,
                        headers={"Authorization": f"Bearer {APP_TOKEN}"}).json()
    return body["meta"]["next_token"]


def _mid_search(idle_cursor: str, token: str, since_id: str, started: float) -> str:
    """A cursor saved in the middle of a live pass's search stage."""
    cursor = json.loads(idle_cursor)
    cursor.update(at=started - 3600, mode="live", stage="search", next=token, since_id=since_id, started=started)
    return json.dumps(cursor)


def test_a_search_pass_started_over_six_days_ago_restarts_as_a_backfill(emulator, config, plugins_registry,
                                                                        owner, owner_stream, idle_cursor):
    since_id = emulator.tweet_ids("acmecoffee")[-1]  # ~90 days old: X would refuse it forever
    cursor = _mid_search(idle_cursor, _search_token(emulator, owner_stream.page_id), since_id,
                         started=time.time() - 6.5 * 86400)
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, owner_stream, owner, cursor))
    assert emulator.counts() == TIMELINES  # no doomed search call at all
    final = json.loads(rows.cursor)
    assert "stage" not in final and final["since"] == json.loads(idle_cursor)["since"]
    assert final["at"] > time.time() - 60  # a complete pass, started now


def test_a_resumed_search_token_that_x_refuses_restarts_as_a_backfill(emulator, config, plugins_registry,
                                                                      owner_stream, idle_cursor):
    # A search pass stopped an hour ago, a day into its window...
    day_ago = emulator.tweet_ids("acmecoffee")[0]
    cursor = _mid_search(idle_cursor, _search_token(emulator, owner_stream.page_id), day_ago,
                         started=time.time() - 3600)
    # ...resumed when X's clock says its since_id has left the seven days of recent search.
    emulator.control("POST", "/clock", advance=7 * 86400)
    token = authorize(emulator, config)  # the old access token expired meanwhile
    fresh = plugins_registry.call("streamdesk_link_profile", "twitter", config, token=token).credentials
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, owner_stream, fresh, cursor))
    assert emulator.counts() == {SEARCH: 1, **TIMELINES}  # one 400, then the backfill
    final = json.loads(rows.cursor)
    assert "stage" not in final and "next" not in final  # the pass completed: not stuck on the token
    assert final["since"] == json.loads(idle_cursor)["since"]  # nothing new: nothing skipped either


def test_a_400_outside_a_resumed_pass_is_reported_not_swallowed(emulator, config, plugins_registry, owner):
    broken = StreamRef(page_id="not-a-number", authorized=True, handle="acmecoffee")
    with pytest.raises(ProviderUnavailable) as refused:
        collect(crawl(plugins_registry, config, broken, owner))
    assert "does not match" in refused.value.message
    public = StreamRef(page_id="not-a-number", authorized=False, handle="acmecoffee")
    with pytest.raises(ProviderUnavailable):  # the crawl hook may not raise InvalidQuery
        collect(crawl(plugins_registry, config, public, None))


# -- 4. an authorized stream without a token ---------------------------------------------

def test_an_authorized_stream_without_credentials_is_expired(emulator, config, plugins_registry, owner_stream):
    with pytest.raises(TokenExpired):
        collect(crawl(plugins_registry, config, owner_stream, None))
    assert emulator.counts() == {}  # never crawled as a stranger with the app's token


# -- 5. unreadable cursors ---------------------------------------------------------------

@pytest.mark.parametrize("cursor", [
    "1", "[]", '"since"', "null", "not json", '{"since": "abc"}', '{"since": 12}', '{"since": "12\\n"}',
    '{"since": "١٢٣"}', '{"at": "yesterday"}', '{"at": NaN}', '{"at": true}', '{"username": "a b"}',
    '{"mode": "live", "stage": "tweets"}', '{"stage": "search"}', '{"mode": "sideways", "stage": "dm"}',
    '{"mode": "backfill", "stage": "dm", "next": {"token": 1}}', '{"mode": "backfill", "stage": "dm", "next": ""}',
    '{"next": "7140dibdnow9c7btw1"}',
])
def test_an_unreadable_cursor_counts_as_none(emulator, config, plugins_registry, owner, owner_stream, cursor):
    emulator.clear_counts()
    rows = collect(crawl(plugins_registry, config, owner_stream, owner, cursor))
    assert emulator.counts() == FULL  # a fresh backfill
    assert len(rows.stories) > 120 and len(rows.messages) == 9


def test_an_unreadable_cursor_on_a_public_stream(emulator, config, plugins_registry):
    stream = StreamRef(page_id=emulator.user_id("rivalroasters"), authorized=False, handle="rivalroasters")
    rows = collect(crawl(plugins_registry, config, stream, None, '{"since": "abc"}'))
    assert len(rows.stories) == 100
