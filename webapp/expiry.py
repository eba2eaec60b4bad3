"""Expired streams: stop crawling, e-mail the account's admins, offer a reconnect."""
from __future__ import annotations

import logging

from peewee import JOIN

from .db import database
from .mail import MailError, send
from .models import ConnectedProfile, Stream, Topic, User

log = logging.getLogger(__name__)


def expire_stream(rt, stream: Stream, reason: str) -> bool:
    """Mark ``stream`` expired and tell the admins once; False when it already was."""
    with database.atomic():
        changed = (Stream.update(status="expired", status_message=reason, next_crawl_at=None)
                   .where(stream.this(), Stream.status != "expired").execute())
        if stream.connected_profile_id and not stream.access_token:
            # The stream crawled with the person's own token: that token is what expired.
            ConnectedProfile.update(status="expired").where(
                ConnectedProfile.id == stream.connected_profile_id).execute()
    stream.status, stream.status_message = "expired", reason
    if changed:
        notify_admins(rt, stream, reason)
    return bool(changed)


def expire_profile_streams(rt, profile: ConnectedProfile, reason: str) -> int:
    """Expire the streams that crawl with ``profile``'s own token (not a page token of
    their own): the profile is going away or now belongs to someone else."""
    streams = list(Stream.select().where(Stream.connected_profile == profile.id, Stream.access_token.is_null()))
    return sum(expire_stream(rt, stream, reason) for stream in streams)


def admin_emails(account_id: int) -> list[str]:
    return [u.email for u in User.select(User.email).where(User.account == account_id, User.role == "admin")]


def notify_admins(rt, stream: Stream, reason: str) -> None:
    """E-mail every admin of the stream's account that the stream expired."""
    topic = Topic.get_by_id(stream.topic_id)
    label = rt.label(stream.service)
    body = (
        f"The {label} stream “{stream.name}” in the topic “{topic.name}” has expired:\n"
        f"{reason}\n\n"
        "Expired streams no longer crawl new data. Reconnect it to avoid losing data:\n"
        f"{rt.settings.public_url}/topics\n\n"
        "Click Reconnect in the red banner on the Topics page.\n"
    )
    try:
        send(rt.settings, admin_emails(topic.account_id), f"Streamdesk: {label} stream “{stream.name}” expired", body)
    except MailError as exc:
        log.error("could not e-mail the admins about stream %s: %s", stream.id, exc)
    except Exception:  # a failed e-mail must not undo the expiry or fail the crawl job
        log.exception("could not e-mail the admins about stream %s", stream.id)


def expired_streams(account):
    """The account's expired streams, for the red banner on the topics page."""
    return (Stream.select(Stream, Topic, ConnectedProfile).join(Topic).switch(Stream)
            .join(ConnectedProfile, JOIN.LEFT_OUTER)
            .where(Topic.account == account, Stream.status == "expired")
            .order_by(Topic.name, Stream.name))
