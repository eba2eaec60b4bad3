"""The health of connected profiles' tokens, and warnings before they expire.

A connected profile whose token expires within a week and that the plugin cannot
refresh gets one e-mail to its owner (and a notice in the app), then a second one the
day before. Both are counted per expiry date, so linking the profile again (a new
expiry) starts afresh.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from .db import database
from .jobs import with_database
from .mail import MailError, render, send
from .models import ConnectedProfile, Stream, User, utcnow, with_topic_names
from .runtime import runtime

log = logging.getLogger(__name__)

#: The first warning comes this long before the token expires, the second LAST_CALL before.
FIRST_WARNING = datetime.timedelta(days=7)
LAST_CALL = datetime.timedelta(days=1)


def renews_itself(plugins, profile: ConnectedProfile) -> bool:
    """Whether the profile's token is refreshed by the crawls before it expires."""
    return bool(profile.refresh_token) and plugins.supports(profile.service, "streamdesk_refresh")


@dataclass(frozen=True)
class Health:
    """A connected profile's token in one word (``state``), with what the token health
    pages show beside it."""

    state: str  # healthy, renews automatically, expires in N days, expired, permission missing
    permissions: list[tuple[str, str, bool]]  # (the permission's label, what it enables, granted)
    streams: list


def health(plugins, profile: ConnectedProfile, streams: list | None = None) -> Health:
    """The state of ``profile``'s token: one word, never two contradicting ones (an
    expired token is "expired", whatever could have renewed it)."""
    if profile.status == "expired" or profile.credentials is None:
        state = "expired"
    elif profile.declined_list:
        state = "permission missing"
    elif renews_itself(plugins, profile):
        state = "renews automatically"
    elif profile.expires_at is not None:
        days = max(0, (profile.expires_at - utcnow()).days)
        state = f"expires in {days} day{'s' if days != 1 else ''}"
    else:
        state = "healthy"
    loaded = plugins.get(profile.service)
    declined = set(profile.declined_list)
    labels = loaded.service.permission_labels if loaded else {}
    permissions = [(labels.get(name, name), what, name not in declined)
                   for name, what in (loaded.service.permission_help if loaded else ())]
    return Health(state, permissions, streams or [])


def profiles_health(plugins, profiles: list[ConnectedProfile]) -> dict[int, Health]:
    """``health`` of each profile, with the streams that use it (one query for all)."""
    used: dict[int, list] = {}
    ids = [p.id for p in profiles]
    if ids:
        for stream in with_topic_names(Stream.select().where(Stream.connected_profile.in_(ids))
                                       .order_by(Stream.name)):
            used.setdefault(stream.connected_profile_id, []).append(stream)
    return {p.id: health(plugins, p, used.get(p.id)) for p in profiles}


def expiring_soon(plugins, user: User) -> list[tuple[ConnectedProfile, int]]:
    """``user``'s own profiles that expire within a week and will not renew, with the
    whole days left: the in-app notice."""
    now = utcnow()
    profiles = (ConnectedProfile.select()
                .where(ConnectedProfile.user == user, ConnectedProfile.status != "expired",
                       ConnectedProfile.expires_at.between(now, now + FIRST_WARNING)))
    return [(p, (p.expires_at - now).days) for p in profiles if not renews_itself(plugins, p)]


def warnings_due(plugins, now: datetime.datetime | None = None) -> list[tuple[ConnectedProfile, int]]:
    """Profiles whose owner is owed a warning now, with the number it will be (1 or 2)."""
    now = now or utcnow()
    due = []
    for profile in (ConnectedProfile.select(ConnectedProfile, User).join(User)
                    .where(ConnectedProfile.status != "expired",
                           ConnectedProfile.expires_at.between(now, now + FIRST_WARNING))):
        if renews_itself(plugins, profile):
            continue
        sent = profile.warnings_sent if profile.warned_for == profile.expires_at else 0
        owed = 2 if profile.expires_at - now <= LAST_CALL else 1
        if sent < owed:
            due.append((profile, owed))
    return due


def warn(rt, profile: ConnectedProfile, number: int, now: datetime.datetime | None = None) -> None:
    """E-mail the owner of ``profile`` that its token expires soon; record it first, so a
    failing mail server cannot turn into a warning every hour."""
    with database.atomic():
        claimed = (ConnectedProfile.update(warned_for=profile.expires_at, warnings_sent=number)
                   .where(ConnectedProfile.id == profile.id, ConnectedProfile.expires_at == profile.expires_at)
                   .execute())
    if not claimed:
        return
    label = rt.label(profile.service)
    left = profile.expires_at - (now or utcnow())
    when = "tomorrow" if left <= LAST_CALL else f"in {max(1, left.days)} days"
    text, html = render("expiring", profile=profile, label=label, when=when, expires_at=profile.expires_at,
                        reconnect_url=f"{rt.settings.public_url}/personal/connected-profiles")
    try:
        send(rt.settings, [profile.user.email], f"Streamdesk: your {label} connection expires {when}", text,
             html=html, account_id=profile.user.account_id)
    except MailError as exc:
        log.error("could not warn %s about profile %s: %s", profile.user.email, profile.id, exc)


@with_database
def warn_expiring_profiles() -> int:
    """Cron: send the expiry warnings that are due. Returns how many were sent."""
    rt = runtime()
    due = warnings_due(rt.plugins)
    for profile, number in due:
        warn(rt, profile, number)
    return len(due)
