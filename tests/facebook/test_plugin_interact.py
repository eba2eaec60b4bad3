"""Interactions as an authorized stream, and refusals by the page's tasks."""
import pytest

from streamdesk_contract.errors import InvalidQuery, NotFound, PermissionMissing
from streamdesk_contract.values import Interaction

from .conftest import ALEX, BLUEBIRD, SAM, authorized

EDITOR_TASKS = ("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT")


def interact(plugins, config, credentials, kind, target=None, text=None, undo=False, page_id=BLUEBIRD):
    return plugins.call("streamdesk_interact", "facebook", config, stream=authorized(page_id),
                        credentials=credentials, interaction=Interaction(kind, target, text, undo))


def test_service_declares_its_interactions(fb_plugins):
    service = fb_plugins.get("facebook").service
    assert service.interactions == {"publish", "reply", "comment", "like", "hide", "delete", "message"}
    assert service.private_messages and service.unauthorized_post_limit == 100


def test_publish_comment_reply_like_hide_delete(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    world = fb.state.world
    published = interact(fb_plugins, config, credentials, "publish", text="New roast on Friday")
    assert published.ok and world.get(published.external_id).message == "New roast on Friday"
    commented = interact(fb_plugins, config, credentials, "comment", published.external_id, "Pre-order now")
    comment = world.get(commented.external_id)
    assert comment.post_id == published.external_id and comment.author_id == BLUEBIRD
    fan_comment = next(c for p in world.posts(BLUEBIRD) for c in world.comments(p.id) if c.author_id != BLUEBIRD)
    replied = interact(fb_plugins, config, credentials, "reply", fan_comment.id, "Thanks for asking!")
    assert world.get(replied.external_id).parent_id == fan_comment.id
    assert interact(fb_plugins, config, credentials, "like", fan_comment.id).ok
    assert BLUEBIRD in fan_comment.likers
    assert interact(fb_plugins, config, credentials, "like", fan_comment.id, undo=True).ok
    assert BLUEBIRD not in fan_comment.likers
    assert interact(fb_plugins, config, credentials, "hide", fan_comment.id).ok and fan_comment.is_hidden
    assert interact(fb_plugins, config, credentials, "hide", fan_comment.id, undo=True).ok
    assert not fan_comment.is_hidden
    assert interact(fb_plugins, config, credentials, "delete", fan_comment.id).ok
    assert world.get(fan_comment.id) is None
    assert interact(fb_plugins, config, credentials, "delete", published.external_id).ok
    assert world.get(published.external_id) is None
    with pytest.raises(NotFound):
        interact(fb_plugins, config, credentials, "delete", published.external_id)


def test_private_message_within_the_24_hour_window(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    incoming = fb.control("messages", page_id=BLUEBIRD, message="Are you open today?")
    by_conversation = interact(fb_plugins, config, credentials, "message", incoming["conversation_id"], "Until 7pm!")
    by_psid = interact(fb_plugins, config, credentials, "message", incoming["psid"], "See you")
    convo = fb.state.world.get(incoming["conversation_id"])
    assert [m.text for m in convo.messages[-2:]] == ["Until 7pm!", "See you"]
    assert by_conversation.external_id.startswith("m_") and by_psid.ok
    stale = fb.state.world.conversations(BLUEBIRD)[-1]  # seeded weeks ago
    with pytest.raises(InvalidQuery) as caught:
        interact(fb_plugins, config, credentials, "message", stale.id, "Hello?")
    assert "24 hours" in caught.value.message


def test_tasks_refuse_before_calling_facebook(fb, fb_plugins, config, page_credentials):
    analyst = page_credentials("108374650192837", ALEX, tasks=("ANALYZE", "ADVERTISE"))
    story = fb.state.world.posts("108374650192837")[0]
    fb.clear_calls()
    for kind, target in (("publish", None), ("comment", story.id), ("like", story.id), ("hide", story.id),
                         ("delete", story.id), ("message", "t_1")):
        with pytest.raises(PermissionMissing) as caught:
            interact(fb_plugins, config, analyst, kind, target, "text", page_id="108374650192837")
        assert "Admin" in caught.value.message or "access" in caught.value.message
    assert fb.total_calls() == 0


def test_editor_may_publish_but_facebook_refuses_what_tasks_do_not_allow(fb, fb_plugins, config, page_credentials):
    editor = page_credentials(BLUEBIRD, SAM, tasks=EDITOR_TASKS)
    assert interact(fb_plugins, config, editor, "publish", text="Editor's pick").ok
    # Without recorded tasks the plugin asks Facebook, whose refusal maps the same way.
    analyst = page_credentials("108374650192837", ALEX, tasks=())
    with pytest.raises(PermissionMissing) as caught:
        interact(fb_plugins, config, analyst, "publish", text="x", page_id="108374650192837")
    assert "Admin" in caught.value.message


def test_missing_permission_duplicate_and_empty_text(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    interact(fb_plugins, config, credentials, "publish", text="Same words")
    with pytest.raises(InvalidQuery) as caught:
        interact(fb_plugins, config, credentials, "publish", text="Same words")
    assert "identical" in caught.value.message
    with pytest.raises(InvalidQuery):
        interact(fb_plugins, config, credentials, "comment", BLUEBIRD + "_1", "   ")
    limited = page_credentials(permissions=("pages_show_list", "pages_read_engagement", "pages_manage_posts"))
    story = fb.state.world.posts(BLUEBIRD)[0]
    with pytest.raises(PermissionMissing) as caught:
        interact(fb_plugins, config, limited, "comment", story.id, "Hi")
    assert caught.value.permission == "pages_manage_engagement"
    assert "Business integrations" in caught.value.message
