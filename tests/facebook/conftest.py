"""Fixtures for the Facebook plugin and its Graph API emulator.

One emulator for the whole session (real HTTP on a free local port), reset to its seed
through the control API before every test, and the plugin's ServiceConfig pointing at it.
"""
from __future__ import annotations

import logging
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests

import emulators
from emulators.facebook import sandbox_config
from plugins.facebook import usage
from plugins.facebook.rules import SCOPES
from streamdesk_contract.values import Credentials, StreamRef
from webapp.plugins import Plugins

#: The callback URL the tests' OAuth clients send (the emulator registers it).
REDIRECT = "http://127.0.0.1:5000/personal/connected/facebook/callback"
ALEX = "10158372947561023"    # Admin of Bluebird Coffee, analyst of Riverside, moderator of Northwind
SAM = "10223948576610234"     # editor (no MANAGE) of Bluebird, Admin of Riverside Bikes
JORDAN = "10119283746501928"  # manages no page
BLUEBIRD = "104729384756102"  # 230 stories (30 visitor posts), 6 conversations
RIVERSIDE = "108374650192837"
NORTHWIND = "112938475610293"
ACME = "100482736450917"      # public page, 180 stories
GLOBEX = "101938475620394"    # public page, 160 stories
DELI = "113847562910384"      # public page without a username


class Emulator:
    """A running emulator plus helpers for its control API."""

    def __init__(self, running):
        self.running = running
        self.url = running.url
        self.graph = f"{running.url}/v25.0"
        self.http = requests.Session()

    @property
    def state(self):
        """The emulator's in-memory state, to compare what the plugin read with the truth."""
        return self.running.app.config["FB_STATE"]

    def control(self, path: str, method: str = "POST", **body) -> dict:
        response = self.http.request(method, f"{self.url}/_control/{path}", json=body)
        assert response.ok, response.text
        return response.json()

    def reset(self) -> None:
        self.control("reset")

    def calls(self) -> dict[str, int]:
        return self.control("calls", "GET")["calls"]

    def total_calls(self) -> int:
        return sum(self.calls().values())

    def clear_calls(self) -> None:
        self.control("calls", "DELETE")

    def requests(self, path: str | None = None) -> list[dict]:
        """The emulator's log of Graph calls (secrets masked), optionally of one path."""
        log = self.control("requests", "GET")["requests"]
        return [r for r in log if path is None or r["path"] == path]

    def fault(self, kind: str, **body) -> None:
        """Queue a forced fault (see the emulator's ``POST /_control/faults``)."""
        response = self.http.post(f"{self.url}/_control/faults", json={"kind": kind, **body})
        assert response.ok, response.text

    def user_token(self, user_id: str = ALEX, permissions=SCOPES, declined=None) -> str:
        """A token as if ``user_id`` went through the dialog ticking only ``permissions``."""
        if declined is None:
            declined = [p for p in SCOPES if p not in permissions]
        return self.control("tokens", user_id=user_id, permissions=list(permissions),
                            declined=list(declined))["access_token"]

    def page_token(self, page_id: str = BLUEBIRD, user_id: str = ALEX, permissions=SCOPES) -> str:
        token = self.user_token(user_id, permissions)
        accounts = self.http.get(f"{self.graph}/me/accounts", params={"access_token": token}).json()["data"]
        return next(a["access_token"] for a in accounts if a["id"] == page_id)

    def get(self, path: str, token: str | None = None, **params) -> requests.Response:
        if token:
            params["access_token"] = token
        return self.http.get(f"{self.graph}/{path.lstrip('/')}", params=params)

    def post(self, path: str, token: str | None = None, **data) -> requests.Response:
        if token:
            data["access_token"] = token
        return self.http.post(f"{self.graph}/{path.lstrip('/')}", data=data)


@pytest.fixture(scope="session")
def fb_emulator():
    # The werkzeug request log would print every URL (tokens included) into test output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # The callback URLs these tests send, registered as the app's Valid OAuth Redirect URIs.
    running = emulators.start("facebook", redirect_uris=[REDIRECT])
    yield Emulator(running)
    running.stop()


@pytest.fixture
def fb(fb_emulator):
    """The module's emulator, back at its seed, with no remembered usage in the plugin."""
    fb_emulator.reset()
    usage.forget()
    yield fb_emulator
    usage.forget()


@pytest.fixture
def config(fb):
    return sandbox_config(fb.url)


@pytest.fixture(scope="session")
def fb_plugins():
    """The plugins as the core loads them: through the ``streamdesk`` entry points."""
    return Plugins()


@pytest.fixture
def page_credentials(fb):
    """Alex's credentials for Bluebird Coffee as managed pages hands them out (with tasks)."""
    def make(page_id: str = BLUEBIRD, user_id: str = ALEX, permissions=SCOPES,
             tasks=("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE")):
        token = fb.page_token(page_id, user_id, permissions)
        return Credentials(access_token=token, scopes=tuple(permissions) + tuple(f"task:{t}" for t in tasks))
    return make


def authorized(page_id: str = BLUEBIRD) -> StreamRef:
    return StreamRef(page_id=page_id, authorized=True)


def public(page_id: str = ACME) -> StreamRef:
    return StreamRef(page_id=page_id, authorized=False)


class FormReader(HTMLParser):
    """Reads the consent form as a browser sees it: action, inputs, options, buttons."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.hidden: dict[str, str] = {}
        self.checkboxes: list[dict] = []
        self.options: list[tuple[str, bool]] = []
        self.buttons: list[tuple[str, str]] = []
        self._button = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox":
            self.checkboxes.append(a)
        elif tag == "option":
            self.options.append((a["value"], "selected" in a))
        elif tag == "button":
            self._button = a

    def handle_data(self, data):
        if self._button is not None and data.strip():
            self.buttons.append((data.strip(), self._button.get("value")))
            self._button = None


def consent(authorize_url: str, *, user_id: str | None = None, untick=(), button: str = "Continue") -> str:
    """Go through the login dialog like a person with a browser; returns the URL the
    browser then requests (the redirect without its fragment)."""
    page = requests.get(authorize_url)
    assert page.status_code == 200, page.text
    form = FormReader()
    form.feed(page.text)
    data = list(form.hidden.items())
    data.append(("user_id", user_id or next(v for v, selected in form.options if selected)))
    data += [("permissions", box["value"]) for box in form.checkboxes
             if "checked" in box and "disabled" not in box and box["value"] not in untick]
    value = dict(form.buttons)[button]
    data.append(("action", value))
    response = requests.post(urljoin(authorize_url, form.action), data=data, allow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.endswith("#_=_")  # Facebook's quirk: a browser keeps it but never sends it
    return location.split("#", 1)[0]
