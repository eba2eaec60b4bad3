"""Expired streams: stop crawling, e-mail the account's admins, offer a reconnect."""
from __future__ import annotations

import logging

from peewee import JOIN

from .db import database
from .mail import MailError, render, send
from .models import ConnectedProfile, Stream, User, utcnow, with_topic_names
from .prepared import Prepared, slot

log = logging.getLogger(__name__)


def expire_stream(rt, stream: Stream, reason: str) -> bool:
    """Mark ``stream`` expired — with every stream of the account that shares its broken
    connection — and tell each admin once, in one e-mail naming them all. Returns False
    when ``stream`` already was expired."""
    with database.atomic():
        expired = [s for s in [stream, *connection_streams(stream)]
                   if Stream.update(status="expired", status_message=reason, next_crawl_at=None,
                                    expired_at=utcnow())
                   .where(s.this(), Stream.status != "expired").execute()]
        if stream.connected_profile_id and not stream.access_token:
            # The stream crawled with the person's own token: that token is what expired.
            ConnectedProfile.update(status="expired").where(
                ConnectedProfile.id == stream.connected_profile_id).execute()
    stream.status, stream.status_message = "expired", reason
    if expired:
        notify_admins(rt, expired, reason)
    return any(s is stream for s in expired)


def connection_streams(stream: Stream) -> list[Stream]:
    """The other streams of the account that crawl with the same connection as
    ``stream``, so one broken token expires them together: the streams on the same
    person's token, the same page's streams on its page token (one page in several
    topics), or the public streams of the service (the app's own token)."""
    query = (Stream.select(Stream)
             .where(Stream.account == stream.account_id, Stream.service == stream.service, Stream.id != stream.id, Stream.status != "expired",
                    Stream.authorized == stream.authorized))
    if stream.authorized:
        if stream.connected_profile_id is None:
            return []
        query = query.where(Stream.connected_profile == stream.connected_profile_id)
        query = query.where(Stream.page_id == stream.page_id) if stream.access_token \
            else query.where(Stream.access_token.is_null())
    return list(query)


def expire_profile_streams(rt, profile: ConnectedProfile, reason: str) -> int:
    """Expire the streams that crawl with ``profile``'s own token (not a page token of
    their own): the profile is going away or now belongs to someone else."""
    streams = list(Stream.select().where(Stream.connected_profile == profile.id, Stream.access_token.is_null()))
    return sum(expire_stream(rt, stream, reason) for stream in streams)


def admin_emails(account_id: int) -> list[str]:
    return [u.email for u in User.select(User.email).where(User.account == account_id, User.role == "admin")]


def notify_admins(rt, streams: list[Stream], reason: str) -> None:
    """E-mail each admin of the streams' account once: what expired, why, and where to
    reconnect (text and HTML parts)."""
    streams = sorted(with_topic_names(streams), key=lambda s: (s.topic_names, s.name))
    account_id = streams[0].account_id
    label = rt.label(streams[0].service)
    subject = (f"Streamdesk: {label} stream “{streams[0].name}” expired" if len(streams) == 1
               else f"Streamdesk: {len(streams)} {label} streams expired")
    text, html = render("expired", streams=streams, label=label, reason=reason,
                        reconnect_url=f"{rt.settings.public_url}/topics")
    try:
        send(rt.settings, admin_emails(account_id), subject, text, html=html, account_id=account_id)
    except MailError as exc:
        log.error("could not e-mail the admins about streams %s: %s", [s.id for s in streams], exc)
    except Exception:  # a failed e-mail must not undo the expiry or fail the crawl job
        log.exception("could not e-mail the admins about streams %s", [s.id for s in streams])


def expired_streams(account):
    """The account's expired streams, for the red banner on the topics page."""
    account_id = account if isinstance(account, int) else account.id
    return with_topic_names(_EXPIRED.rows(account_id=account_id))


#: Read by every page's navigation (the badge): its SQL is built once (webapp/prepared.py).
_EXPIRED = Prepared(lambda: Stream.select(Stream, ConnectedProfile).join(ConnectedProfile, JOIN.LEFT_OUTER)
                    .where(Stream.account == slot("account_id"), Stream.status == "expired")
                    .order_by(Stream.name))
