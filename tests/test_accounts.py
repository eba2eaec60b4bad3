"""Logging in, users and roles, scoped to the current account."""
from conftest import PASSWORD, csrf_token, login

from webapp.accounts import create_account, create_user
from webapp.models import LoginAttempt, User


def test_login_and_logout(client, admin):
    response = login(client, "Admin@Acme.test ")
    assert response.status_code == 302 and response.headers["Location"] == "/topics"
    page = client.get("/topics").get_data(as_text=True)
    assert "admin@acme.test" in page and "Account settings" in page
    token = csrf_token(client, "/topics")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/topics").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_offsite(client, admin):
    response = client.get("/analytics")
    assert response.headers["Location"] == "/login?next=/analytics"
    token = csrf_token(client)
    response = client.post("/login?next=/analytics", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/analytics"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/analytics")})
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/topics"


def test_wrong_password_and_unknown_email_get_the_same_message(client, admin):
    for email, password in ((admin.email, "wrong password!"), ("nobody@acme.test", PASSWORD)):
        response = login(client, email, password)
        assert response.status_code == 400
        assert "Wrong e-mail address or password." in response.get_data(as_text=True)


def test_empty_login_form(client):
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": csrf_token(client)})
    assert "Enter your e-mail address and password." in response.get_data(as_text=True)


def test_failed_logins_are_rate_limited(client, admin):
    # The growing delay itself is covered in test_login_throttle.py.
    for _ in range(3):
        assert login(client, admin.email, "wrong password!").status_code == 400
    response = login(client, admin.email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed attempts. Try again in 15 seconds." in response.get_data(as_text=True)
    assert LoginAttempt.select().where(LoginAttempt.succeeded == True).count() == 0  # noqa: E712


def test_passwords_are_hashed_with_a_current_algorithm(admin):
    stored = User.get(User.email == admin.email).password_hash
    assert PASSWORD not in stored and stored.startswith("scrypt:")


def test_admin_adds_a_user(admin_client):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post("/account/users", data={
        "email": "new@acme.test", "password": "a fine password", "role": "member", "csrf_token": token})
    assert response.status_code == 303
    page = admin_client.get("/account/users").get_data(as_text=True)
    assert "new@acme.test has been added as member." in page
    assert User.get(User.email == "new@acme.test").account.name == "Acme"


def test_adding_a_user_over_htmx_swaps_the_list(admin_client):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post("/account/users", headers={"HX-Request": "true"}, data={
        "email": "new@acme.test", "password": "a fine password", "role": "admin", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="users-section">') and "<html" not in html
    assert "new@acme.test has been added as admin." in html


def test_bad_user_input_is_refused_with_a_message(admin_client, member):
    token = csrf_token(admin_client, "/account/users")
    cases = [
        ({"email": "member@acme.test", "password": "a fine password"}, "A user with the e-mail member@acme.test already exists."),
        ({"email": "weak@acme.test", "password": "short"}, "The password must be at least 10 characters long."),
        ({"email": "weak@acme.test", "password": "aaaaaaaaaaaa"}, "The password is too simple"),
        ({"email": "not-an-email", "password": "a fine password"}, "is not a valid e-mail address."),
        ({"email": "x@acme.test", "password": "a fine password", "role": "owner"}, "Unknown role"),
    ]
    for data, message in cases:
        data = {"role": "member", **data, "csrf_token": token}
        response = admin_client.post("/account/users", data=data, headers={"HX-Request": "true"})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert User.select().count() == 2  # nothing half-saved


def test_roles_change_but_the_last_admin_stays(admin_client, admin, member):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post(f"/account/users/{admin.id}/role", data={"role": "member", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "The last admin cannot be demoted" in response.get_data(as_text=True)
    response = admin_client.post(f"/account/users/{admin.id}/delete", data={"csrf_token": token},
                                 headers={"HX-Request": "true"})
    assert "The last admin cannot be removed" in response.get_data(as_text=True)
    admin_client.post(f"/account/users/{member.id}/role", data={"role": "admin", "csrf_token": token})
    assert User.get_by_id(member.id).is_admin
    response = admin_client.post(f"/account/users/{admin.id}/role", data={"role": "member", "csrf_token": token},
                                 headers={"HX-Request": "true"})
    # No longer an admin: the whole page leaves Account settings (not a swap of the list).
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/topics"
    assert not User.get_by_id(admin.id).is_admin


def test_admin_removes_a_user(admin_client, member):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post(f"/account/users/{member.id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert User.get_or_none(User.id == member.id) is None


def test_members_cannot_open_account_settings(member_client):
    for path in ("/account/users", "/account/status"):
        response = member_client.get(path)
        assert response.status_code == 403
        assert "Only account admins can open Account settings." in response.get_data(as_text=True)
    token = csrf_token(member_client, "/topics")
    assert member_client.post("/account/users", data={"email": "x@y.test", "password": "a fine password",
                                                      "csrf_token": token}).status_code == 403
    assert "Account settings" not in member_client.get("/topics").get_data(as_text=True)


def test_admins_act_only_on_their_own_account(admin_client, db):
    other = create_account("Rival")
    outsider = create_user(other, "boss@rival.test", PASSWORD, role="admin")
    token = csrf_token(admin_client, "/account/users")
    for path, data in ((f"/account/users/{outsider.id}/role", {"role": "member"}),
                       (f"/account/users/{outsider.id}/delete", {})):
        response = admin_client.post(path, data={**data, "csrf_token": token}, headers={"HX-Request": "true"})
        assert response.status_code == 400
        assert "No such user in this account." in response.get_data(as_text=True)
    assert User.get_by_id(outsider.id).is_admin
    assert "boss@rival.test" not in admin_client.get("/account/users").get_data(as_text=True)


def test_change_own_password(client, member):
    login(client, member.email)
    token = csrf_token(client, "/personal/")
    data = {"current_password": "wrong one!!", "new_password": "new password 1", "confirm_password": "new password 1",
            "csrf_token": token}
    response = client.post("/personal/password", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "The current password is wrong." in response.get_data(as_text=True)
    data["current_password"] = PASSWORD
    response = client.post("/personal/password", data={**data, "confirm_password": "something else"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400 and "The new passwords do not match." in response.get_data(as_text=True)
    response = client.post("/personal/password", data=data, headers={"HX-Request": "true"})
    assert "Your password has been changed." in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    assert login(client, member.email, "new password 1").status_code == 302
