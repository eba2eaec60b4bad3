"""Sessions end: logging out, "Log out everywhere" and a password change end the session
cookies and remember-me cookies they should, wherever those were copied to."""
import datetime

from conftest import PASSWORD, csrf_token
from flask_login.utils import decode_cookie

from webapp.models import utcnow

SESSION, REMEMBER = "session", "remember_token"


def log_in(client, email: str, remember: bool = False):
    """Log in through the real form, ticking "Keep me logged in" when ``remember``."""
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "1"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def copy_cookie(source, target, name: str) -> None:
    """Give ``target`` the cookie ``name`` of ``source``, as someone who stole it would."""
    target.set_cookie(name, source.get_cookie(name).value)


def logged_in(client) -> bool:
    response = client.get("/topics")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_logging_out_ends_a_copied_session_cookie(app, member):
    first, second = app.test_client(), app.test_client()
    log_in(first, member.email)
    copy_cookie(first, second, SESSION)
    assert logged_in(second)
    first.post("/logout", data={"csrf_token": csrf_token(first, "/topics")})
    response = second.get("/topics")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logging_out_revokes_that_logins_remember_cookie(app, member):
    first, second = app.test_client(), app.test_client()
    log_in(first, member.email, remember=True)
    remembered = first.get_cookie(REMEMBER).value
    first.delete_cookie(SESSION)  # the browser was closed: the remember-me cookie logs in again
    assert logged_in(first)
    copy_cookie(first, second, REMEMBER)
    assert logged_in(second)
    first.post("/logout", data={"csrf_token": csrf_token(first, "/topics")})
    assert first.get_cookie(REMEMBER) is None
    second.delete_cookie(SESSION)
    assert not logged_in(second)
    third = app.test_client()
    third.set_cookie(REMEMBER, remembered)
    assert not logged_in(third)


def test_logging_out_ends_only_that_login(app, member):
    laptop, phone = log_in(app.test_client(), member.email), log_in(app.test_client(), member.email, remember=True)
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/topics")})
    assert logged_in(phone)
    phone.delete_cookie(SESSION)
    assert logged_in(phone)


def test_each_login_gets_its_own_remember_cookie_for_30_days(app, member):
    from webapp.models import LoginSession

    cookies = [log_in(app.test_client(), member.email, remember=True).get_cookie(REMEMBER) for _ in range(2)]
    assert cookies[0].value != cookies[1].value
    for cookie in cookies:
        lifetime = cookie.expires.replace(tzinfo=None) - utcnow()
        assert datetime.timedelta(days=29) < lifetime <= datetime.timedelta(days=30)
        # Only a hash of the token is stored: reading the database logs nobody in.
        with app.app_context():
            token = decode_cookie(cookie.value).partition(":")[2]
        assert len(token) >= 32
        assert not LoginSession.select().where(LoginSession.token_hash == token).exists()
    assert LoginSession.select().where(LoginSession.user == member.id).count() == 2


def test_log_out_everywhere_ends_every_session_and_remember_cookie(app, member):
    from webapp.models import LoginSession

    here, laptop, phone = (log_in(app.test_client(), member.email, remember=True) for _ in range(3))
    page = here.get("/personal/").get_data(as_text=True)
    assert "Log out everywhere" in page
    response = here.post("/personal/logout-everywhere", data={"csrf_token": csrf_token(here, "/personal/")})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "You have been logged out everywhere." in here.get("/login").get_data(as_text=True)
    for client in (here, laptop, phone):
        assert not logged_in(client)
        client.delete_cookie(SESSION)
        assert not logged_in(client)
    assert LoginSession.select().where(LoginSession.user == member.id).count() == 0


def test_log_out_everywhere_needs_a_post_with_the_csrf_token(app, member):
    client = log_in(app.test_client(), member.email)
    assert client.get("/personal/logout-everywhere").status_code == 405
    response = client.post("/personal/logout-everywhere", data={})
    assert response.status_code == 400
    assert "The form has expired or was not sent from Streamdesk" in response.get_data(as_text=True)
    assert logged_in(client)


def test_log_out_everywhere_over_htmx_sends_the_browser_to_the_login_page(app, member):
    client = log_in(app.test_client(), member.email)
    response = client.post("/personal/logout-everywhere", headers={"HX-Request": "true"},
                           data={"csrf_token": csrf_token(client, "/personal/")})
    assert response.headers["HX-Redirect"] == "/login"
    assert not logged_in(client)


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(app, member):
    here, other = log_in(app.test_client(), member.email), log_in(app.test_client(), member.email, remember=True)
    token = csrf_token(here, "/personal/")
    response = here.post("/personal/password", headers={"HX-Request": "true"}, data={
        "current_password": PASSWORD, "new_password": "new password 1", "confirm_password": "new password 1",
        "csrf_token": token})
    assert "Your password has been changed." in response.get_data(as_text=True)
    assert here.get("/personal/").status_code == 200
    assert not logged_in(other)
    other.delete_cookie(SESSION)
    assert not logged_in(other)  # its remember-me cookie is revoked too


def test_session_ids_of_the_old_form_or_forged_ones_are_refused(client, member):
    log_in(client, member.email)
    with client.session_transaction() as session:
        real = session["_user_id"]
    assert real.startswith(f"{member.id}:")
    token = real.split(":")[1]
    forged = (str(member.id), f"{member.id}:", f"{member.id}:guess", "x:y", ":", f"{member.id + 1}:{token}",
              f"99999999999999999999999999:{token}", f"{real}:extra", "")
    for value in forged:
        with client.session_transaction() as session:
            session["_user_id"] = value
        assert not logged_in(client), value
