"""The plugin reads Graph "Webhooks for Pages" deliveries (streamdesk_webhook_events),
called as the core calls it: through the entry points, with the sandbox config."""
from __future__ import annotations

import datetime

import pytest

from emulators.facebook import sandbox_config
from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import WebhookUpdate

PAGE = "104729384756102"


def read(fb_plugins, payload):
    return fb_plugins.call("streamdesk_webhook_events", "facebook", sandbox_config("http://127.0.0.1:1"),
                           payload=payload)


def envelope(*values, messaging=()):
    return {"object": "page", "entry": [{"id": PAGE, "time": 1764700000,
                                         "changes": [{"field": "feed", "value": v} for v in values],
                                         "messaging": list(messaging)}]}


def test_other_services_are_not_answered():
    import plugins.facebook

    assert plugins.facebook.streamdesk_webhook_events(service="mastodon", config=sandbox_config("http://127.0.0.1:1"),
                                                      payload=envelope()) is None


def test_a_reply_a_post_and_a_message_become_values(fb_plugins):
    post = f"{PAGE}_1"
    updates = read(fb_plugins, envelope(
        {"item": "comment", "verb": "add", "post_id": post, "comment_id": "1_3", "parent_id": "1_2",
         "from": {"id": "9", "name": "Bo"}, "message": "Agreed", "created_time": 1764700000},
        {"item": "status", "verb": "edited", "post_id": post, "message": "New hours",
         "from": {"id": PAGE, "name": "Bluebird"}, "created_time": "2026-12-02T18:26:40+0000"},
        messaging=[{"sender": {"id": "77"}, "recipient": {"id": PAGE}, "timestamp": 1764700000500,
                    "message": {"mid": "m_1", "text": "Hi"}}]))
    assert len(updates) == 1 and isinstance(updates[0], WebhookUpdate) and updates[0].page_id == PAGE
    (reply,), (story,), (message,) = updates[0].comments, updates[0].stories, updates[0].messages
    assert (reply.external_id, reply.story_id, reply.parent_id, reply.author_name) == ("1_3", post, "1_2", "Bo")
    assert reply.created_at == datetime.datetime(2025, 12, 2, 18, 26, 40, tzinfo=datetime.timezone.utc)
    assert story.text == "New hours" and story.updated_at == story.created_at
    assert (message.external_id, message.sender_id, message.conversation_id) == ("m_1", "77", "psid:77")


def test_what_carries_nothing_to_store_is_skipped(fb_plugins):
    post = f"{PAGE}_1"
    assert read(fb_plugins, envelope(
        {"item": "reaction", "verb": "add", "post_id": post, "reaction_type": "like"},
        {"item": "comment", "verb": "hide", "post_id": post, "comment_id": "1_2"},
        messaging=[{"sender": {"id": PAGE}, "recipient": {"id": "77"}, "timestamp": 1,
                    "message": {"mid": "m_2", "text": "echo", "is_echo": True}}])) == []
    (update,) = read(fb_plugins, envelope({"item": "comment", "verb": "remove", "post_id": post,
                                           "comment_id": "1_2", "parent_id": post}))
    assert update.removed_comments == ("1_2",) and update.comments == ()


@pytest.mark.parametrize("payload", [
    {"object": "user", "entry": []},
    {"object": "page", "entry": [{"changes": []}]},
    envelope({"item": "comment", "verb": "add", "post_id": f"{PAGE}_1", "created_time": 1}),  # no comment_id
    envelope({"item": "comment", "verb": "add", "post_id": f"{PAGE}_1", "comment_id": "1_2",
              "created_time": "yesterday"}),
])
def test_a_delivery_not_in_graphs_shape_is_provider_unavailable(fb_plugins, payload):
    with pytest.raises(ProviderUnavailable):
        read(fb_plugins, payload)
