"""Metrics: X's impressions and engagement counts, private ones only where X gives them,
and "not provided by X" (never a made-up 0) for reach."""
from __future__ import annotations

import pytest

from streamdesk_contract.errors import NotFound, ProviderUnavailable, TokenExpired
from streamdesk_contract.values import StreamRef


def metrics(plugins_registry, config, stream, credentials, story_ids):
    return plugins_registry.call("streamdesk_metrics", "twitter", config, stream=stream,
                                 credentials=credentials, story_ids=story_ids, history_since=None)


def by_object(figures):
    out: dict[str, dict] = {}
    for figure in figures:
        out.setdefault(figure.object_id, {})[figure.name] = figure
    return out


def test_post_and_page_figures_for_the_connected_account(emulator, config, plugins_registry, owner,
                                                         owner_stream):
    own = emulator.tweet_ids("acmecoffee")
    recent, old = own[1], own[-1]
    mention = emulator.control("GET", "/users/acmecoffee/tweets")["mentions"][0]
    emulator.clear_counts()
    figures = by_object(metrics(plugins_registry, config, owner_stream, owner, [recent, old, mention]))
    # One lookup for all, one for the private metrics of the recent own post, one for the account.
    assert emulator.counts() == {"GET /2/tweets": 2, "GET /2/users/:id": 1}
    truth = emulator.control("GET", f"/tweets/{recent}")
    post = figures[recent]
    assert post["impressions"].value == truth["public_metrics"]["impression_count"]
    assert post["impressions"].provider_metric == "public_metrics.impression_count"
    assert post["likes"].value == truth["public_metrics"]["like_count"]
    assert post["reposts"].provider_metric == "public_metrics.retweet_count"
    assert post["link_clicks"].value == truth["non_public_metrics"]["url_link_clicks"]
    assert post["link_clicks"].provider_metric == "non_public_metrics.url_link_clicks"
    assert post["profile_clicks"].value == truth["non_public_metrics"]["user_profile_clicks"]
    # X's reference lists no engagements total among the non-public metrics.
    assert "engagements" not in truth["non_public_metrics"]
    assert post["engagements"].value is None and post["engagements"].note == "not provided by X"
    assert post["engagements"].provider_metric is None
    assert post["reach"].value is None and post["reach"].note == "not provided by X"
    assert all(f.level == "post" for f in post.values())
    for not_private in (old, mention):  # too old, or somebody else's post
        clicks = figures[not_private]["link_clicks"]
        assert clicks.value is None and "last 30 days" in clicks.note
        assert figures[not_private]["impressions"].value is not None
    page = figures[owner_stream.page_id]
    assert page["followers"].value == 18250 and page["followers"].provider_metric == "public_metrics.followers_count"
    assert page["posts"].value == len(own)
    assert page["impressions"].value is None and page["impressions"].note == "not provided by X"
    assert page["reach"].value is None and page["reach"].note == "not provided by X"
    assert all(f.level == "page" for f in page.values())


def test_public_account_metrics_use_the_app_token(emulator, config, plugins_registry):
    stream = StreamRef(page_id=emulator.user_id("rivalroasters"), authorized=False, handle="rivalroasters")
    ids = emulator.tweet_ids("rivalroasters")[:3]
    emulator.clear_counts()
    figures = by_object(metrics(plugins_registry, config, stream, None, ids))
    assert emulator.counts() == {"GET /2/tweets": 1, "GET /2/users/:id": 1}
    assert set(figures) == set(ids) | {stream.page_id}
    assert all(figures[i]["impressions"].value is not None for i in ids)
    assert all(figures[i]["engagements"].value is None for i in ids)


def test_many_posts_are_read_a_hundred_at_a_time(emulator, config, plugins_registry, owner, owner_stream):
    ids = emulator.tweet_ids("acmecoffee")  # 129
    emulator.clear_counts()
    figures = by_object(metrics(plugins_registry, config, owner_stream, owner, ids))
    # Two batches of public metrics; only the first holds posts young enough for private ones.
    assert emulator.counts()["GET /2/tweets"] == 3
    assert set(ids) < set(figures)


def test_deleted_posts_get_figures_without_values_and_a_note(emulator, config, plugins_registry, owner,
                                                             owner_stream):
    ids = emulator.tweet_ids("acmecoffee")[:2]
    emulator.control("DELETE", f"/tweets/{ids[0]}")
    figures = by_object(metrics(plugins_registry, config, owner_stream, owner, ids))
    gone, kept = figures[ids[0]], figures[ids[1]]
    assert set(gone) == set(kept)  # the same figures, none of them with a value
    assert all(f.value is None and f.note == "the post no longer exists on X" for f in gone.values())
    assert gone["likes"].provider_metric == "public_metrics.like_count" and gone["likes"].level == "post"
    assert kept["likes"].value is not None


def test_protected_posts_say_why_they_have_no_figures(emulator, config, plugins_registry):
    stream = StreamRef(page_id=emulator.user_id("rivalroasters"), authorized=False, handle="rivalroasters")
    locked = emulator.tweet_ids("lockedlucy")[0]
    figures = by_object(metrics(plugins_registry, config, stream, None, [locked]))
    assert all(f.value is None and "protected" in f.note for f in figures[locked].values())


def test_a_refused_request_is_provider_unavailable_with_xs_message(emulator, config, plugins_registry, owner,
                                                                   owner_stream):
    # The metrics hook may not raise InvalidQuery: X's 400 is reported, and retried later.
    with pytest.raises(ProviderUnavailable) as refused:
        metrics(plugins_registry, config, owner_stream, owner, ["not-a-post-id"])
    assert "does not match" in refused.value.message and "not-a-post-id" in refused.value.message


def test_metrics_errors(emulator, config, plugins_registry, owner, owner_stream):
    gone = StreamRef(page_id="1234567890", authorized=False, handle="gone")
    with pytest.raises(NotFound):
        metrics(plugins_registry, config, gone, None, [])
    emulator.control("POST", "/tokens/revoke", user="acmecoffee")
    with pytest.raises(TokenExpired):
        metrics(plugins_registry, config, owner_stream, owner, emulator.tweet_ids("acmecoffee")[:1])
