"""Graph's own wording where clients read it: field errors on posts name the node type
``PagePost``; a code exchange must carry ``client_id`` as a parameter."""
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from emulators.facebook import APP_ID, APP_SECRET
from plugins.facebook import link

from .conftest import BLUEBIRD, consent
from .test_emulator_oauth import REDIRECT, SCOPE, dialog_url


def test_field_errors_on_posts_name_the_pagepost_node(fb):
    """Graph: "(#100) Tried accessing nonexisting field (colour) on node type (PagePost)"
    — a page's post is a PagePost node (developers.facebook.com/docs/graph-api/reference/
    page-post; the error is the one Graph gives for any unknown field, code 100)."""
    story = fb.state.world.posts(BLUEBIRD)[0]
    error = fb.get(story.id, fb.page_token(), fields="id,colour").json()["error"]
    assert error["message"] == "(#100) Tried accessing nonexisting field (colour) on node type (PagePost)"
    assert error["code"] == 100


def test_code_exchange_with_the_client_only_in_basic_auth_is_refused(fb):
    """Graph reads ``client_id`` only from the parameters; HTTP Basic is ignored:
    `{"error":{"message":"Missing client_id parameter.","type":"OAuthException","code":101}}`
    (captured in github.com/facebookarchive/php-graph-sdk/issues/50 and
    github.com/spree-contrib/spree_social/issues/24)."""
    session = OAuth2Session(APP_ID, APP_SECRET, scope=SCOPE, redirect_uri=REDIRECT,
                            token_endpoint_auth_method="client_secret_basic")
    url, state = session.create_authorization_url(f"{fb.graph}/dialog/oauth")
    location = consent(url)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = fb.http.post(f"{fb.graph}/oauth/access_token", auth=(APP_ID, APP_SECRET),
                            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["message"], error["type"], error["code"]) == ("Missing client_id parameter.", "OAuthException", 101)
    with pytest.raises(OAuthError):
        session.fetch_token(f"{fb.graph}/oauth/access_token", authorization_response=consent(url), state=state)


def test_the_plugin_sends_the_client_in_the_body(fb, config):
    """What the plugin asks the core's OAuth client for works against that rule."""
    details = link.details(config)
    assert details.token_endpoint_auth_method == "client_secret_post"
    session = OAuth2Session(APP_ID, APP_SECRET, scope=SCOPE, redirect_uri=REDIRECT,
                            token_endpoint_auth_method=details.token_endpoint_auth_method)
    location = consent(dialog_url(fb))
    token = session.fetch_token(details.access_token_url, authorization_response=location, state="s-123")
    assert token["access_token"]
