"""Where the Graph emulator follows the real service on tokens: the bare 190 of page
insights called with a user token, and the "logged out" session (190/467)."""
import pytest

from plugins.facebook.graph_errors import WrongTokenKind
from streamdesk_contract.errors import TokenExpired
from streamdesk_contract.values import Credentials

from .conftest import ALEX, BLUEBIRD, authorized


def test_page_insights_with_a_user_token_is_a_bare_190(fb):
    """Real Graph answers page insights called with a user token with HTTP 400 and code
    190 *without* a subcode. Source: a captured live answer in
    github.com/halsandr/Facebook_Connector/issues/1 (`{"code":400,"body":"{\\"error\\":
    {\\"message\\":\\"(#190) This method must be called with a Page Access Token\\",
    \\"type\\":\\"OAuthException\\",\\"code\\":190,…}}"}`), and the Page Insights doc
    ("all metrics require a page access token of the page", quoted in
    github.com/bufferapp/facebook-api-wrapper/pull/11)."""
    response = fb.get(f"{BLUEBIRD}/insights", fb.user_token(), metric="page_media_view", period="day")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "(#190) This method must be called with a Page Access Token"
    assert (error["type"], error["code"]) == ("OAuthException", 190) and "error_subcode" not in error


def test_plugin_does_not_take_the_bare_190_for_an_expiry(fb, fb_plugins, config, caplog):
    """The plugin reports this 190 as its own bug (logged), never as TokenExpired."""
    credentials = Credentials(access_token=fb.user_token())  # a user token where a page token belongs
    with pytest.raises(WrongTokenKind) as caught:
        fb_plugins.call("streamdesk_metrics", "facebook", config, stream=authorized(), credentials=credentials,
                        story_ids=[], history_since=None)
    assert not isinstance(caught.value, TokenExpired)
    assert "wrong kind of token" in caught.value.message
    assert any(r.levelname == "ERROR" and "plugin bug" in r.getMessage() for r in caplog.records)


def test_logged_out_session_is_190_467(fb, fb_plugins, config, page_credentials):
    """The control API invalidates a token as "logged out": Graph's 190/467 ("The session
    is invalid because the user logged out", developers.facebook.com/docs/graph-api/
    guides/error-handling, subcode 467 "Invalid access token"), so every expiry subcode
    can be tested; the plugin reads it as a revocation."""
    credentials = page_credentials()
    assert fb.control("tokens/logout", user_id=ALEX)["tokens"] >= 1
    error = fb.get(BLUEBIRD, credentials.access_token).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 467)
    assert "logged out" in error["message"]
    with pytest.raises(TokenExpired) as caught:
        list(fb_plugins.call("streamdesk_crawl", "facebook", config, stream=authorized(), credentials=credentials,
                             cursor=None))
    assert caught.value.revoked and "logged out" in caught.value.message
    one = fb.user_token()
    assert fb.control("tokens/logout", token=one) == {"ok": True, "tokens": 1}
    assert fb.get("me", one).json()["error"]["error_subcode"] == 467
