"""Linking: OAuth details, the connected profile, refresh-token rotation, managed pages."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from emulators.twitter import PUBLIC_CLIENT_ID
from streamdesk_contract.errors import ProviderUnavailable, RateLimited, TokenExpired
from streamdesk_contract.values import Credentials

from .x_helpers import authorize


def call(plugins_registry, hook, config, **kwargs):
    return plugins_registry.call(hook, "twitter", config, **kwargs)


def test_link_details_describe_pkce_on_x(plugins_registry, config):
    details = call(plugins_registry, "streamdesk_link_details", config)
    assert details.authorize_url == config.auth_url + "/authorize"
    assert details.authorize_url.endswith("/i/oauth2/authorize")
    assert details.access_token_url == config.api_url + "/2/oauth2/token"
    assert details.code_challenge_method == "S256"
    assert details.token_endpoint_auth_method == "client_secret_basic"
    assert {"tweet.read", "users.read", "offline.access", "dm.read", "tweet.moderate.write"} <= set(details.scopes)


def test_other_services_are_not_answered(plugins_registry, config):
    from plugins import twitter

    assert twitter.streamdesk_link_details(service="facebook", config=config) is None
    assert twitter.streamdesk_search(service="facebook", config=config, query="@x", credentials=None) is None


def test_link_profile_reads_the_person_behind_the_token(emulator, config, plugins_registry, owner_token):
    profile = call(plugins_registry, "streamdesk_link_profile", config, token=owner_token)
    assert profile.external_id == emulator.user_id("acmecoffee")
    assert profile.name == "Acme Coffee (@acmecoffee)"
    assert profile.picture_url and profile.declined == ()
    creds = profile.credentials
    assert creds.access_token == owner_token["access_token"]
    assert creds.refresh_token == owner_token["refresh_token"]
    assert timedelta(minutes=119) < creds.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    assert set(profile.granted) == set(creds.scopes) and "offline.access" in creds.scopes


def test_declined_scopes_are_named(emulator, config, plugins_registry):
    # An app without Direct Message permission cannot be granted the dm scopes.
    emulator.control("POST", "/app", scopes=["tweet.read", "users.read", "tweet.write", "tweet.moderate.write",
                                             "like.write", "offline.access"])
    profile = call(plugins_registry, "streamdesk_link_profile", config, token=authorize(emulator, config))
    assert profile.declined == ("dm.read", "dm.write")


def test_refresh_rotates_and_the_old_refresh_token_dies(emulator, config, plugins_registry, owner):
    fresh = call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    assert fresh.refresh_token and fresh.refresh_token != owner.refresh_token
    assert fresh.access_token != owner.access_token and fresh.scopes == owner.scopes
    assert fresh.expires_at > datetime.now(UTC) + timedelta(minutes=119)
    assert emulator.counts()["POST /2/oauth2/token"] == 2  # the code exchange, then the refresh
    # Refreshing again with the stored (rotated) token works; with the old one X says no.
    again = call(plugins_registry, "streamdesk_refresh", config, credentials=fresh)
    assert again.refresh_token not in (fresh.refresh_token, owner.refresh_token)
    with pytest.raises(TokenExpired) as refused:
        call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    assert refused.value.revoked


def test_expired_access_token_then_refresh_keeps_the_profile(emulator, config, plugins_registry, owner,
                                                             owner_stream):
    emulator.control("POST", "/clock", advance=7201)
    with pytest.raises(TokenExpired):
        call(plugins_registry, "streamdesk_managed_pages", config, credentials=owner)
    fresh = call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    pages = call(plugins_registry, "streamdesk_managed_pages", config, credentials=fresh)
    assert pages[0].page.page_id == owner_stream.page_id


def test_refresh_fails_with_token_expired_only_for_auth_errors(emulator, config, plugins_registry, owner):
    emulator.control("POST", "/fail", status=503, count=1, endpoint="POST /2/oauth2/token")
    with pytest.raises(ProviderUnavailable):
        call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    emulator.control("POST", "/fail", status=429, count=1, endpoint="POST /2/oauth2/token")
    with pytest.raises(RateLimited) as limited:
        call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    assert 800 < limited.value.retry_after <= 900
    with pytest.raises(ProviderUnavailable):  # the app's secret is wrong: not the person's fault
        call(plugins_registry, "streamdesk_refresh", replace(config, client_secret="wrong"), credentials=owner)
    # After all that, the refresh token is still good.
    assert call(plugins_registry, "streamdesk_refresh", config, credentials=owner).access_token
    emulator.control("POST", "/tokens/revoke", user="acmecoffee")
    with pytest.raises(TokenExpired):
        call(plugins_registry, "streamdesk_refresh", config, credentials=owner)


def test_no_refresh_without_offline_access(emulator, config, plugins_registry):
    token = authorize(emulator, config, scopes=("tweet.read", "users.read"))
    profile = call(plugins_registry, "streamdesk_link_profile", config, token=token)
    assert profile.credentials.refresh_token is None
    assert call(plugins_registry, "streamdesk_refresh", config, credentials=profile.credentials) is None


def test_managed_pages_is_the_account_itself(emulator, config, plugins_registry, owner):
    pages = call(plugins_registry, "streamdesk_managed_pages", config, credentials=owner)
    assert len(pages) == 1
    page = pages[0]
    assert page.is_admin and page.can_add and page.missing_permissions == ()
    assert page.page.handle == "acmecoffee" and page.page.url == f"{config.api_url}/acmecoffee"  # sandbox: the emulator
    assert page.page.followers == 18250


def test_managed_pages_name_missing_essential_scopes(emulator, config, plugins_registry):
    token = authorize(emulator, config, scopes=("tweet.read", "users.read", "tweet.write"))
    creds = call(plugins_registry, "streamdesk_link_profile", config, token=token).credentials
    page = call(plugins_registry, "streamdesk_managed_pages", config, credentials=creds)[0]
    assert not page.can_add and page.missing_permissions == ("offline.access",)
    assert "offline.access" in page.reason


def test_revoked_token_reads_as_expired(emulator, config, plugins_registry, owner):
    emulator.control("POST", "/tokens/revoke", token=owner.access_token)
    with pytest.raises(TokenExpired):
        call(plugins_registry, "streamdesk_managed_pages", config, credentials=owner)


def test_credentials_without_scopes_still_work(emulator, config, plugins_registry, owner):
    bare = Credentials(access_token=owner.access_token)
    assert call(plugins_registry, "streamdesk_managed_pages", config, credentials=bare)[0].can_add


def test_a_public_clients_refresh_sends_client_id_once(emulator, config, plugins_registry):
    # X's emulator, like OAuth 2.0 (RFC 6749 §3.2), refuses a parameter sent twice.
    public = replace(config, client_id=PUBLIC_CLIENT_ID, client_secret="")
    profile = call(plugins_registry, "streamdesk_link_profile", public, token=authorize(emulator, public))
    fresh = call(plugins_registry, "streamdesk_refresh", public, credentials=profile.credentials)
    assert fresh.access_token != profile.credentials.access_token
    assert fresh.refresh_token not in (None, profile.credentials.refresh_token)
    again = call(plugins_registry, "streamdesk_refresh", public, credentials=fresh)  # the rotated one works
    assert again.access_token


def test_a_refresh_answer_without_access_token_is_not_an_expiry(emulator, config, plugins_registry, owner):
    emulator.malformed("POST /2/oauth2/token", {"token_type": "bearer", "refresh_token": "r", "expires_in": 7200})
    with pytest.raises(ProviderUnavailable) as unreadable:
        call(plugins_registry, "streamdesk_refresh", config, credentials=owner)
    assert unreadable.value.message == "X sent an answer Streamdesk could not read; it will be retried."
