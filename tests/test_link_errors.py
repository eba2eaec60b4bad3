"""A provider that refuses the OAuth code at the callback (bogus, used or expired code):
the person reads why in Connected profiles, whichever service it is. Real HTTP to the
emulators; the app's test client plays the browser."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from consent import press

from webapp.models import ConnectedProfile

LABEL = {"facebook": "Facebook", "twitter": "X (Twitter)"}
#: What each emulator answers, as the real service does, for a code it never issued.
BOGUS = {"facebook": "Invalid verification code format.",
         "twitter": "Value passed for the authorization code was invalid."}


def _state(client, service: str) -> str:
    """Start connecting; the state the connect step put in the session."""
    response = client.get(f"/personal/connected-profiles/{service}/connect")
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def _flashed(client) -> str:
    return client.get("/personal/connected-profiles").get_data(as_text=True)


@pytest.mark.parametrize("service", ["facebook", "twitter"])
def test_bogus_code_is_refused_with_a_readable_message(admin_client, emulator, service):
    state = _state(admin_client, service)
    response = admin_client.get(f"/personal/connected-profiles/{service}/callback?code=bogus&state={state}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/personal/connected-profiles"
    html = _flashed(admin_client)
    assert f"{LABEL[service]} refused the connection: {BOGUS[service]}<" in html  # one full stop
    assert ConnectedProfile.select().count() == 0


def test_facebook_code_used_twice_is_refused_with_a_readable_message(admin_client, emulator):
    # A code Facebook did issue but no longer accepts, as an expired one in real use.
    response = admin_client.get("/personal/connected-profiles/facebook/connect")
    callback = urlsplit(press(response.headers["Location"], "Continue"))
    code = parse_qs(callback.query)["code"][0]
    admin_client.get(f"{callback.path}?{callback.query}")
    state = _state(admin_client, "facebook")
    response = admin_client.get(f"{callback.path}?code={code}&state={state}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Facebook refused the connection: This authorization code has been used." in _flashed(admin_client)


def test_facebook_refusal_in_the_popup_is_a_readable_page(admin_client, emulator):
    response = admin_client.get("/personal/connected-profiles/facebook/connect?popup=1")
    state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
    response = admin_client.get(f"/personal/connected-profiles/facebook/callback?code=bogus&state={state}")
    assert response.status_code == 200
    assert f"Facebook refused the connection: {BOGUS['facebook']}" in response.get_data(as_text=True)
