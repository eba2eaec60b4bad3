"""Streams stay inside their account and their person's token: scoping, disconnects,
re-links, unreadable tokens, failing mail."""
import dataclasses
import datetime
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, csrf_token, login
from consent import press
from test_streams import add, connect

from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.crawl import crawl
from webapp.expiry import expire_stream
from webapp.models import ConnectedProfile, Story, Stream, Topic, TopicStream, with_topic_names
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream

FB_PAGE = "104729384756102"  # Bluebird Coffee, administered by the emulator's first person


@pytest.fixture
def foreign(db):
    other = Topic.create(account=create_account("Rival"), name="Theirs")
    return new_stream(other, service="facebook", page_id="1", name="Their page", status="active")


def test_remove_stream_takes_its_stories(admin_client, topic):
    stream = new_stream(topic, service="facebook", page_id="1", name="Ours")
    Story.create(stream=stream, external_id="s", created_at="2026-01-01 00:00:00")
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    response = admin_client.post(f"/account/topics/{topic.id}/streams/{stream.id}/delete",
                                 data={"csrf_token": token, "confirmed": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/account/topics/{topic.id}"
    assert Stream.select().count() == 0 and Story.select().count() == 0
    assert "“Ours” removed from Brand." in admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)


def test_streams_of_other_topics_and_accounts_are_out_of_reach(admin_client, topic, foreign):
    mine_elsewhere = new_stream(Topic.create(account=topic.account, name="Other"), service="facebook",
                                   page_id="2", name="Elsewhere")
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    for stream in (foreign, mine_elsewhere):
        response = admin_client.post(f"/account/topics/{topic.id}/streams/{stream.id}/delete",
                                     data={"csrf_token": token, "confirmed": "1"})
        assert response.status_code == 303
        assert Stream.get_or_none(Stream.id == stream.id) is not None
    html = admin_client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    assert "There is no such stream in this topic." in html
    theirs = TopicStream.get(TopicStream.stream == foreign).topic_id
    assert admin_client.get(f"/account/topics/{theirs}/streams", headers={"HX-Request": "true"}).status_code == 404
    assert admin_client.get(f"/account/topics/{theirs}/add/facebook/public?q=x").status_code == 404
    response = add(admin_client, Topic.get_by_id(theirs), "facebook", "public", "100482736450917", q="@acmeoutdoor")
    assert response.status_code == 404 and TopicStream.select().where(TopicStream.topic == theirs).count() == 1


def test_reconnect_is_a_post_within_the_account(admin_client, foreign):
    expired = new_stream(TopicStream.get(TopicStream.stream == foreign).topic, service="facebook", page_id="9",
                         name="X", status="expired")
    token = csrf_token(admin_client, "/topics")
    assert admin_client.get(f"/personal/reconnect/{expired.id}").status_code == 405
    response = admin_client.post(f"/personal/reconnect/{expired.id}", data={"csrf_token": token})
    assert response.status_code == 303
    assert "There is no such stream in your account." in admin_client.get("/topics").get_data(as_text=True)
    assert Stream.get_by_id(expired.id).status == "expired"


def test_reconnecting_an_unauthorized_stream_requeues_it(admin_client, topic):
    stream = new_stream(topic, service="facebook", page_id="9", name="Public", status="expired")
    admin_client.post(f"/personal/reconnect/{stream.id}", data={"csrf_token": csrf_token(admin_client, "/topics")})
    assert Stream.get_by_id(stream.id).status == "queued"
    assert "“Public” is queued for crawling again." in admin_client.get("/topics").get_data(as_text=True)


def test_members_cannot_use_stream_routes(client, member, topic):
    login(client, member.email)
    token = csrf_token(client, "/topics")
    assert client.get(f"/account/topics/{topic.id}/add/facebook/owned").status_code == 403
    assert client.get(f"/account/topics/{topic.id}/add/facebook/public?q=x").status_code == 403
    assert client.post(f"/account/topics/{topic.id}/streams", data={"csrf_token": token}).status_code == 403


def test_streams_without_csrf_are_refused(admin_client, topic):
    response = admin_client.post(f"/account/topics/{topic.id}/streams",
                                 data={"service": "facebook", "kind": "public", "page_id": "1"})
    assert response.status_code == 400 and "The CSRF token is missing." in response.get_data(as_text=True)


def runtime(environ, **extra):
    return Runtime(load_settings({**environ, **extra}), Plugins())


def test_disconnect_expires_streams_on_its_token_and_tells_admins(admin_client, admin, emulator, topic,
                                                                  environ, smtp_server, app, settings):
    app.extensions["streamdesk"] = dataclasses.replace(settings, smtp_url=smtp_server.url)
    connect(admin_client, "twitter")
    connect(admin_client, "facebook")
    owner = emulator("twitter", "GET", "")["owner"]["id"]
    add(admin_client, topic, "twitter", "owned", owner)
    add(admin_client, topic, "facebook", "owned", FB_PAGE)
    token = csrf_token(admin_client, "/personal/connected-profiles")
    for service in ("twitter", "facebook"):
        admin_client.post(f"/personal/connected-profiles/{service}/disconnect",
                          data={"csrf_token": token, "confirmed": "1"})
    x_stream = Stream.get(Stream.service == "twitter")
    fb_stream = Stream.get(Stream.service == "facebook")
    assert x_stream.status == "expired" and "was disconnected in Connected profiles" in x_stream.status_message
    assert fb_stream.status == "queued" and fb_stream.credentials is not None  # its page token goes on
    assert [m.recipients for m in smtp_server.messages] == [[admin.email]]
    # And a crawl never falls back to public access for the token-less stream.
    assert crawl(runtime(environ), x_stream) == "expired"


def test_linking_another_x_account_does_not_hand_it_the_old_streams(admin_client, emulator, topic, environ):
    connect(admin_client, "twitter")
    users = emulator("twitter", "GET", "")
    owner = users["owner"]["id"]
    add(admin_client, topic, "twitter", "owned", owner)
    other = next(u for u in users["users"] if u["id"] != owner and not u.get("suspended")
                 and not u.get("protected"))
    connect(admin_client, "twitter", select={"user_id": other["id"]})
    assert ConnectedProfile.get().external_id == other["id"]
    stream = Stream.get()
    assert stream.status == "expired" and stream.connected_profile is None
    assert "Reconnect with the account that owns this page." in stream.status_message
    assert crawl(runtime(environ), stream) == "expired"


def test_unreadable_tokens_do_not_break_pages(admin_client, emulator, topic, environ, db):
    connect(admin_client, "twitter")
    add(admin_client, topic, "twitter", "owned", emulator("twitter", "GET", "")["owner"]["id"])
    db.execute_sql("UPDATE connected_profile SET access_token = 'not-a-fernet-token'")
    assert admin_client.get("/topics").status_code == 200
    assert admin_client.get(f"/account/topics/{topic.id}").status_code == 200
    html = admin_client.get("/personal/connected-profiles").get_data(as_text=True)
    assert "Expired</span>" in html and "reconnect to go on" in html
    assert crawl(runtime(environ), Stream.get()) == "error"
    assert "cannot be read with this server's TOKEN_KEY" in Stream.get().status_message


def test_a_failing_mail_server_does_not_stop_the_expiry(topic, environ, admin):
    stream = new_stream(topic, service="twitter", page_id="1", name="Acme\r\nBcc: evil@x", status="active")
    rt = runtime(environ, SMTP_URL="smtp://127.0.0.1:1")
    assert expire_stream(rt, stream, "Token revoked.") is True
    assert Stream.get_by_id(stream.id).status == "expired"


def test_people_of_other_accounts_never_see_a_profile(client, admin, emulator, db):
    login(client, admin.email)
    connect(client, "twitter")
    outsider = create_user(create_account("Other"), "out@other.test", PASSWORD, "admin")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    login(client, outsider.email)
    html = client.get("/personal/connected-profiles").get_data(as_text=True)
    assert ConnectedProfile.get().name not in html


def test_a_member_cannot_take_over_an_expired_authorized_stream(client, admin, member, emulator, topic):
    """Issue 8, item 6: the banner's Reconnect (and linking a profile, which revives the
    account's expired streams) must not let a member relink the account's authorized
    stream with their own profile."""
    login(client, admin.email)
    connect(client, "facebook")
    add(client, topic, "facebook", "owned", FB_PAGE)
    stream = Stream.get()
    admins_profile = stream.connected_profile_id
    Stream.update(status="expired", status_message="Token revoked.").where(Stream.id == stream.id).execute()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})

    login(client, member.email)
    html = client.get("/topics").get_data(as_text=True)
    assert f"/personal/reconnect/{stream.id}" not in html and "Ask an admin of your account" in html
    response = client.post(f"/personal/reconnect/{stream.id}", data={"csrf_token": csrf_token(client, "/topics")})
    assert response.status_code == 303 and response.headers["Location"] == "/topics"
    assert "Only an admin of your account can reconnect" in client.get("/topics").get_data(as_text=True)
    # The member links the very person who administers the page: still not theirs to revive.
    html = connect(client, "facebook")
    assert "Reconnected" not in html
    fresh = Stream.get_by_id(stream.id)
    assert fresh.status == "expired" and fresh.connected_profile_id == admins_profile
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})

    login(client, admin.email)
    assert 'href="/personal/connected-profiles/facebook/connect?next=/topics"' in client.get("/topics").get_data(as_text=True)
    html = connect(client, "facebook")
    assert "Reconnected 1 expired stream." in html and Stream.get_by_id(stream.id).status == "queued"


def test_the_banner_shows_on_account_topics_and_the_nav_and_reconnect_comes_back(admin_client, topic, emulator):
    """Issue 14: the red banner on Account settings → Topics too, a badge on the Topics
    link, and Reconnect returns to the page it was pressed on."""
    public = new_stream(topic, service="facebook", page_id="9", name="Public", status="expired",
                           status_message="(#190) Error validating access token")
    html = admin_client.get("/account/topics/").get_data(as_text=True)
    assert 'class="expired-banner"' in html and 'class="badge expired-count"' in html
    assert "Streamdesk can no longer use its connection to Facebook." in html
    assert "<summary>What Facebook said</summary>(#190) Error validating access token" in html
    token = csrf_token(admin_client, "/account/topics/")
    response = admin_client.post(f"/personal/reconnect/{public.id}",
                                 data={"csrf_token": token, "next": "/account/topics/"})
    assert response.status_code == 303 and response.headers["Location"] == "/account/topics/"
    html = admin_client.get("/account/topics/").get_data(as_text=True)
    assert 'class="expired-banner"' not in html and "expired-count" not in html
    for elsewhere in ("https://evil.example/", "//evil.example/"):  # never an open redirect
        Stream.update(status="expired").where(Stream.id == public.id).execute()
        response = admin_client.post(f"/personal/reconnect/{public.id}", data={"csrf_token": token, "next": elsewhere})
        assert response.headers["Location"] == "/topics"


def test_reconnecting_an_authorized_stream_comes_back_to_the_banner_page(admin_client, emulator, topic):
    connect(admin_client, "twitter")
    add(admin_client, topic, "twitter", "owned", emulator("twitter", "GET", "")["owner"]["id"])
    stream = Stream.get()
    Stream.update(status="expired").where(Stream.id == stream.id).execute()
    banner = admin_client.get("/account/topics/").get_data(as_text=True)
    link = "/personal/connected-profiles/twitter/connect?next=/account/topics/"
    assert f'href="{link}"' in banner  # a link: the CSP lets forms post to Streamdesk only
    response = admin_client.get(link)
    callback = urlsplit(press(response.headers["Location"], "Authorize app"))
    response = admin_client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 302 and response.headers["Location"] == "/account/topics/"
    assert Stream.get().status == "queued"


def test_without_javascript_remove_and_disconnect_ask_first(admin_client, emulator, topic):
    """Issue 14: a plain form post (no htmx, so no hx-confirm dialog) gets a confirmation
    page; only its own form, which says so, removes or disconnects."""
    stream = new_stream(topic, service="facebook", page_id="1", name="Ours <b>")
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    remove = f"/account/topics/{topic.id}/streams/{stream.id}/delete"
    html = admin_client.post(remove, data={"csrf_token": token}).get_data(as_text=True)
    assert "Remove “Ours &lt;b&gt;” from Brand?" in html and 'name="confirmed" value="1"' in html
    assert f'action="{remove}"' in html and f'href="/account/topics/{topic.id}"' in html
    assert Stream.get_or_none(Stream.id == stream.id) is not None
    response = admin_client.post(remove, data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 303 and Stream.get_or_none(Stream.id == stream.id) is None

    connect(admin_client, "twitter")
    disconnect = "/personal/connected-profiles/twitter/disconnect"
    html = admin_client.post(disconnect, data={"csrf_token": token}).get_data(as_text=True)
    assert "Disconnect your X (Twitter) profile" in html and ConnectedProfile.select().count() == 1
    admin_client.post(disconnect, data={"csrf_token": token, "confirmed": "1"})
    assert ConnectedProfile.select().count() == 0


def test_a_page_in_two_topics_is_one_stream_and_keeps_its_data_for_the_other(admin_client, topic):
    """One crawl per page: removing the page from one topic keeps what the other topic
    shows; removing it from the last topic (or deleting that topic) takes the data."""
    from webapp.crawl import ingest
    from webapp.db import database
    from streamdesk_contract.values import CrawlPage, Story as StoryValue

    stream = new_stream(topic, service="facebook", page_id="1", name="Ours")
    other = Topic.create(account=topic.account, name="Launch")
    TopicStream.create(topic=other, stream=stream)
    with database.atomic():
        ingest(stream, CrawlPage(None, (StoryValue("s1", datetime.datetime(2026, 1, 1)),)))
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    response = admin_client.post(f"/account/topics/{topic.id}/streams/{stream.id}/delete",
                                 data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 303
    assert with_topic_names([Stream.get_by_id(stream.id)])[0].topic_names == ["Launch"] and Story.select().count() == 1
    response = admin_client.post(f"/account/topics/{other.id}/delete", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code in (303, 204)
    assert Stream.select().count() == 0 and Story.select().count() == 0


def _crawled(stream, n: int = 2) -> None:
    """Stories, comments, messages, figures and a gap of ``stream``."""
    from webapp.models import Comment, Figure, Message, StreamGap

    at = datetime.datetime(2026, 1, 1)
    for i in range(n):
        Story.create(stream=stream, external_id=f"s{i}", created_at=at)
        Comment.create(stream=stream, external_id=f"c{i}", story_external_id=f"s{i}", created_at=at)
        Message.create(stream=stream, external_id=f"m{i}", conversation_id="t1", created_at=at)
        Figure.create(stream=stream, level="post", object_id=f"s{i}", name="reach", value=i)
    StreamGap.create(stream=stream, starts_at=at, ends_at=at, reason="expired")


def _rows_of(stream_id: int) -> dict[str, int]:
    from webapp.models import Comment, Figure, Message, StreamGap

    return {model.__name__: model.select().where(model.stream == stream_id).count()
            for model in (Story, Comment, Message, Figure, StreamGap, TopicStream)}


def test_removing_pages_takes_all_their_data_and_keeps_other_topics_pages(admin_client, topic):
    """Removal is one DELETE that the foreign keys cascade: every related table of the
    removed page is emptied, on SQLite (foreign_keys pragma) and PostgreSQL alike, and the
    pages other topics hold keep every row."""
    other = Topic.create(account=topic.account, name="Launch")
    removed, doomed_by_topic = (new_stream(topic, service="facebook", page_id=str(n), name=f"Ours {n}")
                                for n in (1, 2))
    kept = new_stream(other, service="facebook", page_id="3", name="Theirs")
    shared = new_stream(topic, service="facebook", page_id="4", name="Both")
    TopicStream.create(topic=other, stream=shared)
    for stream in (removed, doomed_by_topic, kept, shared):
        _crawled(stream)
    full = _rows_of(kept.id)
    assert full == {"Story": 2, "Comment": 2, "Message": 2, "Figure": 2, "StreamGap": 1, "TopicStream": 1}
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    response = admin_client.post(f"/account/topics/{topic.id}/streams/{removed.id}/delete",
                                 data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 303
    assert Stream.get_or_none(Stream.id == removed.id) is None
    assert set(_rows_of(removed.id).values()) == {0}
    assert _rows_of(doomed_by_topic.id) == full and _rows_of(kept.id) == full
    response = admin_client.post(f"/account/topics/{topic.id}/delete", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code in (303, 204)
    assert Topic.get_or_none(Topic.id == topic.id) is None
    assert Stream.get_or_none(Stream.id == doomed_by_topic.id) is None
    assert set(_rows_of(doomed_by_topic.id).values()) == {0}
    assert _rows_of(kept.id) == full
    assert _rows_of(shared.id) == full and with_topic_names([Stream.get_by_id(shared.id)])[0].topic_names == ["Launch"]
