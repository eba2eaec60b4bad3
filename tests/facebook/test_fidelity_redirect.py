"""Facebook Login issues a code only for the app's registered Valid OAuth Redirect URIs."""
import requests

from .conftest import REDIRECT, consent
from .test_emulator_oauth import dialog_url


def test_unregistered_redirect_uri_is_url_blocked(fb):
    """Facebook Login → Settings, "Valid OAuth Redirect URIs" with "Use Strict Mode for
    Redirect URIs" (developers.facebook.com/docs/facebook-login/security#strict_mode):
    any other URI gets the "URL Blocked: This redirect failed because the redirect URI is
    not whitelisted in the app's Client OAuth Settings" page, never a code (captured in
    github.com/pablobarbera/Rfacebook/issues/174 comments, "Valid OAuth redirect URIs")."""
    for uri in (REDIRECT + "/other", "http://localhost:5000/personal/connected/facebook/callback",
                REDIRECT.replace("http:", "https:")):
        page = requests.get(dialog_url(fb, redirect_uri=uri))
        assert page.status_code == 400 and "URL Blocked" in page.text and "whitelisted" in page.text
        assert "code=" not in page.text
    # The confirm step checks again: a forged form cannot get a code for another URI.
    forged = requests.post(f"{fb.graph}/dialog/oauth/confirm", allow_redirects=False,
                           data={"client_id": fb.control("app", "GET")["client_id"],
                                 "redirect_uri": "https://evil.example/cb", "action": "continue"})
    assert forged.status_code == 400 and "URL Blocked" in forged.text
    assert consent(dialog_url(fb)).startswith(REDIRECT + "?code=")


def test_control_api_reads_and_replaces_the_registered_uris_until_reset(fb):
    assert fb.control("app", "GET")["redirect_uris"] == [REDIRECT]
    fb.control("app", "PUT", redirect_uris=["https://desk.example/cb"])
    assert "URL Blocked" in requests.get(dialog_url(fb)).text
    fb.reset()
    assert fb.control("app", "GET")["redirect_uris"] == [REDIRECT]
