"""Helpers for the X provider tests: the emulator's control API, a browser-like consent
form, and the PKCE flow with authlib. (Fixtures live in ``conftest.py``.)
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from consent import press

from streamdesk_contract.values import ServiceConfig

#: Where the core would receive the redirect; never contacted (redirects are not followed).
REDIRECT_URI = "http://127.0.0.1:5999/personal/connected-profiles/twitter/callback"


@dataclass
class Emulator:
    """The running X emulator and its control API."""

    url: str

    def control(self, method: str, path: str, **json) -> dict:
        response = requests.request(method, f"{self.url}/_control{path}", json=json or None, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def overview(self) -> dict:
        return self.control("GET", "")

    def user_id(self, username: str) -> str:
        return next(u["id"] for u in self.overview()["users"] if u["username"] == username)

    def counts(self) -> dict[str, int]:
        return self.control("GET", "/requests")["endpoints"]

    def clear_counts(self) -> None:
        self.control("DELETE", "/requests")

    def tweet_ids(self, username: str) -> list[str]:
        return self.control("GET", f"/users/{username}/tweets")["ids"]

    def malformed(self, endpoint: str, body, count: int = 1) -> None:
        """The next ``count`` calls to ``endpoint`` answer HTTP 200 with ``body``."""
        self.control("POST", "/malformed", endpoint=endpoint, body=body, count=count)

    def refuse(self, endpoint: str, refused: str | None = "client-forbidden") -> None:
        """Take ``endpoint`` away from the app's access level (None: give it back)."""
        self.control("POST", "/access", endpoint=endpoint, refused=refused)


def consent(emulator_url: str, authorize_url: str, decision: str = "Authorize app",
            username: str | None = None) -> str:
    """Open the consent page and press a button, as a browser would; returns the redirect."""
    select = None
    if username:
        overview = requests.get(f"{emulator_url}/_control", timeout=10).json()
        select = {"user_id": next(u["id"] for u in overview["users"] if u["username"] == username)}
    return press(authorize_url, decision, select=select)


def oauth_session(config: ServiceConfig, scopes) -> OAuth2Session:
    """The core's side of the flow: Basic auth for a confidential client, none for a public one."""
    return OAuth2Session(
        client_id=config.client_id, client_secret=config.client_secret or None, scope=" ".join(scopes),
        redirect_uri=REDIRECT_URI, code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if config.client_secret else "none",
    )


def authorize(emulator: Emulator, config: ServiceConfig, scopes=None, username: str | None = None) -> dict:
    """The whole PKCE flow: consent page, redirect, code exchange with authlib. Returns the token."""
    from plugins.twitter.link import SCOPES, link_details

    details = link_details(config)
    session = oauth_session(config, scopes or SCOPES)
    verifier = generate_token(48)
    uri, _state = session.create_authorization_url(details.authorize_url, code_verifier=verifier)
    location = consent(emulator.url, uri, username=username)
    assert "code" in parse_qs(urlsplit(location).query)
    return dict(session.fetch_token(details.access_token_url, authorization_response=location,
                                    code_verifier=verifier))
