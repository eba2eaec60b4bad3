"""Linking an X account: OAuth 2.0 authorization code with PKCE, and token refresh.

X access tokens live two hours; with ``offline.access`` a refresh token comes along,
and each refresh returns a *new* refresh token and invalidates the old one. So the
credentials returned by :func:`refresh` must replace the stored ones at once — the old
refresh token is dead. The profile is expired only when X refuses the refresh token
itself (an auth error), never for a network or rate-limit problem.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from streamdesk_contract.errors import ProviderUnavailable, RateLimited, TokenExpired
from streamdesk_contract.values import (
    Credentials,
    LinkedProfile,
    ManagedPage,
    OAuthDetails,
    PageInfo,
    ServiceConfig,
)

from .client import TIMEOUT, UNREADABLE, XClient, retry_after

#: What Streamdesk asks for: read the account, its mentions and DMs; post, reply,
#: like, hide replies and send DMs; stay connected (offline.access → refresh tokens).
SCOPES = ("tweet.read", "users.read", "tweet.write", "tweet.moderate.write", "like.write",
          "dm.read", "dm.write", "offline.access")
#: Each scope in words for people (a stream refused for one names it). X cannot ask
#: for one scope alone: granting a missing one asks for all of SCOPES again.
LABELS = {
    "tweet.read": "Read posts",
    "users.read": "Read profile information",
    "tweet.write": "Post and repost",
    "tweet.moderate.write": "Hide and unhide replies",
    "like.write": "Like and unlike posts",
    "dm.read": "Read Direct Messages",
    "dm.write": "Send Direct Messages",
    "offline.access": "Stay connected",
}
#: Without these a stream cannot be crawled for long (offline.access: beyond two hours).
ESSENTIAL = ("tweet.read", "users.read", "offline.access")
USER_FIELDS = "name,username,profile_image_url,public_metrics,description,protected,verified"


def token_url(config: ServiceConfig) -> str:
    """X's token endpoint: ``{api_url}/2/oauth2/token``."""
    return config.api_url.rstrip("/") + "/2/oauth2/token"


def link_details(config: ServiceConfig) -> OAuthDetails:
    """Authorize at x.com/i/oauth2/authorize, exchange at api.x.com/2/oauth2/token (PKCE S256)."""
    return OAuthDetails(
        authorize_url=config.auth_url.rstrip("/") + "/authorize",
        access_token_url=token_url(config),
        scopes=SCOPES,
        scope_separator=" ",
        code_challenge_method="S256",
        # X wants confidential clients to authenticate with HTTP Basic at the token endpoint.
        token_endpoint_auth_method="client_secret_basic",
    )


def credentials_from_token(token: dict) -> Credentials:
    """Credentials from a token-endpoint answer (``expires_at`` computed when absent)."""
    access_token, refresh_token = token.get("access_token"), token.get("refresh_token")
    if not isinstance(access_token, str) or not access_token or not isinstance(refresh_token, str | None):
        raise ProviderUnavailable(UNREADABLE)  # a token answer without a usable token
    expires_at = token.get("expires_at")
    if expires_at is None and token.get("expires_in") is not None:
        expires_at = time.time() + float(token["expires_in"])
    scope = token.get("scope") or ""
    scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope)
    return Credentials(
        access_token=access_token,
        refresh_token=refresh_token or None,
        expires_at=datetime.fromtimestamp(float(expires_at), tz=UTC) if expires_at else None,
        scopes=scopes,
    )


def page_info(user: dict) -> PageInfo:
    """An X user object as a page (stream candidate)."""
    return PageInfo(
        page_id=user["id"], name=user.get("name") or user["username"], handle=user["username"],
        url=f"https://x.com/{user['username']}", picture_url=user.get("profile_image_url"),
        followers=(user.get("public_metrics") or {}).get("followers_count"),
        category="Protected account" if user.get("protected") else None,
    )


def me(config: ServiceConfig, credentials: Credentials) -> dict:
    """``GET /2/users/me``: the person behind the token."""
    body = XClient(config, credentials.access_token).get(
        "/2/users/me", "GET /2/users/me", {"user.fields": USER_FIELDS}, scope="users.read")
    return body["data"]


def link_profile(config: ServiceConfig, token: dict) -> LinkedProfile:
    """The connected profile for a fresh token: who it is, what was granted and declined."""
    credentials = credentials_from_token(token)
    user = me(config, credentials)
    granted = credentials.scopes
    return LinkedProfile(
        external_id=user["id"],
        name=f"{user.get('name') or user['username']} (@{user['username']})",
        credentials=credentials,
        granted=granted,
        declined=tuple(s for s in SCOPES if s not in granted),
        picture_url=user.get("profile_image_url"),
    )


def managed_pages(config: ServiceConfig, credentials: Credentials) -> list[ManagedPage]:
    """On X a person administers exactly one account: their own."""
    user = me(config, credentials)
    missing = tuple(s for s in ESSENTIAL if credentials.scopes and s not in credentials.scopes)
    reason = None
    if missing:
        reason = ("Reconnect your X profile and allow " + ", ".join(missing)
                  + ": Streamdesk needs it to keep this account up to date.")
    return [ManagedPage(page=page_info(user), is_admin=True, missing_permissions=missing, reason=reason)]


def _check_refresh_response(response: requests.Response) -> requests.Response:
    """Turn what is not X refusing the refresh token into retryable errors (before authlib parses it)."""
    if response.status_code == 429:
        raise RateLimited(retry_after(response.headers, default=60.0),
                          "X's token endpoint is rate limited; Streamdesk will retry.")
    if response.status_code >= 500:
        raise ProviderUnavailable(f"X could not refresh the token right now (HTTP {response.status_code}).")
    if response.status_code == 401:
        # 401 unauthorized_client: the app's credentials, not the person's refresh token.
        raise ProviderUnavailable("X refused the app's client credentials (check TWITTER_CLIENT_ID and "
                                  "TWITTER_CLIENT_SECRET); the connected profile is kept.")
    return response


def refresh(config: ServiceConfig, credentials: Credentials) -> Credentials | None:
    """New credentials from the refresh token (which rotates); None without one."""
    if not credentials.refresh_token:
        return None
    confidential = bool(config.client_secret)
    session = OAuth2Session(
        client_id=config.client_id, client_secret=config.client_secret or None,
        token_endpoint_auth_method="client_secret_basic" if confidential else "none",
    )
    session.register_compliance_hook("refresh_token_response", _check_refresh_response)
    # X's documented refresh request carries client_id in the body. A public client's
    # authentication ("none") already puts it there: adding it again would send it twice,
    # which OAuth 2.0 forbids (RFC 6749 §3.2: parameters must not be included more than once).
    body_client_id = {"client_id": config.client_id} if confidential else {}
    try:
        token = session.refresh_token(
            token_url(config), refresh_token=credentials.refresh_token, timeout=TIMEOUT, **body_client_id,
        )
    except OAuthError as exc:
        raise TokenExpired(f"X refused to refresh the connection ({exc.description or exc.error}); "
                           "reconnect the X profile.", revoked=True) from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"X could not be reached to refresh the token ({type(exc).__name__}).") from exc
    except ValueError as exc:  # a body that is not JSON
        raise ProviderUnavailable(UNREADABLE) from exc
    fresh = credentials_from_token(dict(token))
    if not fresh.scopes:
        fresh = Credentials(fresh.access_token, fresh.refresh_token, fresh.expires_at, credentials.scopes)
    return fresh
