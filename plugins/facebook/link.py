"""Linking a person's Facebook profile: the OAuth details and the profile behind a token.

Facebook Login is OAuth 2.0's authorization-code flow with comma-separated scopes. The
code gives a user token; it is exchanged for a long-lived one (about 60 days), whose
page tokens never expire. Facebook cannot refresh user tokens without the person, so
the profile must be relinked before expiry (the core warns from ``expires_at``).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.errors import ProviderUnavailable
from webapp.values import Credentials, LinkedProfile, OAuthDetails, ServiceConfig

from .client import GraphClient, app_token
from .rules import SCOPES


def details(config: ServiceConfig) -> OAuthDetails:
    """The dialog and token endpoint, built from the configured base URLs."""
    return OAuthDetails(
        authorize_url=f"{config.auth_url.rstrip('/')}/dialog/oauth",
        access_token_url=f"{config.api_url.rstrip('/')}/oauth/access_token",
        scopes=SCOPES,
        scope_separator=",",
        token_endpoint_auth_method="client_secret_post",
        # Without it Facebook does not ask again for permissions declined earlier.
        extra_authorize_params={"auth_type": "rerequest"},
    )


def _expires_at(body: dict, client: GraphClient, token: str) -> datetime | None:
    if body.get("expires_in"):
        return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=int(body["expires_in"]))
    # Graph sometimes omits expires_in on exchanges; debug_token always knows.
    data = client.get("/debug_token", {"input_token": token}).get("data", {})
    expires = data.get("expires_at")
    return datetime.fromtimestamp(expires, UTC) if expires else None


def profile(config: ServiceConfig, token: dict) -> LinkedProfile:
    """Exchange the dialog's token for a long-lived one and read who granted what."""
    short = token.get("access_token")
    if not short:
        raise ProviderUnavailable("Facebook returned no access token.")
    app = GraphClient(config, app_token(config))
    # POST keeps the app secret and the short-lived token out of the URL.
    exchanged = app.post("/oauth/access_token", {
        "grant_type": "fb_exchange_token", "client_id": config.client_id,
        "client_secret": config.client_secret, "fb_exchange_token": short})
    long_lived = exchanged.get("access_token") or short
    expires_at = _expires_at(exchanged, app, long_lived)
    user = GraphClient(config, long_lived)
    me = user.get("/me", {"fields": "id,name,picture"})
    permissions = user.get("/me/permissions").get("data", [])
    granted = tuple(p["permission"] for p in permissions if p.get("status") == "granted")
    declined = tuple(p["permission"] for p in permissions if p.get("status") != "granted")
    picture = ((me.get("picture") or {}).get("data") or {}).get("url")
    return LinkedProfile(external_id=str(me["id"]), name=me.get("name", ""),
                         credentials=Credentials(access_token=long_lived, expires_at=expires_at, scopes=granted),
                         granted=granted, declined=declined, picture_url=picture)
