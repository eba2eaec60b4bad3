"""Account settings → Topics: create, rename, delete; bad input; scoping to the account."""
import datetime

from conftest import csrf_token, login
from factories import new_stream
from streamdesk_contract.values import CrawlPage
from streamdesk_contract.values import Story as StoryValue

from webapp.accounts import create_account
from webapp.crawl import ingest
from webapp.db import database
from webapp.models import Story, Stream, Topic


def create(client, name, htmx=True):
    token = csrf_token(client, "/account/topics/")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/account/topics/", data={"name": name, "csrf_token": token}, headers=headers)


def test_create_topic_opens_it(admin_client):
    response = create(admin_client, "  Our   brand ", htmx=False)
    topic = Topic.get(Topic.name == "Our brand")
    assert response.status_code == 303 and response.headers["Location"] == f"/account/topics/{topic.id}"
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Topic “Our brand” created. Add its first stream below." in html
    assert 'data-service="facebook"' in html and 'data-service="twitter"' in html


def test_create_topic_over_htmx_redirects_the_page(admin_client):
    response = create(admin_client, "Competitors")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/account/topics/{Topic.get(Topic.name == 'Competitors').id}"


def test_bad_topic_names_get_clear_messages_and_nothing_is_saved(admin_client):
    create(admin_client, "Taken")
    cases = [("", "Enter a topic name."), ("   ", "Enter a topic name."),
             ("x" * 81, "A topic name can be at most 80 characters long (this one has 81)."),
             ("TAKEN", "A topic named “TAKEN” already exists.")]
    for name, message in cases:
        response = create(admin_client, name)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert Topic.select().count() == 1


def test_html_in_topic_names_is_escaped(admin_client):
    create(admin_client, '<script>alert("x")</script>')
    html = admin_client.get("/account/topics/").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>alert" not in admin_client.get("/topics").get_data(as_text=True)


def test_rename_topic(admin_client):
    create(admin_client, "Old")
    create(admin_client, "Other")
    topic = Topic.get(Topic.name == "Old")
    token = csrf_token(admin_client, f"/account/topics/{topic.id}")
    response = admin_client.post(f"/account/topics/{topic.id}/rename", data={"name": "other", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 400 and "A topic named “other” already exists." in response.get_data(as_text=True)
    response = admin_client.post(f"/account/topics/{topic.id}/rename", data={"name": "New", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Topic renamed." in response.get_data(as_text=True)
    assert Topic.get_by_id(topic.id).name == "New"


def test_delete_asks_first_and_says_what_goes(admin_client, account):
    create(admin_client, "Doomed")
    topic = Topic.get(Topic.name == "Doomed")
    stream = new_stream(topic, service="facebook", page_id="1", name="A page")
    page = CrawlPage(None, tuple(StoryValue(str(i), datetime.datetime(2026, 1, 1)) for i in range(3)))
    with database.atomic():
        ingest(stream, page)
        ingest(stream, page)  # a re-crawl of the same stories counts nothing twice
    listing = " ".join(admin_client.get("/account/topics/").get_data(as_text=True).split())
    assert 'Doomed</a></td> <td>1</td> <td>3</td>' in listing  # streams and stories per topic
    html = admin_client.get(f"/account/topics/{topic.id}/delete").get_data(as_text=True)
    assert "Deleting this topic also deletes its 1 stream and 3 stories." in html
    token = csrf_token(admin_client, f"/account/topics/{topic.id}/delete")
    response = admin_client.post(f"/account/topics/{topic.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert "Topic “Doomed” deleted with its 1 stream and 3 stories." in admin_client.get("/account/topics/").get_data(as_text=True)
    assert Topic.select().count() == 0 and Stream.select().count() == 0 and Story.select().count() == 0


def test_topics_of_other_accounts_are_out_of_reach(admin_client, db):
    other = Topic.create(account=create_account("Rival"), name="Their secret plans")
    token = csrf_token(admin_client, "/account/topics/")
    assert admin_client.get(f"/account/topics/{other.id}").status_code == 404
    assert "Their secret plans" not in admin_client.get("/account/topics/").get_data(as_text=True)
    assert "Their secret plans" not in admin_client.get("/topics").get_data(as_text=True)
    response = admin_client.post(f"/account/topics/{other.id}/rename", data={"name": "Mine", "csrf_token": token})
    assert response.status_code == 404 and Topic.get_by_id(other.id).name == "Their secret plans"
    response = admin_client.post(f"/account/topics/{other.id}/delete", data={"csrf_token": token})
    assert response.status_code == 404 and Topic.get_or_none(Topic.id == other.id) is not None


def test_members_see_topics_but_cannot_manage_them(client, admin, member):
    Topic.create(account=admin.account, name="Shared")
    login(client, member.email)
    assert "Shared" in client.get("/topics").get_data(as_text=True)
    assert client.get("/account/topics/").status_code == 403
    token = csrf_token(client, "/topics")
    assert client.post("/account/topics/", data={"name": "Mine", "csrf_token": token}).status_code == 403


def test_unknown_service_in_a_url_gets_a_clear_message(admin_client):
    create(admin_client, "T")
    topic = Topic.get(Topic.name == "T")
    for kind in ("owned", "public"):
        response = admin_client.get(f"/account/topics/{topic.id}/add/myspace/{kind}")
        assert response.status_code == 404
        assert "There is no service called “myspace”." in response.get_data(as_text=True)
