"""Linking a profile (OAuth through authlib) and listing the pages it manages."""
import inspect
from datetime import UTC, datetime, timedelta

import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException

import plugins.facebook as facebook_plugin
from plugins.facebook.rules import REQUIRED, SCOPES
from streamdesk_contract.errors import PermissionMissing, TokenExpired
from streamdesk_contract.values import Credentials

from .conftest import ALEX, BLUEBIRD, JORDAN, NORTHWIND, RIVERSIDE, SAM, consent

REDIRECT = "http://127.0.0.1:5000/personal/connected/facebook/callback"


def authlib_session(config, details) -> OAuth2Session:
    return OAuth2Session(config.client_id, config.client_secret,
                         scope=details.scope_separator.join(details.scopes), redirect_uri=REDIRECT,
                         token_endpoint_auth_method=details.token_endpoint_auth_method)


def test_link_details(fb_plugins, config):
    details = fb_plugins.call("streamdesk_link_details", "facebook", config)
    assert details.authorize_url == f"{config.auth_url}/dialog/oauth"
    assert details.access_token_url == f"{config.api_url}/oauth/access_token"
    assert details.scope_separator == "," and set(details.scopes) == set(SCOPES)
    assert details.code_challenge_method is None and details.extra_authorize_params == {"auth_type": "rerequest"}
    # Every hook leaves other services to their own plugins.
    for hook in ("streamdesk_link_details", "streamdesk_search", "streamdesk_crawl"):
        impl = getattr(facebook_plugin, hook)
        kwargs = dict.fromkeys(inspect.signature(impl).parameters)
        assert impl(**{**kwargs, "service": "twitter", "config": config}) is None


def test_full_oauth_flow_to_linked_profile(fb, fb_plugins, config):
    details = fb_plugins.call("streamdesk_link_details", "facebook", config)
    session = authlib_session(config, details)
    url, state = session.create_authorization_url(details.authorize_url, **details.extra_authorize_params)
    assert "scope=pages_show_list%2Cbusiness_management" in url and "auth_type=rerequest" in url
    callback = consent(url, user_id=ALEX, untick=("read_insights", "pages_messaging"))
    token = session.fetch_token(details.access_token_url, authorization_response=callback, state=state)
    fb.clear_calls()
    profile = fb_plugins.call("streamdesk_link_profile", "facebook", config, token=dict(token))
    assert (profile.external_id, profile.name) == (ALEX, "Alex Rivera")
    assert set(profile.declined) == {"read_insights", "pages_messaging"}
    assert "pages_show_list" in profile.granted and "read_insights" not in profile.granted
    assert profile.credentials.access_token != token["access_token"]  # exchanged for a long-lived one
    assert profile.credentials.expires_at - datetime.now(UTC) > timedelta(days=59)
    assert profile.picture_url and profile.credentials.scopes == profile.granted
    assert sum(fb.calls().values()) == 3  # exchange, /me, /me/permissions
    # No secret in any query parameter of any call (tokens in headers and POST bodies).
    assert fb.control("calls", "GET")["tokens_in_urls"] == 0
    assert all("<secret>" not in r["query"].values() for r in fb.requests())


def test_exchange_without_expires_in_keeps_tokens_out_of_urls(fb, fb_plugins, config):
    # Graph sometimes leaves expires_in out of the long-lived exchange.
    fb.fault("malformed", path="/v25.0/oauth/access_token", field="expires_in")
    short = fb.user_token()
    fb.clear_calls()
    profile = fb_plugins.call("streamdesk_link_profile", "facebook", config, token={"access_token": short})
    left = profile.credentials.expires_at - datetime.now(UTC)
    assert timedelta(days=59) < left <= timedelta(days=60)  # a long-lived token's ~60 days
    assert "GET /v25.0/debug_token" not in fb.calls() and fb.total_calls() == 3
    assert fb.control("calls", "GET")["tokens_in_urls"] == 0
    assert all("<secret>" not in r["query"].values() for r in fb.requests())


def test_the_emulator_notices_a_token_in_any_query_parameter(fb):
    token = fb.user_token()
    fb.clear_calls()
    app = "438291047563210|9d3f6c2a51b84e07a1c5e8f0b2d47a93"
    fb.http.get(f"{fb.graph}/debug_token", params={"input_token": token}, headers={"Authorization": f"OAuth {app}"})
    fb.get("me", token)
    assert fb.control("calls", "GET")["tokens_in_urls"] == 2
    assert [r["query"] for r in fb.requests()] == [{"input_token": "<secret>"}, {"access_token": "<secret>"}]


def test_state_is_checked(fb, fb_plugins, config):
    details = fb_plugins.call("streamdesk_link_details", "facebook", config)
    session = authlib_session(config, details)
    url, _ = session.create_authorization_url(details.authorize_url)
    callback = consent(url)
    with pytest.raises(MismatchingStateException):
        session.fetch_token(details.access_token_url, authorization_response=callback, state="forged")


def test_link_profile_with_expired_token(fb, fb_plugins, config):
    token = fb.user_token()
    fb.control("tokens/expire", token=token)
    with pytest.raises(TokenExpired) as caught:
        fb_plugins.call("streamdesk_link_profile", "facebook", config, token={"access_token": token})
    assert not caught.value.revoked


def credentials_for(fb, user_id, permissions=SCOPES, declined=()):
    return Credentials(access_token=fb.user_token(user_id, permissions, declined))


def test_managed_pages_mark_admins_and_page_tokens(fb, fb_plugins, config):
    pages = fb_plugins.call("streamdesk_managed_pages", "facebook", config, credentials=credentials_for(fb, ALEX))
    by_id = {p.page.page_id: p for p in pages}
    assert set(by_id) == {BLUEBIRD, RIVERSIDE, NORTHWIND}
    bluebird = by_id[BLUEBIRD]
    assert bluebird.is_admin and bluebird.can_add and bluebird.reason is None
    assert bluebird.page.handle == "bluebirdcoffee" and bluebird.page.followers
    assert bluebird.credentials.access_token and bluebird.credentials.expires_at is None
    assert "task:MANAGE" in bluebird.credentials.scopes and "pages_manage_posts" in bluebird.credentials.scopes
    assert fb.get(f"{BLUEBIRD}/feed", bluebird.credentials.access_token).status_code == 200
    for page_id in (RIVERSIDE, NORTHWIND):
        page = by_id[page_id]
        assert not page.is_admin and not page.can_add
        assert "must be an Admin" in page.reason


def test_managed_pages_name_missing_permissions_in_seed_words(fb, fb_plugins, config):
    granted = [p for p in SCOPES if p not in ("pages_manage_engagement", "read_insights")]
    pages = fb_plugins.call("streamdesk_managed_pages", "facebook", config,
                            credentials=credentials_for(fb, SAM, granted, ("pages_manage_engagement",)))
    riverside = next(p for p in pages if p.page.page_id == RIVERSIDE)
    assert riverside.is_admin and not riverside.can_add
    assert riverside.missing_permissions == ("pages_manage_engagement", "read_insights")
    assert "Business integrations" in riverside.reason and "every permission" in riverside.reason
    assert "pages_manage_engagement, read_insights" in riverside.reason
    bluebird = next(p for p in pages if p.page.page_id == BLUEBIRD)
    assert "must be an Admin" in bluebird.reason and "Business integrations" in bluebird.reason
    assert set(REQUIRED) - set(granted) == set(riverside.missing_permissions)


def test_managed_pages_without_page_list_permission_or_pages(fb, fb_plugins, config):
    assert fb_plugins.call("streamdesk_managed_pages", "facebook", config,
                           credentials=credentials_for(fb, JORDAN)) == []
    with pytest.raises(PermissionMissing) as caught:
        fb_plugins.call("streamdesk_managed_pages", "facebook", config,
                        credentials=credentials_for(fb, ALEX, ["pages_read_engagement"], ["pages_show_list"]))
    assert caught.value.permission == "pages_show_list" and "Business integrations" in caught.value.message


def test_managed_pages_with_revoked_app(fb, fb_plugins, config):
    credentials = credentials_for(fb, ALEX)
    fb.control("tokens/revoke", user_id=ALEX)
    with pytest.raises(TokenExpired) as caught:
        fb_plugins.call("streamdesk_managed_pages", "facebook", config, credentials=credentials)
    assert caught.value.revoked and "Business integrations" in caught.value.message
