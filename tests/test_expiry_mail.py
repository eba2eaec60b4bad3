"""One e-mail per broken connection, to each admin, naming every stream it stopped; and
the outbox, where admins read what was sent (or, without SMTP_URL, would have been)."""
import dataclasses
from email.header import decode_header, make_header

import pytest
from conftest import PASSWORD, csrf_token, login, mail_part
from test_streams import add, connect

from webapp.accounts import create_user
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.models import OutboxEmail, Stream, Topic, with_topic_names
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream

FB_PAGE = "104729384756102"  # Bluebird Coffee, administered by the emulator's first person


@pytest.fixture
def topics(account):
    return Topic.create(account=account, name="Brand"), Topic.create(account=account, name="Launch <2027>")


def test_one_mail_per_admin_for_a_page_in_two_topics(admin_client, admin, account, emulator, topics, environ,
                                                     smtp_server):
    second_admin = create_user(account, "boss@acme.test", PASSWORD, role="admin")
    create_user(account, "member@acme.test", PASSWORD, role="member")
    connect(admin_client, "facebook")
    for topic in topics:
        add(admin_client, topic, "facebook", "owned", FB_PAGE)
    user_id = emulator("facebook", "GET", "/seed")["people"][0]["id"]
    emulator("facebook", "POST", f"/people/{user_id}/password")  # every token of the person dies
    rt = Runtime(load_settings({**environ, "SMTP_URL": smtp_server.url}), Plugins())
    stream = Stream.get()  # one page in two topics is one stream, crawled once
    assert sorted(with_topic_names([stream])[0].topic_names) == ["Brand", "Launch <2027>"]
    assert crawl(rt, stream) == "expired"
    assert crawl(rt, Stream.get_by_id(stream.id)) == "expired"  # …and nobody hears of it twice
    assert sorted(m.recipients for m in smtp_server.messages) == sorted([[second_admin.email], [admin.email]])
    mail = smtp_server.messages[0]
    assert str(make_header(decode_header(mail["Subject"]))) == "Streamdesk: Facebook stream “Bluebird Coffee” expired"
    text, html = mail_part(mail), mail_part(mail, "html")
    assert "“Bluebird Coffee” in the topics “Brand”, “Launch <2027>” has expired" in text
    assert "Launch &lt;2027&gt;" in html and "Launch <2027>" not in html  # page data escaped in HTML
    assert f'href="{rt.settings.public_url}/topics"' in html
    assert OutboxEmail.select().where(OutboxEmail.delivered == True).count() == 2  # noqa: E712


def test_without_smtp_the_outbox_shows_what_admins_would_receive(client, admin, member, account, topics, environ):
    from webapp.expiry import expire_stream

    stream = new_stream(topics[0], service="twitter", page_id="1", name="Acme <b>", status="active")
    assert expire_stream(Runtime(load_settings(environ), Plugins()), stream, "The token was revoked.")
    login(client, member.email)
    assert client.get("/account/outbox").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    login(client, admin.email)
    html = client.get("/account/outbox").get_data(as_text=True)
    assert "No mail server is configured" in html and "Streamdesk: X (Twitter) stream “Acme &lt;b&gt;” expired" in html
    assert "The token was revoked." in html and "kept" in html and member.email not in html
    partial = client.get("/account/outbox", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.lstrip().startswith('<section id="outbox-section"')


def test_a_failing_mail_server_is_shown_in_the_outbox(admin_client, admin, topics, environ, app, settings):
    from webapp.expiry import expire_stream

    app.extensions["streamdesk"] = dataclasses.replace(settings, smtp_url="smtp://127.0.0.1:1")
    stream = new_stream(topics[0], service="twitter", page_id="1", name="Acme", status="active")
    assert expire_stream(Runtime(load_settings({**environ, "SMTP_URL": "smtp://127.0.0.1:1"}), Plugins()), stream,
                         "The token was revoked.")
    html = admin_client.get("/account/outbox").get_data(as_text=True)
    assert "not sent" in html and "cannot send e-mail through 127.0.0.1:1" in html
