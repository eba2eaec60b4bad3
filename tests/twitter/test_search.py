"""Search: profile URLs and handles, clear answers for bad ones, never a wasted call."""
from __future__ import annotations

from dataclasses import replace

import pytest

from streamdesk_contract.errors import (
    InvalidQuery,
    PermissionMissing,
    ProviderUnavailable,
    RateLimited,
    TokenExpired,
)


def search(plugins_registry, config, query, credentials=None):
    return plugins_registry.call("streamdesk_search", "twitter", config, query=query, credentials=credentials)


@pytest.mark.parametrize("query", [
    "@acmecoffee", "acmecoffee", "  @AcmeCoffee ", "https://x.com/acmecoffee", "x.com/acmecoffee/",
    "https://twitter.com/AcmeCoffee", "http://www.twitter.com/acmecoffee", "mobile.twitter.com/acmecoffee",
    "https://mobile.x.com/acmecoffee/status/1790000000000000000?s=20&t=abc",
    "https://x.com/acmecoffee?lang=en#top", "https://x.com/acmecoffee/with_replies",
])
def test_profile_urls_and_handles_find_the_account(emulator, config, plugins_registry, query):
    found = search(plugins_registry, config, query)
    assert [p.handle for p in found] == ["acmecoffee"]
    page = found[0]
    assert page.page_id == emulator.user_id("acmecoffee") and page.name == "Acme Coffee"
    # Sandbox mode: the link opens the emulator's page of the account, not x.com.
    assert page.url == f"{config.api_url}/acmecoffee" and page.followers == 18250 and page.picture_url
    assert emulator.counts() == {"GET /2/users/by/username/:username": 1}


def test_an_account_link_by_id(emulator, config, plugins_registry):
    rival = emulator.user_id("rivalroasters")
    found = search(plugins_registry, config, f"https://x.com/i/user/{rival}")
    assert [p.handle for p in found] == ["rivalroasters"]
    assert emulator.counts() == {"GET /2/users/:id": 1}


@pytest.mark.parametrize("query, says", [
    ("@averyveryverylonghandle", "at most 15 characters"),
    ("https://x.com/averyveryverylonghandle", "at most 15 characters"),
    ("@acme-coffee", "letters, digits and underscores"),
    ("@", "handle is empty"),
    ("", "Nothing to search for"),
    ("Acme Coffee", "not by name"),
    ("https://www.facebook.com/acmecoffee", "x.com or twitter.com"),
    ("https://x.com.evil.example/acmecoffee", "x.com or twitter.com"),
    ("ftp://x.com/acmecoffee", "x.com or twitter.com"),
    ("https://x.com/", "home page"),
    ("https://x.com/search?q=coffee", "an X page"),
    ("https://twitter.com/i/flow/login", "an X page"),
    ("https://x.com/home", "an X page"),
])
def test_bad_queries_get_clear_answers_before_any_call(emulator, config, plugins_registry, query, says):
    with pytest.raises(InvalidQuery) as refused:
        search(plugins_registry, config, query)
    assert says in refused.value.message
    if query.strip():
        assert "not an X profile" in refused.value.message
    assert emulator.counts() == {}  # decided before any call; the typed URL is never fetched


def test_fifteen_characters_is_allowed(emulator, config, plugins_registry):
    assert search(plugins_registry, config, "@abcdefghijklmno") == []
    assert emulator.counts() == {"GET /2/users/by/username/:username": 1}


def test_unknown_and_suspended_accounts_find_nothing(emulator, config, plugins_registry):
    assert search(plugins_registry, config, "@nobody_here") == []
    assert search(plugins_registry, config, "https://x.com/spambot9000") == []


def test_protected_accounts_are_found_and_labelled(emulator, config, plugins_registry):
    found = search(plugins_registry, config, "@lockedlucy")
    assert found[0].category == "Protected account"


def test_search_with_a_persons_token(emulator, config, plugins_registry, owner):
    assert search(plugins_registry, config, "@beanwire", credentials=owner)[0].handle == "beanwire"
    emulator.control("POST", "/tokens/expire", token=owner.access_token)
    with pytest.raises(TokenExpired):
        search(plugins_registry, config, "@beanwire", credentials=owner)


def test_search_without_any_token_says_what_to_configure(emulator, config, plugins_registry):
    with pytest.raises(PermissionMissing) as missing:
        search(plugins_registry, replace(config, app_token=""), "@beanwire")
    assert "TWITTER_APP_TOKEN" in missing.value.message
    assert emulator.counts() == {}


def test_search_errors_are_typed(emulator, config, plugins_registry):
    emulator.control("POST", "/fail", status=502, count=1)
    with pytest.raises(ProviderUnavailable):
        search(plugins_registry, config, "@beanwire")
    with pytest.raises(ProviderUnavailable):
        search(plugins_registry, replace(config, app_token="not-the-app-token"), "@beanwire")
    with pytest.raises(ProviderUnavailable):  # nothing listens there
        search(plugins_registry, replace(config, api_url="http://127.0.0.1:9"), "@beanwire")
    emulator.control("POST", "/fail", status=429, count=1)
    with pytest.raises(RateLimited) as limited:
        search(plugins_registry, config, "@beanwire")
    assert 0 < limited.value.retry_after <= 900
    # X said the window is empty until its reset: the next search is not even sent.
    with pytest.raises(RateLimited):
        search(plugins_registry, config, "@rivalroasters")
    assert emulator.counts()["GET /2/users/by/username/:username"] == 3


@pytest.mark.parametrize("query, says", [
    ("x.com/i/user/١٢٣٤٥", "an X page"),  # Arabic-Indic digits pass str.isdigit, not X's id format
    ("https://x.com/i/user/１２３４５", "an X page"),  # fullwidth digits
    ("https://x.com/i/user/12345678901234567890", "an X page"),  # twenty digits: longer than any X id
    ("javascript:alert(1)", "letters, digits and underscores"),
    ("javascript://x.com/acmecoffee", "x.com or twitter.com"),
    ("JaVaScRiPt:alert(document.cookie)//x.com", "x.com or twitter.com"),
    ("data:text/html,<script>alert(1)</script>", "x.com or twitter.com"),
    ("@ñandú", "letters, digits and underscores"),
    ("@ｆｕｌｌｗｉｄｔｈ", "letters, digits and underscores"),
    ("@١٢٣", "letters, digits and underscores"),
    ("@acme\u200bcoffee", "letters, digits and underscores"),  # a zero-width space
    ("https://x.com/ñandú", "letters, digits and underscores"),
    ("https://x.cоm/acmecoffee", "x.com or twitter.com"),  # a Cyrillic о in the host
    ("https://twitter.com/%E2%80%AEacme", "letters, digits and underscores"),
])
def test_hostile_and_unicode_queries_are_refused_before_any_call(emulator, config, plugins_registry, query, says):
    with pytest.raises(InvalidQuery) as refused:
        search(plugins_registry, config, query)
    assert says in refused.value.message and "not an X profile" in refused.value.message
    assert emulator.counts() == {}


@pytest.mark.parametrize("query", [
    "@" + "a" * 1999, "a" * 2000, "https://x.com/" + "b" * 2000, "c" * 1000 + " " + "d" * 999,
    "https://example.com/" + "e" * 2000, "https://x.com/@" + "ñ" * 2000,
])
def test_messages_repeat_at_most_sixty_characters_of_the_query(emulator, config, plugins_registry, query):
    with pytest.raises(InvalidQuery) as refused:
        search(plugins_registry, config, query)
    message = refused.value.message
    assert len(message) < 250 and query not in message
    assert query.strip()[:60] + "…" in message
    assert emulator.counts() == {}


def test_an_account_link_by_id_in_ascii_digits_still_works(emulator, config, plugins_registry):
    rival = emulator.user_id("rivalroasters")
    assert [p.handle for p in search(plugins_registry, config, f"x.com/i/user/{rival}")] == ["rivalroasters"]
