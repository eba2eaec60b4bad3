"""The X emulator's OAuth 2.0: consent page, PKCE, single-use codes, rotation, expiry, revoke."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuthError
from consent import ConsentForm

from emulators.twitter import APP_TOKEN, CONSUMER_KEY, CONSUMER_SECRET, PUBLIC_CLIENT_ID
from plugins.twitter.link import SCOPES, link_details

from .x_helpers import REDIRECT_URI, authorize, consent, oauth_session


def start(config, scopes=SCOPES):
    """An authorization URL, its verifier and the authlib session that made it."""
    session = oauth_session(config, scopes)
    verifier = generate_token(48)
    uri, state = session.create_authorization_url(link_details(config).authorize_url, code_verifier=verifier)
    return session, verifier, uri, state


def query_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def basic(config) -> dict:
    raw = f"{config.client_id}:{config.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def me(emulator, token: str) -> requests.Response:
    return requests.get(f"{emulator.url}/2/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_consent_page_offers_seeded_users_and_the_two_buttons(emulator, config):
    _session, _verifier, uri, _state = start(config)
    page = requests.get(uri, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    form = ConsentForm()
    form.feed(page.text)
    owner = emulator.user_id("acmecoffee")
    assert form.chosen["user_id"] == owner  # the owned account is the default
    assert len(form.options["user_id"]) >= 8 and emulator.user_id("spambot9000") not in form.options["user_id"]
    assert [label for label, _n, _v in form.buttons] == ["Authorize app", "Cancel"]
    assert "dm.read" in page.text and "offline.access" in page.text


def test_pkce_flow_gives_a_two_hour_token_with_refresh_token(emulator, config):
    token = authorize(emulator, config)
    assert token["token_type"] == "bearer" and token["expires_in"] == 7200
    assert token["scope"].split() == list(SCOPES)
    assert token["refresh_token"]
    assert me(emulator, token["access_token"]).json()["data"]["username"] == "acmecoffee"


def test_consent_as_another_user(emulator, config):
    token = authorize(emulator, config, username="jane_doe")
    assert me(emulator, token["access_token"]).json()["data"]["username"] == "jane_doe"


def test_cancel_redirects_with_access_denied_and_state(emulator, config):
    _session, _verifier, uri, state = start(config)
    location = consent(emulator.url, uri, decision="Cancel")  # a 302 (press checks it)
    assert location.startswith(REDIRECT_URI)
    assert query_of(location) == {"error": "access_denied", "state": state}


def test_codes_are_single_use(emulator, config):
    session, verifier, uri, _state = start(config)
    location = consent(emulator.url, uri)
    token_url = link_details(config).access_token_url
    session.fetch_token(token_url, authorization_response=location, code_verifier=verifier)
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(token_url, authorization_response=location, code_verifier=verifier)
    assert refused.value.error == "invalid_request"
    assert refused.value.description == "Value passed for the authorization code was invalid."


def test_the_verifier_must_match_the_s256_challenge(emulator, config):
    session, _verifier, uri, _state = start(config)
    location = consent(emulator.url, uri)
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(link_details(config).access_token_url, authorization_response=location,
                            code_verifier=generate_token(48))
    assert "code verifier" in refused.value.description
    # The failed attempt burnt the code.
    code = query_of(location)["code"]
    retry = requests.post(link_details(config).access_token_url, headers=basic(config), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": "x" * 43, "client_id": config.client_id})
    assert retry.status_code == 400
    assert retry.json()["error_description"] == "Value passed for the authorization code was invalid."


def test_redirect_uri_and_verifier_are_required(emulator, config):
    _session, verifier, uri, _state = start(config)
    code = query_of(consent(emulator.url, uri))["code"]
    url = link_details(config).access_token_url
    missing = requests.post(url, headers=basic(config), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert missing.json() == {"error": "invalid_request",
                              "error_description": "Missing required parameter [code_verifier]."}
    wrong = requests.post(url, headers=basic(config), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "/other",
        "code_verifier": verifier})
    assert wrong.status_code == 400 and "redirect uri" in wrong.json()["error_description"]


def test_confidential_client_must_use_basic_auth(emulator, config):
    response = requests.post(link_details(config).access_token_url, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": "x", "client_id": config.client_id})
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized_client",
                               "error_description": "Missing valid authorization header"}


def test_public_client_uses_pkce_without_a_secret(emulator, config):
    from dataclasses import replace

    public = replace(config, client_id=PUBLIC_CLIENT_ID, client_secret="")
    session, verifier, uri, _state = start(public)
    session.token_endpoint_auth_method = "none"
    location = consent(emulator.url, uri)
    token = session.fetch_token(link_details(public).access_token_url, authorization_response=location,
                                code_verifier=verifier)
    assert me(emulator, token["access_token"]).status_code == 200


def test_a_parameter_sent_twice_is_refused(emulator, config):
    fields = [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", PUBLIC_CLIENT_ID),
              ("client_id", PUBLIC_CLIENT_ID)]
    response = requests.post(link_details(config).access_token_url, data=fields, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "[client_id]" in response.json()["error_description"]


def test_malformed_token_answers_on_demand(emulator, config):
    emulator.control("POST", "/malformed", endpoint="POST /2/oauth2/token", body={"token_type": "bearer"})
    token = authorize(emulator, config)
    assert token["token_type"] == "bearer" and "access_token" not in token


def test_no_refresh_token_without_offline_access(emulator, config):
    token = authorize(emulator, config, scopes=("tweet.read", "users.read"))
    assert "refresh_token" not in token and token["scope"] == "tweet.read users.read"


def test_refresh_tokens_rotate(emulator, config):
    token = authorize(emulator, config)
    session = oauth_session(config, SCOPES)
    url = link_details(config).access_token_url
    fresh = session.refresh_token(url, refresh_token=token["refresh_token"])
    assert fresh["refresh_token"] != token["refresh_token"]
    assert fresh["access_token"] != token["access_token"] and fresh["expires_in"] == 7200
    with pytest.raises(OAuthError) as refused:
        oauth_session(config, SCOPES).refresh_token(url, refresh_token=token["refresh_token"])
    assert refused.value.description == "Value passed for the token was invalid."
    assert me(emulator, fresh["access_token"]).status_code == 200


def test_access_tokens_expire_after_two_hours(emulator, config):
    token = authorize(emulator, config)
    emulator.control("POST", "/clock", advance=7199)
    assert me(emulator, token["access_token"]).status_code == 200
    emulator.control("POST", "/clock", advance=2)
    expired = me(emulator, token["access_token"])
    assert expired.status_code == 401
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


def test_revoke_ends_the_authorization(emulator, config):
    token = authorize(emulator, config)
    response = requests.post(f"{emulator.url}/2/oauth2/revoke", headers=basic(config), timeout=10, data={
        "token": token["access_token"], "token_type_hint": "access_token", "client_id": config.client_id})
    assert response.json() == {"revoked": True}
    assert me(emulator, token["access_token"]).status_code == 401
    with pytest.raises(OAuthError):
        oauth_session(config, SCOPES).refresh_token(link_details(config).access_token_url,
                                                   refresh_token=token["refresh_token"])


@pytest.mark.parametrize("change", [
    {"client_id": "unknown-client"}, {"code_challenge": None}, {"response_type": "token"},
    {"scope": "tweet.read not.a.scope"}, {"code_challenge_method": "S512"}, {"redirect_uri": "javascript:x"},
])
def test_bad_authorize_requests_get_the_error_page(emulator, config, change):
    _session, _verifier, uri, _state = start(config)
    params = query_of(uri) | change
    response = requests.get(f"{emulator.url}/i/oauth2/authorize",
                            params={k: v for k, v in params.items() if v is not None}, timeout=10)
    assert response.status_code == 400 and "Something went wrong" in response.text


def test_app_permission_level_caps_granted_scopes(emulator, config):
    emulator.control("POST", "/app", scopes=["tweet.read", "users.read", "tweet.write", "offline.access"])
    token = authorize(emulator, config)
    assert token["scope"].split() == ["tweet.read", "users.read", "tweet.write", "offline.access"]


def test_app_only_bearer_token_from_consumer_keys(emulator):
    url = f"{emulator.url}/oauth2/token"
    token = requests.post(url, auth=(CONSUMER_KEY, CONSUMER_SECRET), data={"grant_type": "client_credentials"},
                          timeout=10).json()
    assert token == {"token_type": "bearer", "access_token": APP_TOKEN}
    refused = requests.post(url, auth=(CONSUMER_KEY, "wrong"), data={"grant_type": "client_credentials"},
                            timeout=10)
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == 99
