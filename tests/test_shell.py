"""The app shell: navigation, CSRF, sessions, error pages, headers."""
from conftest import csrf_token, login


def test_layout_has_navigation_and_profile_menu(admin_client):
    html = admin_client.get("/topics").get_data(as_text=True)
    for label in ("Topics", "Inbox", "Analytics", "Account settings", "Personal settings", "Connected profiles"):
        assert label in html
    assert 'aria-label="Profile menu for admin@acme.test"' in html
    assert "/static/vendor/htmx.min.js" in html and "unpkg" not in html and "cdn" not in html.lower()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_sandbox_mode_is_announced(admin_client):
    assert "Sandbox mode" in admin_client.get("/topics").get_data(as_text=True)


def test_post_without_csrf_token_is_refused_with_a_message(admin_client):
    response = admin_client.post("/account/users", data={"email": "x@acme.test", "password": "a fine password"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The CSRF token is missing." in html and "Reload the page and try again." in html
    assert "<nav" in html  # the site's layout, not a bare error


def test_wrong_csrf_token_is_refused_for_htmx_too(admin_client):
    response = admin_client.post("/account/users", headers={"HX-Request": "true", "X-CSRFToken": "forged"},
                                 data={"email": "x@acme.test", "password": "a fine password"})
    assert response.status_code == 400
    assert "The CSRF token is invalid." in response.get_data(as_text=True)


def test_csrf_header_is_accepted_for_htmx_requests(admin_client):
    token = csrf_token(admin_client, "/account/users")
    response = admin_client.post("/account/users", headers={"HX-Request": "true", "X-CSRFToken": token},
                                 data={"email": "h@acme.test", "password": "a fine password", "role": "member"})
    assert response.status_code == 200 and "h@acme.test has been added" in response.get_data(as_text=True)


def test_login_form_needs_csrf_too(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": "whatever"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)


def test_tampered_session_cookie_is_treated_as_logged_out(admin_client):
    cookie = admin_client.get_cookie("session")
    admin_client.set_cookie("session", cookie.value[:-4] + "AAAA")
    response = admin_client.get("/topics")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_htmx_request_with_expired_session_redirects_the_whole_page(client, admin):
    response = client.get("/account/status", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
    assert "<form" not in response.get_data(as_text=True)


def test_error_pages_use_the_layout(admin_client):
    response = admin_client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Page not found" in html and "<nav" in html
    response = admin_client.get("/logout")
    assert response.status_code == 405 and "Method not allowed" in response.get_data(as_text=True)


def test_server_errors_are_pages_without_tracebacks(app, client, admin):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["TESTING"] = False  # let the error handler answer, as in production
    login(client, admin.email)
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "HX-Request" in response.headers["Vary"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_expired_session_with_a_stale_form_goes_to_login_not_a_csrf_error(client, admin):
    # The session (and the CSRF token inside it) is gone: log in again, don't blame the form.
    response = client.post("/account/users", headers={"HX-Request": "true", "X-CSRFToken": "stale"}, data={})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"
    response = client.post("/account/users", data={"csrf_token": "stale"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
