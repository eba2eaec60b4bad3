"""Interactions as the connected account: publish, reply, like, hide, delete, message."""
from __future__ import annotations

from dataclasses import replace

import pytest

from streamdesk_contract.errors import (
    InvalidQuery,
    NotFound,
    PermissionMissing,
    RateLimited,
    TokenExpired,
)
from streamdesk_contract.values import Interaction

from .x_helpers import authorize


def interact(plugins_registry, config, stream, credentials, **interaction):
    return plugins_registry.call("streamdesk_interact", "twitter", config, stream=stream,
                                 credentials=credentials, interaction=Interaction(**interaction))


def test_the_service_declares_its_interactions(plugins_registry):
    service = plugins_registry.get("twitter").service
    assert service.interactions == {"publish", "reply", "like", "hide", "delete", "message"}
    assert service.private_messages and service.unauthorized_post_limit == 100


def test_publish_then_delete(emulator, config, plugins_registry, owner, owner_stream):
    result = interact(plugins_registry, config, owner_stream, owner, kind="publish", text="Open late tonight")
    assert result.ok and result.external_id == emulator.tweet_ids("acmecoffee")[0]
    with pytest.raises(InvalidQuery) as duplicate:
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="Open late tonight")
    assert "duplicates" in duplicate.value.message
    deleted = interact(plugins_registry, config, owner_stream, owner, kind="delete", target_id=result.external_id)
    assert deleted.ok and emulator.control("GET", f"/tweets/{result.external_id}")["deleted"]
    with pytest.raises(NotFound):
        interact(plugins_registry, config, owner_stream, owner, kind="delete", target_id=result.external_id)


def test_reply_is_threaded_under_the_customers_post(emulator, config, plugins_registry, owner, owner_stream):
    mention = emulator.control("POST", "/tweets", author="carla_m", text="@acmecoffee are you open today?")
    result = interact(plugins_registry, config, owner_stream, owner, kind="reply", target_id=mention["id"],
                      text="Yes, until 6pm!")
    reply = emulator.control("GET", f"/tweets/{result.external_id}")
    assert reply["text"] == "@carla_m Yes, until 6pm!"
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": mention["id"]}]
    assert reply["conversation_id"] == mention["id"]
    emulator.control("DELETE", f"/tweets/{mention['id']}")
    with pytest.raises(NotFound):
        interact(plugins_registry, config, owner_stream, owner, kind="reply", target_id=mention["id"], text="Hello?")


def test_like_and_unlike(emulator, config, plugins_registry, owner, owner_stream):
    target = emulator.tweet_ids("sam_eats")[0]
    assert interact(plugins_registry, config, owner_stream, owner, kind="like", target_id=target).ok
    assert owner_stream.page_id in emulator.control("GET", f"/tweets/{target}")["liked_by"]
    assert interact(plugins_registry, config, owner_stream, owner, kind="like", target_id=target, undo=True).ok
    assert owner_stream.page_id not in emulator.control("GET", f"/tweets/{target}")["liked_by"]
    emulator.control("DELETE", f"/tweets/{target}")
    with pytest.raises(NotFound):
        interact(plugins_registry, config, owner_stream, owner, kind="like", target_id=target)


def test_hide_and_unhide_a_reply(emulator, config, plugins_registry, owner, owner_stream):
    root = max(emulator.tweet_ids("acmecoffee")[:5], key=int)
    reply = emulator.control("POST", "/tweets", author="bob_builds", text="spam spam", in_reply_to=root)
    assert interact(plugins_registry, config, owner_stream, owner, kind="hide", target_id=reply["id"]).ok
    assert emulator.control("GET", f"/tweets/{reply['id']}")["hidden"] is True
    assert interact(plugins_registry, config, owner_stream, owner, kind="hide", target_id=reply["id"], undo=True).ok
    assert emulator.control("GET", f"/tweets/{reply['id']}")["hidden"] is False
    elsewhere = emulator.tweet_ids("rivalroasters")[0]
    with pytest.raises(PermissionMissing):
        interact(plugins_registry, config, owner_stream, owner, kind="hide", target_id=elsewhere)


def test_message_answers_a_conversation(emulator, config, plugins_registry, owner, owner_stream):
    jane = emulator.user_id("jane_doe")
    conversation = "-".join(sorted((owner_stream.page_id, jane), key=int))
    result = interact(plugins_registry, config, owner_stream, owner, kind="message", target_id=conversation,
                      text="Your parcel left today.")
    assert result.ok and result.external_id
    by_user_id = interact(plugins_registry, config, owner_stream, owner, kind="message", target_id=jane,
                          text="And tracking is on its way.")
    assert int(by_user_id.external_id) > int(result.external_id)
    with pytest.raises(InvalidQuery):
        interact(plugins_registry, config, owner_stream, owner, kind="message", target_id="not-an-id", text="x")


def test_bad_content_is_refused_before_any_call(emulator, config, plugins_registry, owner, owner_stream):
    emulator.clear_counts()
    with pytest.raises(InvalidQuery):
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="   ")
    with pytest.raises(InvalidQuery) as too_long:
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="x" * 281)
    assert "280" in too_long.value.message
    with pytest.raises(InvalidQuery):
        interact(plugins_registry, config, owner_stream, owner, kind="reply", text="hi")
    with pytest.raises(InvalidQuery) as unsupported:
        interact(plugins_registry, config, owner_stream, owner, kind="comment", target_id="1", text="hi")
    assert "reply" in unsupported.value.message
    assert emulator.counts() == {}


def test_missing_permission_is_named(emulator, config, plugins_registry, owner_stream):
    token = authorize(emulator, config, scopes=("tweet.read", "users.read", "offline.access"))
    reader = plugins_registry.call("streamdesk_link_profile", "twitter", config, token=token).credentials
    with pytest.raises(PermissionMissing) as missing:
        interact(plugins_registry, config, owner_stream, reader, kind="publish", text="hello")
    assert missing.value.permission == "tweet.write"
    with pytest.raises(PermissionMissing) as missing:
        interact(plugins_registry, config, owner_stream, reader, kind="like",
                 target_id=emulator.tweet_ids("jane_doe")[0])
    assert missing.value.permission == "like.write"


def test_interaction_errors_are_typed(emulator, config, plugins_registry, owner, owner_stream):
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/tweets")
    with pytest.raises(RateLimited):
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="first try")
    emulator.control("POST", "/tokens/expire", user="acmecoffee")
    with pytest.raises(TokenExpired):
        interact(plugins_registry, config, owner_stream, owner, kind="delete", target_id="1")


def test_interactions_need_an_authorized_stream_with_credentials(emulator, config, plugins_registry, owner,
                                                                 owner_stream):
    public = replace(owner_stream, authorized=False)
    emulator.clear_counts()
    for stream, credentials in ((owner_stream, None), (public, owner), (public, None)):
        with pytest.raises(TokenExpired) as expired:
            interact(plugins_registry, config, stream, credentials, kind="publish", text="hello")
        assert "authorized stream" in expired.value.message
    assert emulator.counts() == {}


def test_post_ids_are_ascii_digits(emulator, config, plugins_registry, owner, owner_stream):
    emulator.clear_counts()
    for target in ("١٢٣٤٥", "１２３", "12a"):  # str.isdigit alone takes the first two
        with pytest.raises(InvalidQuery):
            interact(plugins_registry, config, owner_stream, owner, kind="like", target_id=target)
    with pytest.raises(InvalidQuery):
        interact(plugins_registry, config, owner_stream, owner, kind="message", target_id="١٢٣-٤٥٦", text="hi")
    with pytest.raises(InvalidQuery) as long_id:
        interact(plugins_registry, config, owner_stream, owner, kind="like", target_id="x" * 2000)
    assert len(long_id.value.message) < 100
    assert emulator.counts() == {}


def test_xs_400_is_invalid_query_for_interactions(emulator, config, plugins_registry, owner, owner_stream):
    with pytest.raises(InvalidQuery) as refused:  # twenty digits: X's ids have at most nineteen
        interact(plugins_registry, config, owner_stream, owner, kind="delete", target_id="1" * 20)
    assert refused.value.message.startswith("X refused the request:") and "does not match" in refused.value.message


def test_daily_caps_delay_until_their_reset(emulator, config, plugins_registry, owner, owner_stream):
    # X's daily cap on posting ran out: the 15-minute window still has calls, the day does not.
    emulator.clear_counts()
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/tweets")
    with pytest.raises(RateLimited) as limited:
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="first try")
    assert 23 * 3600 < limited.value.retry_after <= 24 * 3600
    # Remembered: the next post is not even sent before the day resets.
    with pytest.raises(RateLimited):
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="second try")
    assert emulator.counts() == {"POST /2/tweets": 1}
    # Direct messages: the per-user daily cap.
    emulator.control("POST", "/fail", status=429, count=1,
                     endpoint="POST /2/dm_conversations/with/:participant_id/messages")
    with pytest.raises(RateLimited) as limited:
        interact(plugins_registry, config, owner_stream, owner, kind="message",
                 target_id=emulator.user_id("jane_doe"), text="Your parcel left today.")
    assert limited.value.retry_after > 23 * 3600


def test_a_15_minute_limit_is_not_taken_for_the_daily_cap(emulator, config, plugins_registry, owner, owner_stream):
    # The answer also reports the daily window, with calls left: it did not cause the 429.
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/tweets", daily=False)
    with pytest.raises(RateLimited) as limited:
        interact(plugins_registry, config, owner_stream, owner, kind="publish", text="first try")
    assert 0 < limited.value.retry_after <= 900
