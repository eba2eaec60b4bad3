"""Bad input in URLs and forms ends in a 404 or a readable 400, never a 500, and the
same way on SQLite and PostgreSQL (ids out of range, Unicode digits, NUL and other
control characters, over-long e-mails)."""
from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, csrf_token, login

from webapp.models import LoginAttempt, Stream, Topic, User
from factories import new_stream

#: Ids no row can have: past SQLite's (and PostgreSQL's bigint) range, zero, negative,
#: padded, and digits of other scripts that ``int()`` would read as 1 or 2.
BAD_IDS = ["9223372036854775808", "18446744073709551616", "9" * 40, "0", "-1", "01", "١", "２", "1.0", "1e3"]
BIGGEST = "9223372036854775807"  # the largest id a row can have: a plain "not found"


@pytest.fixture
def stream(topic):
    return new_stream(topic, service="twitter", page_id="42", name="Acme", authorized=False)


def id_routes(app):
    """Every route that takes an id, with the methods it answers: walked from the URL
    map, so a new route is covered as soon as it exists."""
    for rule in app.url_map.iter_rules():
        names = [name for name in rule.arguments if name.endswith("_id")]
        if names:
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def url_of(rule, bad: str, topic, stream, user) -> list[str]:
    """The rule's path with ``bad`` in each id in turn (the others real ones)."""
    real = {"topic_id": topic.id, "stream_id": stream.id, "user_id": user.id}
    urls = []
    for target in [n for n in rule.arguments if n.endswith("_id")]:
        def fill(match):
            name = match.group(2)
            if name == target:
                return bad
            return str(real.get(name, "twitter"))
        urls.append(re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>", fill, rule.rule))
    return urls


def test_id_routes_are_found(app):
    assert len(list(id_routes(app))) >= 12


def _answers(app, client, bad, topic, stream, member):
    """(method, url, status) of every id route with ``bad`` in each of its ids."""
    token = csrf_token(client, "/account/users")
    for rule, methods in id_routes(app):
        for url in url_of(rule, bad, topic, stream, member):
            for method in methods:
                data = {"csrf_token": token, "role": "admin", "name": "x"} if method == "POST" else None
                for htmx in (False, True):
                    headers = {"HX-Request": "true"} if htmx else {}
                    yield method, url, client.open(url, method=method, data=data, headers=headers).status_code


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_are_not_found(app, admin_client, topic, stream, member, bad):
    for method, url, status in _answers(app, admin_client, bad, topic, stream, member):
        assert status == 404, (method, url, status)
    # Nothing was acted upon: Unicode digits are not ids 1 and 2.
    assert User.select().count() == 2 and Topic.select().count() == 1 and Stream.select().count() == 1


def test_the_biggest_id_is_merely_unknown(app, admin_client, topic, stream, member):
    # In range: each route answers as it does for any unknown id (404, a 400 message, a flash).
    for method, url, status in _answers(app, admin_client, BIGGEST, topic, stream, member):
        assert status < 500, (method, url, status)
    assert User.select().count() == 2 and Topic.select().count() == 1 and Stream.select().count() == 1


def test_unicode_digits_do_not_name_a_user(admin_client, admin, member):
    arabic = str(member.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post(f"/account/users/{arabic}/delete", data={"csrf_token": token})
    assert response.status_code == 404
    assert User.get_or_none(User.id == member.id) is not None


def test_ids_still_work(admin_client, topic):
    assert admin_client.get(f"/account/topics/{topic.id}").status_code == 200


CONTROL = ["a\x00b", "\x00", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b"]


def _refused(response, what="control character"):
    html = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, html[:500])
    assert what in html, html[:2000]
    assert "\x00" not in html
    return html


@pytest.mark.parametrize("value", CONTROL)
def test_control_characters_in_topic_names_are_refused(admin_client, topic, value):
    token = csrf_token(admin_client, "/account/topics/")
    for htmx in (False, True):
        headers = {"HX-Request": "true"} if htmx else {}
        _refused(admin_client.post("/account/topics/", data={"name": value, "csrf_token": token}, headers=headers))
        _refused(admin_client.post(f"/account/topics/{topic.id}/rename", data={"name": value, "csrf_token": token},
                                   headers=headers))
    assert [t.name for t in Topic.select()] == ["Brand"]


def test_htmx_refusal_keeps_the_form(admin_client):
    # The message goes to the top of the page; the form keeps what the person typed.
    token = csrf_token(admin_client, "/account/topics/")
    response = admin_client.post("/account/topics/", data={"name": "a\x00b", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "afterbegin"


def test_tabs_and_newlines_are_still_text(admin_client):
    token = csrf_token(admin_client, "/account/topics/")
    response = admin_client.post("/account/topics/", data={"name": "Our\tbrand\r\n", "csrf_token": token})
    assert response.status_code == 303
    assert Topic.get().name == "Our brand"


@pytest.mark.parametrize("value", ["new\x00@acme.test", "new@acme.test\x00", "\x01new@acme.test"])
def test_control_characters_in_e_mails_are_refused(admin_client, value):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post("/account/users", data={"email": value, "password": "a fine password",
                                                         "role": "member", "csrf_token": token})
    _refused(response)
    assert User.select().count() == 1


@pytest.mark.parametrize("value", ["admin@acme.test\x00", "\x00"])
def test_control_characters_in_the_login_e_mail_are_refused(client, admin, value):
    response = client.post("/login", data={"email": value, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    _refused(response)
    assert LoginAttempt.select().count() == 0


def test_over_long_login_e_mail_is_refused(client, admin):
    email = "a" * 250 + "@acme.test"
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    _refused(response, "at most 254 characters")
    assert LoginAttempt.select().count() == 0
    assert login(client, admin.email).status_code == 302  # the form still works


def test_over_long_e_mail_of_a_new_user_is_refused(admin_client):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post("/account/users", data={"email": "a" * 250 + "@acme.test", "csrf_token": token,
                                                         "password": "a fine password", "role": "member"})
    _refused(response, "at most 254 characters")
