"""X's authorize page refuses a redirect_uri that is not one of the app's callback URLs."""
from urllib.parse import urlencode

import requests

from emulators.twitter import CLIENT_ID

from .x_helpers import REDIRECT_URI


def _authorize(emulator, redirect_uri: str) -> requests.Response:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri,
              "scope": "tweet.read users.read", "state": "s", "code_challenge": "c" * 43,
              "code_challenge_method": "plain"}
    return requests.get(f"{emulator.url}/i/oauth2/authorize?{urlencode(params)}", timeout=10)


def test_unregistered_callback_gets_the_error_page(emulator):
    """docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code: the
    redirect_uri "must match one of the Callback URLs" set in the app's User authentication
    settings; X then shows "Something went wrong — You weren't able to give access to the
    App" (github.com/pilcrowonpaper/arctic/issues/137, solved by matching the callback)."""
    assert _authorize(emulator, REDIRECT_URI).status_code == 200
    for uri in (REDIRECT_URI + "/", REDIRECT_URI.replace("127.0.0.1", "localhost"), "https://evil.example/cb"):
        page = _authorize(emulator, uri)
        assert page.status_code == 400 and "You weren't able to give access to the App" in page.text


def test_control_api_replaces_the_callbacks_until_reset(emulator):
    assert emulator.control("GET", "/app")["redirect_uris"] == [REDIRECT_URI]
    emulator.control("PUT", "/app", redirect_uris=["https://desk.example/cb"])
    assert _authorize(emulator, REDIRECT_URI).status_code == 400
    emulator.control("POST", "/reset")
    assert _authorize(emulator, REDIRECT_URI).status_code == 200
