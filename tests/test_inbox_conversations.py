"""The team inbox through its pages: conversations made by a real crawl of the Facebook
emulator, filters in the URL, opened in place or as a page, assigned, closed, answered
by a real send (counted by the emulator), saved replies and roles, other accounts' ids."""
import re

import pytest
from conftest import PASSWORD, login
from faultkit import ALEX, BLUEBIRD, authorized_stream, page_token

from webapp.accounts import create_account, create_user
from webapp.crawl import crawl
from webapp.models import Action, Conversation, ConversationRead, Message, SavedReply
from webapp.send import send
from webapp.streams import Runtime


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def hidden_fields(html: str, marker: str) -> dict:
    """The hidden fields of the first form that contains ``marker``."""
    for form in re.findall(r"<form[^>]*>.*?</form>", html, re.S):
        if marker in form:
            return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    raise AssertionError(f"no form with {marker}")


@pytest.fixture
def rt(settings, plugins):
    return Runtime(settings, plugins)


@pytest.fixture
def page(topic, emulator, emulator_urls, admin, rt):
    """Bluebird Coffee as an authorized stream, crawled once: its conversations exist,
    the newest one written just now (Facebook lets a page answer within 24 hours)."""
    emulator("facebook", "POST", "/messages", page_id=BLUEBIRD, message="Are you open today?")
    stream = authorized_stream(topic, page_token(emulator_urls["facebook"], emulator, BLUEBIRD, ALEX), BLUEBIRD,
                               "Bluebird Coffee")
    crawl(rt, stream)
    return stream


def a_message_conversation(page) -> Conversation:
    return (Conversation.select().where((Conversation.stream == page.id) & (Conversation.kind == "message"))
            .order_by(Conversation.last_activity_at.desc()).first())


def test_a_crawl_makes_conversations_and_the_inbox_lists_and_filters_them(admin_client, page, member):
    assert Conversation.select().where(Conversation.kind == "message").count() > 0
    assert Conversation.select().where(Conversation.kind == "comments").count() > 0
    conversation = a_message_conversation(page)
    html = admin_client.get("/inbox").get_data(as_text=True)
    assert f'href="/inbox/{conversation.id}"' in html and "unread" in html
    Conversation.update(assignee=member.id).where(Conversation.id == conversation.id).execute()
    mine = admin_client.get("/inbox?who=mine").get_data(as_text=True)
    assert f'href="/inbox/{conversation.id}' not in mine and "No conversations match" in mine
    unassigned = admin_client.get("/inbox?who=unassigned").get_data(as_text=True)
    assert f'href="/inbox/{conversation.id}' not in unassigned
    assert f'/inbox/{conversation.id}?service=twitter' not in admin_client.get("/inbox?service=twitter").get_data(
        as_text=True)
    assert "No conversations match" in admin_client.get("/inbox?service=twitter").get_data(as_text=True)
    # opening it: a page without htmx, the partial with it; both mark it read
    page_html = admin_client.get(f"/inbox/{conversation.id}?who=unassigned").get_data(as_text=True)
    assert "<html" in page_html and 'href="/inbox?who=unassigned"' in page_html
    assert ConversationRead.select().where(ConversationRead.conversation == conversation.id).count() == 1
    partial = admin_client.get(f"/inbox/{conversation.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and 'name="kind" value="message"' in partial
    assert f'name="conversation" value="{conversation.id}"' in partial


def test_assign_close_reopen_with_csrf_and_without_js(admin_client, page, member):
    conversation = a_message_conversation(page)
    html = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    csrf = token_of(html)
    assert admin_client.post(f"/inbox/{conversation.id}/assign", data={"assignee": member.id}).status_code == 400
    answer = admin_client.post(f"/inbox/{conversation.id}/assign?who=mine",
                               data={"assignee": member.id, "csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/inbox/{conversation.id}?who=mine")
    assert Conversation.get_by_id(conversation.id).assignee_id == member.id
    closed = admin_client.post(f"/inbox/{conversation.id}/status", data={"status": "closed", "csrf_token": csrf},
                               headers={"HX-Request": "true"})
    assert closed.status_code == 200 and ">Reopen</button>" in closed.get_data(as_text=True)
    assert Conversation.get_by_id(conversation.id).status == "closed"
    assert f'/inbox/{conversation.id}?status=closed"' in admin_client.get("/inbox?status=closed").get_data(as_text=True)
    bad = admin_client.post(f"/inbox/{conversation.id}/status", data={"status": "gone", "csrf_token": csrf})
    assert bad.status_code == 400 and "open or closed" in bad.get_data(as_text=True)
    stranger = create_user(create_account("Rival"), "x@rival.test", PASSWORD)
    refused = admin_client.post(f"/inbox/{conversation.id}/assign", data={"assignee": stranger.id,
                                                                          "csrf_token": csrf})
    assert refused.status_code == 400 and Conversation.get_by_id(conversation.id).assignee_id == member.id


def test_another_accounts_conversation_is_404(client, page, admin):
    conversation = a_message_conversation(page)
    stranger = create_user(create_account("Rival"), "x@rival.test", PASSWORD, role="admin")
    login(client, stranger.email)
    csrf = token_of(client.get("/inbox").get_data(as_text=True))
    assert client.get(f"/inbox/{conversation.id}").status_code == 404
    assert client.post(f"/inbox/{conversation.id}/status", data={"status": "closed", "csrf_token": csrf}
                       ).status_code == 404
    assert client.post(f"/inbox/{conversation.id}/assign", data={"assignee": "", "csrf_token": csrf}
                       ).status_code == 404
    assert Conversation.get_by_id(conversation.id).status == "open"
    assert "Bluebird Coffee" not in client.get("/inbox?status=all").get_data(as_text=True)


def test_a_reply_sent_through_the_emulator_marks_the_conversation_answered(admin_client, page, admin, rt,
                                                                           emulator):
    SavedReply.create(account=admin.account_id, title="Thanks", text="Thanks for writing to us!")
    conversation = a_message_conversation(page)
    html = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    form = hidden_fields(html, 'name="kind" value="message"')
    saved = SavedReply.get()
    assert f'<option value="{saved.id}">Thanks</option>' in html
    emulator("facebook", "DELETE", "/calls")
    for _ in range(2):  # a double click: one action
        answer = admin_client.post("/actions", data={**form, "text": "We open at 8.", "saved_reply": saved.id})
        assert answer.status_code == 303
    action = Action.get()
    assert action.kind == "message" and action.target_id == conversation.external_id
    assert action.text == "We open at 8.\n\nThanks for writing to us!"
    outcome = send(rt, action.id)
    assert outcome == "sent", Action.get().error
    calls = emulator("facebook", "GET", "/calls")["calls"]
    assert sum(n for call, n in calls.items() if call.startswith("POST ") and call.endswith("/messages")) == 1
    answered = Conversation.get_by_id(conversation.id)
    assert answered.answered_by_id == admin.id and answered.answered_at is not None
    # what was sent shows in the thread at once, and the inbox says who answered
    assert Message.get(Message.external_id == Action.get().external_id).sender_id == BLUEBIRD
    assert f"Answered by {admin.email} at" in admin_client.get("/inbox").get_data(as_text=True)
    assert "We open at 8." in admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)


def test_a_comment_conversation_is_answered_by_a_reply_to_the_newest_comment(admin_client, page, admin, rt):
    conversation = (Conversation.select().where((Conversation.stream == page.id) &
                                                (Conversation.kind == "comments")).first())
    html = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    form = hidden_fields(html, 'name="kind" value="reply"')
    assert admin_client.post("/actions", data={**form, "text": "Glad you liked it!"}).status_code == 303
    action = Action.get()
    assert action.story_external_id == conversation.external_id
    outcome = send(rt, action.id)
    assert outcome == "sent", Action.get().error
    assert Conversation.get_by_id(conversation.id).answered_by_id == admin.id


def test_saved_replies_admins_manage_members_use(client, admin, member):
    login(client, member.email)
    assert client.get("/account/saved-replies/").status_code == 403
    csrf = token_of(client.get("/inbox").get_data(as_text=True))
    assert client.post("/account/saved-replies/", data={"title": "x", "text": "y", "csrf_token": csrf}
                       ).status_code == 403
    assert SavedReply.select().count() == 0
    client.post("/logout", data={"csrf_token": csrf})
    login(client, admin.email)
    html = client.get("/account/saved-replies/").get_data(as_text=True)
    csrf = token_of(html)
    assert client.post("/account/saved-replies/", data={"title": "Hours", "text": "We open at 8.",
                                                        "csrf_token": csrf}).status_code == 303
    empty = client.post("/account/saved-replies/", data={"title": "", "text": "", "csrf_token": csrf})
    assert empty.status_code == 400 and "needs a title and a text" in empty.get_data(as_text=True)
    reply = SavedReply.get()
    assert client.post(f"/account/saved-replies/{reply.id}", data={"title": "Opening hours", "text": "8 to 6",
                                                                   "csrf_token": csrf}).status_code == 303
    assert (SavedReply.get().title, SavedReply.get().text) == ("Opening hours", "8 to 6")
    theirs = SavedReply.create(account=create_account("Rival"), title="Secret", text="theirs")
    assert client.post(f"/account/saved-replies/{theirs.id}/delete", data={"csrf_token": csrf}).status_code == 404
    assert "Secret" not in client.get("/account/saved-replies/").get_data(as_text=True)
    assert client.post(f"/account/saved-replies/{reply.id}/delete", data={"csrf_token": csrf}).status_code == 303
    assert SavedReply.select().where(SavedReply.account == admin.account_id).count() == 0
