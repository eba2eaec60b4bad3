"""Linking a person's Facebook profile: the OAuth details and the profile behind a token.

Facebook Login is OAuth 2.0's authorization-code flow with comma-separated scopes. The
code gives a user token; it is exchanged for a long-lived one (about 60 days), whose
page tokens never expire. Facebook cannot refresh user tokens without the person, so
the profile must be relinked before expiry (the core warns from ``expires_at``).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import Credentials, LinkedProfile, OAuthDetails, ServiceConfig

from .client import GraphClient, app_token
from .convert import node_id, permissions
from .guard import Malformed
from .rules import SCOPES
from .versions import versioned

#: How long Graph's long-lived user tokens live (what it answers as ``expires_in``).
LONG_LIVED = timedelta(seconds=5183944)


def details(config: ServiceConfig) -> OAuthDetails:
    """The dialog and token endpoint, built from the configured base URLs."""
    return OAuthDetails(
        authorize_url=f"{versioned(config.auth_url)}/dialog/oauth",
        access_token_url=f"{versioned(config.api_url)}/oauth/access_token",
        scopes=SCOPES,
        scope_separator=",",
        token_endpoint_auth_method="client_secret_post",
        # Without it Facebook does not ask again for permissions declined earlier.
        extra_authorize_params={"auth_type": "rerequest"},
        # With rerequest, the dialog asks for one missing permission alone.
        asks_one_permission=True,
    )


def _seconds(value) -> int | None:
    """A positive ``expires_in``; anything else counts as not given."""
    if isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _expires_at(exchanged: dict, token: dict, long_lived: bool) -> datetime | None:
    """When the stored token expires. Graph sometimes leaves ``expires_in`` out of the
    exchange; a long-lived user token then lives about 60 days. (Asking ``debug_token``
    instead would put the token in a URL, where proxies and logs keep it.)"""
    now = datetime.now(UTC).replace(microsecond=0)
    seconds = _seconds(exchanged.get("expires_in"))
    if seconds:
        return now + timedelta(seconds=seconds)
    if long_lived:
        return now + LONG_LIVED
    # No exchange: the dialog's own token, with the expiry the OAuth client read.
    seconds = _seconds(token.get("expires_in"))
    if seconds:
        return now + timedelta(seconds=seconds)
    at = _seconds(token.get("expires_at"))
    try:
        return datetime.fromtimestamp(at, UTC) if at else None
    except (OverflowError, OSError, ValueError):
        return None


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
    long_lived = exchanged.get("access_token")
    if long_lived is not None and not isinstance(long_lived, str):
        raise Malformed("an exchanged token that is not a string")
    expires_at = _expires_at(exchanged, token, bool(long_lived))
    long_lived = long_lived or short
    user = GraphClient(config, long_lived)
    me = user.get("/me", {"fields": "id,name,picture"})
    rows = permissions(user.get("/me/permissions"))
    granted = tuple(name for name, status in rows if status == "granted")
    declined = tuple(name for name, status in rows if status != "granted")
    picture = ((me.get("picture") or {}).get("data") or {}).get("url")
    return LinkedProfile(external_id=node_id(me), name=me.get("name", ""),
                         credentials=Credentials(access_token=long_lived, expires_at=expires_at, scopes=granted),
                         granted=granted, declined=declined, picture_url=picture)
