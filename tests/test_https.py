"""Over HTTPS the session and remember-me cookies are Secure and responses carry HSTS;
over plain http (the embedded default) cookies keep working and there is no HSTS."""
import pytest
from conftest import PASSWORD, csrf_token

from webapp import create_app
from webapp.config import load_settings
from webapp.db import migrate

HSTS = "max-age=31536000; includeSubDomains"
#: What nginx in front sends (see README, "Behind a reverse proxy").
BEHIND_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}


@pytest.fixture
def make_client(environ, plugins, member):
    """A client of an app configured with ``env`` on top of the test environment."""

    def make(**env):
        app = create_app(load_settings({**environ, **env}), plugins)
        app.config["TESTING"] = True
        with app.extensions["streamdesk.db"].connection_context():
            migrate(app.extensions["streamdesk.db"])
        return app.test_client()

    return make


def log_in(client, email: str, headers: dict, scheme: str = "http"):
    """Log in with "Keep me logged in"; returns the response that sets the cookies."""
    # Browsers send a Referer with same-origin form posts; Flask-WTF insists on it over HTTPS.
    headers = {**headers, "Referer": f"{scheme}://localhost/login"}
    for name, value in headers.items():  # on every request of this client from now on
        client.environ_base[f"HTTP_{name.upper().replace('-', '_')}"] = value
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": PASSWORD, "remember": "1", "csrf_token": token})


def cookies(response) -> dict[str, str]:
    """The Set-Cookie headers of ``response`` by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_behind_a_trusted_https_proxy_cookies_are_secure_and_hsts_is_sent(make_client, member):
    client = make_client(TRUSTED_PROXIES="1")
    response = log_in(client, member.email, BEHIND_HTTPS, scheme="https")
    assert response.status_code == 302, response.get_data(as_text=True)
    set = cookies(response)
    assert "; Secure" in set["session"] and "; Secure" in set["remember_token"]
    assert response.headers["Strict-Transport-Security"] == HSTS
    page = client.get("/topics")
    assert page.status_code == 200 and page.headers["Strict-Transport-Security"] == HSTS


def test_with_an_https_public_url_cookies_are_secure(make_client, member):
    client = make_client(PUBLIC_URL="https://streamdesk.example.com")
    response = log_in(client, member.email, {})
    set = cookies(response)
    assert "; Secure" in set["session"] and "; Secure" in set["remember_token"]
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_over_plain_http_cookies_work_and_there_is_no_hsts(make_client, member):
    client = make_client()  # the embedded default: http://127.0.0.1:5000
    response = log_in(client, member.email, {})
    set = cookies(response)
    assert "Secure" not in set["session"] and "Secure" not in set["remember_token"]
    assert "Strict-Transport-Security" not in response.headers
    assert client.get("/topics").status_code == 200
    client.delete_cookie("session")
    assert client.get("/topics").status_code == 200  # the remember-me cookie works over http


def test_a_forwarded_proto_without_trusted_proxies_is_ignored(make_client, member):
    # Anyone can send X-Forwarded-Proto; only a configured proxy's counts.
    client = make_client(PUBLIC_URL="http://streamdesk.lan:5000")
    response = log_in(client, member.email, BEHIND_HTTPS)
    assert "Secure" not in cookies(response)["session"]
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_over_plain_http_cookies_are_not_secure(make_client, member):
    client = make_client(TRUSTED_PROXIES="1")
    response = log_in(client, member.email, {"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.5"})
    assert "Secure" not in cookies(response)["session"]
    assert "Strict-Transport-Security" not in response.headers
