"""Searching public pages by URL, handle or name — and refusing what cannot name a page."""
import pytest

from plugins.facebook import usage
from streamdesk_contract.errors import InvalidQuery, ProviderUnavailable, RateLimited
from streamdesk_contract.values import Credentials

from .conftest import ACME, BLUEBIRD, DELI


def search(plugins, config, query, credentials=None):
    return plugins.call("streamdesk_search", "facebook", config, query=query, credentials=credentials)


@pytest.mark.parametrize("query", [
    "facebook.com/acmeoutdoor",
    "https://www.facebook.com/acmeoutdoor",
    "http://facebook.com/acmeoutdoor/",
    "https://m.facebook.com/acmeoutdoor?ref=bookmarks",
    "mobile.facebook.com/acmeoutdoor#about",
    "www.facebook.com/acmeoutdoor/posts/123456789?__tn__=R",
    "https://www.facebook.com/pg/acmeoutdoor/about/",
    "HTTPS://WWW.FACEBOOK.COM/AcmeOutdoor",
    "  https://web.facebook.com/acmeoutdoor/  ",
    "fb.com/acmeoutdoor",
    "@acmeoutdoor",
    "acmeoutdoor",
    ACME,
])
def test_url_and_handle_forms_find_the_page(fb, fb_plugins, config, query):
    fb.clear_calls()
    results = search(fb_plugins, config, query)
    assert [r.page_id for r in results] == [ACME]
    assert results[0].name == "Acme Outdoor Gear" and results[0].handle == "acmeoutdoor"
    assert results[0].followers and results[0].picture_url and results[0].category
    assert fb.total_calls() == 1


@pytest.mark.parametrize("query", [
    f"https://www.facebook.com/profile.php?id={DELI}",
    f"https://www.facebook.com/profile.php?id={DELI}&sk=about",
    f"https://www.facebook.com/pages/Corner-Deli-of-Springfield/{DELI}",
    f"https://www.facebook.com/pages/Corner-Deli-of-Springfield/{DELI}/?ref=page_internal",
    f"https://www.facebook.com/pages/category/Deli/Corner-Deli-of-Springfield-{DELI}/",
    f"https://www.facebook.com/p/Corner-Deli-of-Springfield-{DELI}/",
])
def test_id_forms_find_pages_without_username(fb, fb_plugins, config, query):
    assert [r.page_id for r in search(fb_plugins, config, query)] == [DELI]


def test_free_text_returns_most_relevant_pages_first(fb, fb_plugins, config):
    fb.clear_calls()
    results = search(fb_plugins, config, "coffee")
    assert [r.name for r in results] == ["Globex Coffee Company", "Bluebird Coffee"]
    assert all(r.followers and r.url == f"{fb.url}/_web/pages/{r.page_id}" for r in results)  # sandbox: the emulator
    assert fb.total_calls() == 3  # a bare word is tried as a username first
    fb.clear_calls()
    assert search(fb_plugins, config, "globex coffee")[0].name == "Globex Coffee Company"
    assert fb.total_calls() == 2  # /pages/search, then one batched lookup of the hits
    assert search(fb_plugins, config, "Bluebird Coffee")[0].page_id == BLUEBIRD
    assert search(fb_plugins, config, "Blue")[0].name in ("Blue Bottle Bakery", "Bluebird Coffee")


def test_unknown_handle_falls_back_to_text_but_explicit_ones_do_not(fb, fb_plugins, config):
    assert [r.page_id for r in search(fb_plugins, config, "globex")] == ["101938475620394"]
    assert search(fb_plugins, config, "@globex") == []
    assert search(fb_plugins, config, "facebook.com/nosuchpage") == []
    assert search(fb_plugins, config, "99999999999") == []
    assert search(fb_plugins, config, "10158372947561023") == []  # a person, not a page


@pytest.mark.parametrize("query,words", [
    ("", "Type a Facebook page address"),
    ("   ", "Type a Facebook page address"),
    ("x" * 2000, "too long"),
    ("https://www.facebook.com/" + "a" * 2000, "too long"),
    ("javascript:alert(document.cookie)", "Only web addresses"),
    ("JavaScript:alert(1)//facebook.com/acme", "Only web addresses"),
    ("data:text/html,<script>alert(1)</script>", "Only web addresses"),
    ("ftp://facebook.com/acmeoutdoor", "Only web addresses"),
    ("https://example.com/acmeoutdoor", "not a Facebook address"),
    ("https://facebook.com.evil.example/acmeoutdoor", "not a Facebook address"),
    ("twitter.com/acmeoutdoor", "not a Facebook address"),
    ("https://xn--fcebook-8va.com/acmeoutdoor", "not a Facebook address"),
    ("https://fаcebook.com/acmeoutdoor", "not a Facebook address"),  # Cyrillic а
    ("https://www.facebook.com/ünïcödé", "not a Facebook page"),
    ("@ünïcödé", "not a Facebook handle"),
    ("@acme outdoor", "not a Facebook handle"),
    ("@", "not a Facebook handle"),
    ("https://www.facebook.com/", "home page"),
    ("https://www.facebook.com/groups/123456789", "not to a page"),
    ("https://www.facebook.com/events/123456789", "not to a page"),
    ("https://www.facebook.com/sharer/sharer.php?u=x", "not to a page"),
    ("https://www.facebook.com/profile.php", "not a Facebook page"),
    ("https://user:pw@facebook.com/acmeoutdoor", "not a Facebook page"),
    ("acme\x00outdoor", "not a Facebook page"),
    ("١٢٣٤٥٦٧٨٩", "not a Facebook page"),  # Arabic-Indic digits are not a page id
    ("१२३४५६७८९०", "not a Facebook page"),  # nor are Devanagari ones
    ("https://www.facebook.com/profile.php?id=١٢٣٤٥٦٧٨٩", "not a Facebook page"),
    ("https://www.facebook.com/١٢٣٤٥٦٧٨٩", "not a Facebook page"),
    ("https://www.facebook.com/pages/Deli/١٢٣٤٥٦٧٨٩", "no page id"),
    ("https://www.facebook.com/acmeoutdoor%0A", "not a Facebook page"),
])
def test_bad_queries_get_a_clear_not_a_facebook_page_answer(fb, fb_plugins, config, query, words):
    with pytest.raises(InvalidQuery) as caught:
        search(fb_plugins, config, query)
    assert words in caught.value.message
    assert fb.total_calls() == 0  # refused without calling Facebook


def test_never_fetches_the_url_typed(fb, fb_plugins, config):
    # Even a URL of the emulator itself is not requested: only Graph API calls are made.
    with pytest.raises(InvalidQuery):
        search(fb_plugins, config, f"{fb.url}/_control/reset")
    assert fb.total_calls() == 0


def test_search_with_a_user_token_and_provider_errors(fb, fb_plugins, config):
    user = Credentials(access_token=fb.user_token())
    assert search(fb_plugins, config, "@bluebirdcoffee", user)[0].page_id == BLUEBIRD
    fb.control("faults", kind="rate_limit", code=4, count=1)
    with pytest.raises(RateLimited) as caught:
        search(fb_plugins, config, "@bluebirdcoffee")
    assert caught.value.retry_after == 600  # an hour-window app limit, no regain time given
    fb.clear_calls()
    with pytest.raises(RateLimited):  # remembered: no call until Facebook allows it
        search(fb_plugins, config, "@bluebirdcoffee")
    assert fb.total_calls() == 0
    usage.forget()
    fb.control("faults", kind="transient", code=2, count=1)
    with pytest.raises(ProviderUnavailable):
        search(fb_plugins, config, "coffee")


def test_search_uses_the_persons_user_token_and_the_app_token_only_without_one(fb, fb_plugins, config):
    user = Credentials(access_token=fb.user_token())
    fb.clear_calls()
    with_user = search(fb_plugins, config, "coffee", user)
    calls = fb.requests()
    assert [c["path"] for c in calls] == ["/v25.0/coffee", "/v25.0/pages/search", "/v25.0/"]
    assert {c["token"] for c in calls} == {"USER"}  # the emulator accepts a user token…
    fb.clear_calls()
    without = search(fb_plugins, config, "coffee")
    assert {c["token"] for c in fb.requests()} == {"APP"}  # …and the app token
    assert [r.page_id for r in with_user] == [r.page_id for r in without]
    fb.clear_calls()
    assert search(fb_plugins, config, "coffee", Credentials(access_token=""))  # no token at all: the app's
    assert {c["token"] for c in fb.requests()} == {"APP"}
