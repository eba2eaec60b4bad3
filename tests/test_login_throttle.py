"""Failed logins are throttled per e-mail and address pair, with a growing delay, and a
much higher cap per address: people behind one reverse proxy do not lock each other out."""
import datetime

import pytest
from conftest import PASSWORD, csrf_token

from webapp import create_app
from webapp.config import load_settings
from webapp.db import migrate
from webapp.models import LoginAttempt


def login_from(client, address: str, email: str, password: str = PASSWORD, **headers):
    """Log in through the real form, as a browser at ``address`` would."""
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=headers)


def wait(seconds: float) -> None:
    """Let ``seconds`` pass for the throttle: move every recorded attempt into the past."""
    for attempt in LoginAttempt.select():
        attempt.created_at -= datetime.timedelta(seconds=seconds)
        attempt.save()


def test_failed_logins_from_a_shared_address_do_not_lock_other_users_out(client, admin, member):
    # Behind a reverse proxy every person arrives from the proxy's address: 20 failures
    # of some of them (or of a guesser) must not keep the others out.
    for n in range(20):
        assert login_from(client, "10.0.0.1", f"someone{n}@acme.test", "wrong password!").status_code == 400
    assert login_from(client, "10.0.0.1", admin.email).status_code == 302


def test_failures_of_one_email_and_address_wait_longer_each_time(client, member):
    for _ in range(3):  # the first few mistakes cost nothing
        assert login_from(client, "10.0.0.2", member.email, "wrong password!").status_code == 400
    response = login_from(client, "10.0.0.2", member.email)  # even the right password waits
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 seconds." in response.get_data(as_text=True)
    wait(16)
    assert login_from(client, "10.0.0.2", member.email, "wrong password!").status_code == 400
    response = login_from(client, "10.0.0.2", member.email, "wrong password!")
    assert response.status_code == 429  # refused attempts are not checked, not counted
    assert "Try again in 30 seconds." in response.get_data(as_text=True)
    wait(31)
    assert login_from(client, "10.0.0.2", member.email, "wrong password!").status_code == 400
    assert "Try again in 1 minute." in login_from(client, "10.0.0.2", member.email).get_data(as_text=True)
    assert LoginAttempt.select().count() == 5


def test_the_delay_stops_growing_at_15_minutes(client, member, db):
    LoginAttempt.insert_many([{"email": member.email, "ip": "10.0.0.3", "succeeded": False}] * 30).execute()
    response = login_from(client, "10.0.0.3", member.email)
    assert response.status_code == 429
    assert "Try again in 15 minutes." in response.get_data(as_text=True)


def test_a_throttled_pair_does_not_keep_the_person_out_elsewhere(client, member):
    for _ in range(4):
        login_from(client, "10.0.0.4", member.email, "wrong password!")
    assert login_from(client, "10.0.0.4", member.email).status_code == 429
    assert login_from(client, "10.0.0.5", member.email).status_code == 302


def test_a_successful_login_forgets_the_earlier_failures(client, member):
    for _ in range(3):
        login_from(client, "10.0.0.6", member.email, "wrong password!")
    wait(16)
    assert login_from(client, "10.0.0.6", member.email).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/topics")})
    for _ in range(3):
        assert login_from(client, "10.0.0.6", member.email, "wrong password!").status_code == 400


def test_one_address_trying_many_accounts_hits_the_address_cap(client, admin, db):
    from webapp.accounts import ADDRESS_LIMIT

    assert ADDRESS_LIMIT >= 200  # a team behind one proxy has room for its typos
    LoginAttempt.insert_many([{"email": f"guess{n}@acme.test", "ip": "10.0.0.7", "succeeded": False}
                              for n in range(ADDRESS_LIMIT)]).execute()
    response = login_from(client, "10.0.0.7", admin.email)
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in response.get_data(as_text=True)
    assert login_from(client, "10.0.0.8", admin.email).status_code == 302


def test_the_address_waits_until_enough_failures_have_left_the_window(client, admin, db):
    from webapp.accounts import ADDRESS_LIMIT
    from webapp.models import utcnow

    # Five failures of 14 minutes ago leave the window soon, but the address is still
    # over its limit without them: it must wait for the recent ones.
    old = utcnow() - datetime.timedelta(minutes=14)
    LoginAttempt.insert_many([{"email": f"old{n}@acme.test", "ip": "10.0.0.7", "succeeded": False, "created_at": old}
                              for n in range(5)]).execute()
    LoginAttempt.insert_many([{"email": f"guess{n}@acme.test", "ip": "10.0.0.7", "succeeded": False}
                              for n in range(ADDRESS_LIMIT)]).execute()
    response = login_from(client, "10.0.0.7", admin.email)
    assert "Too many failed attempts. Try again in 15 minutes." in response.get_data(as_text=True)


@pytest.fixture
def proxied_client(environ, plugins):
    """A client of an app behind one trusted reverse proxy (TRUSTED_PROXIES=1)."""
    app = create_app(load_settings({**environ, "TRUSTED_PROXIES": "1"}), plugins)
    app.config["TESTING"] = True
    with app.extensions["streamdesk.db"].connection_context():
        migrate(app.extensions["streamdesk.db"])
    return app.test_client()


def test_behind_a_trusted_proxy_the_forwarded_address_counts(proxied_client, member):
    for _ in range(3):
        login_from(proxied_client, "10.0.0.1", member.email, "wrong password!", **{"X-Forwarded-For": "203.0.113.5"})
    refused = login_from(proxied_client, "10.0.0.1", member.email, **{"X-Forwarded-For": "203.0.113.5"})
    assert refused.status_code == 429
    assert LoginAttempt.select().where(LoginAttempt.ip == "203.0.113.5").count() == 3
    # The same person at another desk, through the same proxy, gets in.
    assert login_from(proxied_client, "10.0.0.1", member.email, **{"X-Forwarded-For": "203.0.113.6"}).status_code == 302


def test_wrong_current_passwords_are_throttled_like_logins(client, member):
    # Someone holding a stolen session must not be able to guess the password here.
    from werkzeug.security import check_password_hash

    from webapp.models import User

    assert login_from(client, "10.0.0.9", member.email).status_code == 302
    token = csrf_token(client, "/personal/")
    data = {"current_password": "wrong one!!", "new_password": "new password 1",
            "confirm_password": "new password 1", "csrf_token": token}
    for _ in range(3):
        response = client.post("/personal/password", data=data, headers={"HX-Request": "true"})
        assert response.status_code == 400 and "The current password is wrong." in response.get_data(as_text=True)
    response = client.post("/personal/password", data={**data, "current_password": PASSWORD},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert html.lstrip().startswith('<section id="password-section">')
    assert "Too many failed attempts. Try again in 15 seconds." in html
    response = client.post("/personal/password", data=data)  # without htmx: the whole page
    assert response.status_code == 429 and "<html" in response.get_data(as_text=True)
    assert check_password_hash(User.get_by_id(member.id).password_hash, PASSWORD)
    wait(16)
    response = client.post("/personal/password", data={**data, "current_password": PASSWORD},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Your password has been changed." in response.get_data(as_text=True)
