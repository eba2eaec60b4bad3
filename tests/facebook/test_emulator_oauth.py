"""The emulator's Facebook Login: consent page, code exchange, token endpoints, debug_token."""
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session

from emulators.facebook import APP_ID, APP_SECRET

from .conftest import ALEX, BLUEBIRD, SAM, FormReader, consent

REDIRECT = "http://127.0.0.1:5000/personal/connected/facebook/callback"
SCOPE = "pages_show_list,pages_read_engagement,pages_manage_posts,read_insights"


def dialog_url(fb, **extra) -> str:
    params = {"client_id": APP_ID, "redirect_uri": REDIRECT, "state": "s-123", "scope": SCOPE,
              "response_type": "code", **extra}
    return f"{fb.graph}/dialog/oauth?{urlencode(params)}"


def test_consent_page_offers_people_permissions_continue_and_cancel(fb):
    page = requests.get(dialog_url(fb))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    form = FormReader()
    form.feed(page.text)
    assert form.options[0] == (ALEX, True)  # the first seeded person is the default
    assert {value for value, _ in form.options} >= {ALEX, SAM}
    ticked = {box["value"] for box in form.checkboxes if "checked" in box}
    assert ticked == {"public_profile", *SCOPE.split(",")}
    assert [label for label, _ in form.buttons] == ["Continue", "Cancel"]
    assert "<label><input type=\"checkbox\" name=\"permissions\" value=\"read_insights\" checked>" in page.text


def test_cancel_redirects_with_facebooks_error_parameters(fb):
    location = consent(dialog_url(fb), button="Cancel")
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query == {"error": ["access_denied"], "error_code": ["200"], "error_description": ["Permissions error"],
                     "error_reason": ["user_denied"], "state": ["s-123"]}


def test_dialog_refuses_unknown_app_bad_redirect_and_unknown_scope(fb):
    assert "Invalid App ID" in requests.get(dialog_url(fb, client_id="42")).text
    assert "URL Blocked" in requests.get(dialog_url(fb, redirect_uri="javascript:alert(1)")).text
    assert "Invalid Scopes: pages_everything" in requests.get(dialog_url(fb, scope="pages_everything")).text


def test_code_exchange_with_authlib_post_and_single_use(fb):
    session = OAuth2Session(APP_ID, APP_SECRET, scope=SCOPE, redirect_uri=REDIRECT,
                            token_endpoint_auth_method="client_secret_post")
    url, state = session.create_authorization_url(f"{fb.graph}/dialog/oauth")
    location = consent(url, untick=("read_insights",))
    token = session.fetch_token(f"{fb.graph}/oauth/access_token", authorization_response=location, state=state)
    assert token["token_type"] == "bearer" and token["expires_in"] == 5183944 and token["access_token"]
    permissions = fb.get("me/permissions", token["access_token"]).json()["data"]
    assert {"permission": "read_insights", "status": "declined"} in permissions
    assert {"permission": "pages_show_list", "status": "granted"} in permissions
    # The code is single use (GET, as Graph documents the endpoint).
    code = parse_qs(urlsplit(location).query)["code"][0]
    again = fb.get("oauth/access_token", client_id=APP_ID, client_secret=APP_SECRET, redirect_uri=REDIRECT, code=code)
    error = again.json()["error"]
    assert again.status_code == 400 and (error["code"], error["error_subcode"]) == (100, 36009)
    assert error["message"] == "This authorization code has been used." and error["fbtrace_id"]


def test_code_is_tied_to_its_redirect_uri_and_secret_is_checked(fb):
    code = parse_qs(urlsplit(consent(dialog_url(fb))).query)["code"][0]
    wrong = fb.get("oauth/access_token", client_id=APP_ID, client_secret=APP_SECRET,
                   redirect_uri=REDIRECT + "/other", code=code).json()["error"]
    assert (wrong["code"], wrong["error_subcode"]) == (100, 36008)
    bad_secret = fb.get("oauth/access_token", client_id=APP_ID, client_secret="nope",
                        redirect_uri=REDIRECT, code=code).json()["error"]
    assert bad_secret["code"] == 1 and bad_secret["message"] == "Error validating client secret."
    good = fb.get("oauth/access_token", client_id=APP_ID, client_secret=APP_SECRET, redirect_uri=REDIRECT, code=code)
    assert good.status_code == 200 and set(good.json()) == {"access_token", "token_type", "expires_in"}


def test_long_lived_exchange_me_accounts_and_debug_token(fb):
    short = fb.user_token(ALEX)
    body = fb.get("oauth/access_token", grant_type="fb_exchange_token", client_id=APP_ID,
                  client_secret=APP_SECRET, fb_exchange_token=short).json()
    long_lived = body["access_token"]
    assert long_lived != short and body["token_type"] == "bearer" and body["expires_in"] > 50 * 86400
    me = fb.get("me", long_lived, fields="id,name").json()
    assert me == {"id": ALEX, "name": "Alex Rivera"}
    accounts = fb.get("me/accounts", long_lived).json()
    first = accounts["data"][0]
    assert set(first) == {"access_token", "category", "category_list", "name", "id", "tasks"}
    assert first["id"] == BLUEBIRD and "MANAGE" in first["tasks"]
    assert set(accounts["paging"]["cursors"]) == {"before", "after"}
    app_token = f"{APP_ID}|{APP_SECRET}"
    data = fb.get("debug_token", app_token, input_token=long_lived).json()["data"]
    assert data["is_valid"] and data["type"] == "USER" and data["user_id"] == ALEX and data["app_id"] == APP_ID
    assert data["expires_at"] > data["issued_at"] and "pages_show_list" in data["scopes"]
    assert any(s["scope"] == "pages_manage_posts" and BLUEBIRD in s["target_ids"] for s in data["granular_scopes"])
    page = fb.get("debug_token", app_token, input_token=first["access_token"]).json()["data"]
    assert page["type"] == "PAGE" and page["expires_at"] == 0 and page["profile_id"] == BLUEBIRD
    fb.control("tokens/expire", token=long_lived)
    expired = fb.get("debug_token", app_token, input_token=long_lived).json()["data"]
    assert expired["is_valid"] is False and expired["error"]["subcode"] == 463


def test_app_token_from_client_credentials(fb):
    body = fb.post("oauth/access_token", client_id=APP_ID, client_secret=APP_SECRET,
                   grant_type="client_credentials").json()
    assert body == {"access_token": f"{APP_ID}|{APP_SECRET}", "token_type": "bearer"}
