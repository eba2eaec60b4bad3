"""Linking a person's own profile on a service (OAuth 2.0 through authlib).

The plugin says how (:class:`~streamdesk_contract.values.OAuthDetails`); authlib runs the flow and
checks ``state`` (and PKCE where asked); the plugin turns the token into a
:class:`~streamdesk_contract.values.LinkedProfile`, which becomes the user's connected profile.
"""
from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from peewee import JOIN, IntegrityError

from streamdesk_contract.values import LinkedProfile

from . import services
from .db import database
from .expiry import expire_profile_streams
from .models import ConnectedProfile, Stream, User, token_columns, utcnow
from .streams import Runtime, connected_profile

oauth = OAuth()


def init_app(app, settings, plugins) -> None:
    """Register one authlib client per service whose plugin can link profiles."""
    oauth.init_app(app)
    for name in plugins.services:
        if not plugins.supports(name, "streamdesk_link_details"):
            continue
        config = services.service_config(settings, plugins, name)
        details = plugins.call("streamdesk_link_details", name, config)
        client_kwargs = {
            "scope": details.scope_separator.join(details.scopes),
            "token_endpoint_auth_method": details.token_endpoint_auth_method,
        }
        if details.code_challenge_method:
            client_kwargs["code_challenge_method"] = details.code_challenge_method
        oauth.register(
            name, overwrite=True, client_id=config.client_id, client_secret=config.client_secret,
            authorize_url=details.authorize_url, access_token_url=details.access_token_url,
            authorize_params=details.extra_authorize_params or None, client_kwargs=client_kwargs)


class CannotGrant(ValueError):
    """A Grant link names a permission the service does not ask for; ``message`` says so."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def grant_params(settings, plugins, service: str, permission: str) -> dict:
    """The authorization-URL parameters of a link that grants the missing ``permission``.

    Where the dialog can ask for one permission alone (Facebook: ``auth_type=rerequest``
    with ``scope`` set to it) only that one is asked; elsewhere (X cannot add one scope
    to a grant) the full set the app asks for is asked again — nothing to add.
    Raises CannotGrant when ``permission`` is not one the service lets people grant.
    """
    loaded = plugins.get(service)
    labels = loaded.service.permission_labels if loaded else {}
    if permission not in labels:
        raise CannotGrant(f"{loaded.service.label if loaded else service} has no permission called "
                          f"“{permission[:40]}” that Streamdesk can ask for.")
    details = plugins.call("streamdesk_link_details", service, services.service_config(settings, plugins, service))
    return {"scope": permission} if details.asks_one_permission else {}


def client(service: str):
    """The authlib client of ``service``, or None when it cannot link profiles."""
    return oauth.create_client(service)


def save_profile(rt: Runtime, user: User, service: str, linked: LinkedProfile) -> ConnectedProfile:
    """Store (or replace) the user's connected profile for ``service``; tokens encrypted.

    Linking another person's account than before must not hand that account's token to
    the streams of the previous one: they expire and are detached.
    """
    fields = dict(external_id=linked.external_id, name=linked.name[:255], **token_columns(linked.credentials),
                  granted=",".join(linked.granted), declined=",".join(linked.declined),
                  status="connected", updated_at=utcnow(), last_success_at=utcnow())
    profile = connected_profile(user, service)
    if profile is not None and profile.external_id != linked.external_id:
        expire_profile_streams(rt, profile, f"{profile.name} was replaced by {linked.name} in "
                                            "Connected profiles. Reconnect with the account that owns this page.")
        Stream.update(connected_profile=None).where(Stream.connected_profile == profile.id).execute()
    with database.atomic():
        updated = ConnectedProfile.update(**fields).where(
            ConnectedProfile.user == user, ConnectedProfile.service == service).execute()
        if not updated:
            try:
                with database.atomic():
                    ConnectedProfile.create(user=user, service=service, **fields)
            except IntegrityError:  # a second callback created it a moment ago
                ConnectedProfile.update(**fields).where(
                    ConnectedProfile.user == user, ConnectedProfile.service == service).execute()
    return connected_profile(user, service)


def disconnect(rt: Runtime, user: User, service: str) -> str | None:
    """Delete the user's connected profile. Streams that crawl with its token expire (and
    the admins hear of it); streams with a page token of their own keep crawling."""
    profile = connected_profile(user, service)
    if profile is None:
        return None
    expire_profile_streams(rt, profile, f"{profile.name} was disconnected in Connected profiles. "
                                        "Reconnect to go on crawling this stream.")
    profile.delete_instance()
    return profile.name


def may_reconnect(user: User, stream: Stream) -> bool:
    """Whether ``user`` may bring ``stream`` back. An authorized stream carries the
    account's connection: only admins, or the person whose profile it used, may relink
    it (a member must not take it over with a profile of their own)."""
    if not stream.authorized or user.is_admin:
        return True
    profile = stream.connected_profile
    return profile is not None and profile.user_id == user.id


def retry_refused_streams(user: User, service: str) -> list[Stream]:
    """After a (re)link: the account's streams of ``service`` that stopped on a missing
    permission are queued at once, without waiting for their next retry — the link may
    have granted it. Returns them."""
    waiting = [s for s in Stream.select(Stream, ConnectedProfile).join(ConnectedProfile, JOIN.LEFT_OUTER)
               .where(Stream.account == user.account_id, Stream.service == service, Stream.status == "permission")
               if may_reconnect(user, s)]
    for stream in waiting:
        Stream.update(status="queued", next_crawl_at=None).where(stream.this()).execute()
    return waiting


def reconnect_streams(rt: Runtime, user: User, service: str) -> list[Stream]:
    """After a (re)link: give the account's expired streams of ``service`` fresh tokens.

    An authorized stream comes back when the new connected profile administers its page;
    an unauthorized one needs no token of a person and is simply queued again.
    Returns the streams that were revived (status queued).
    """
    from .streams import managed_pages

    expired = [s for s in Stream.select(Stream, ConnectedProfile).join(ConnectedProfile, JOIN.LEFT_OUTER)
               .where(Stream.account == user.account_id, Stream.service == service, Stream.status == "expired")
               if may_reconnect(user, s)]
    if not expired:
        return []
    pages = {}
    if any(s.authorized for s in expired) and rt.plugins.supports(service, "streamdesk_managed_pages"):
        profile, managed = managed_pages(rt, user, service)
        pages = {p.page.page_id: p for p in managed if p.can_add}
    revived = []
    with database.atomic():
        for stream in expired:
            fields = dict(status="queued", status_message=None, next_crawl_at=None)
            if stream.authorized:
                page = pages.get(stream.page_id)
                if page is None:
                    continue
                fields.update(connected_profile=profile.id, **token_columns(page.credentials))
            Stream.update(**fields).where(stream.this()).execute()
            revived.append(stream)
    return revived
