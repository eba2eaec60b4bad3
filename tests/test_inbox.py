"""Inbox: the newest crawled comments and messages of the account, escaped."""
import datetime

from conftest import login

from webapp.accounts import create_account
from webapp.models import Comment, Message, Stream, Topic

T = datetime.datetime(2026, 11, 1, 12, 0)


def test_inbox_shows_the_accounts_comments_and_messages_escaped(client, admin, account):
    stream = Stream.create(topic=Topic.create(account=account, name="Brand"), service="facebook",
                           page_id="1", name="Bluebird Coffee", authorized=True, status="active")
    Comment.create(stream=stream, external_id="c1", story_external_id="s1", created_at=T,
                   text='<img src=x onerror="alert(1)"> Love this!', author_name="Maria")
    Message.create(stream=stream, external_id="m1", conversation_id="t1", created_at=T,
                   text="Are you open tomorrow?", sender_name="James")
    other = Stream.create(topic=Topic.create(account=create_account("Rival"), name="T"), service="facebook",
                          page_id="2", name="Theirs")
    Comment.create(stream=other, external_id="c2", story_external_id="s2", created_at=T, text="Their secret comment")
    login(client, admin.email)
    html = client.get("/inbox").get_data(as_text=True)
    assert "Maria" in html and "Love this!" in html and "Are you open tomorrow?" in html
    assert '<img src=x onerror="alert(1)">' not in html and "&lt;img src=x" in html
    assert "Their secret comment" not in html


def test_empty_inbox(client, admin):
    login(client, admin.email)
    assert "appear here once a topic has streams" in client.get("/inbox").get_data(as_text=True)
