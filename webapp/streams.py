"""Streams: adding a page to a topic (authorized or not), and queueing its crawls.

Every Add is checked again against the plugin on the server: the page must be one the
person administers (authorized) or one the search really returns (unauthorized), so a
forged page id in a request adds nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from peewee import IntegrityError

from streamdesk_contract.errors import TokenExpired
from streamdesk_contract.values import ManagedPage, PageInfo

from . import services
from .config import Settings
from .db import database
from .models import ConnectedProfile, Stream, StreamGap, Topic, TopicStream, User, token_columns, utcnow
from .plugins import Plugins
from .prepared import Prepared, slot

MAX_QUERY = 500


class StreamError(ValueError):
    """A stream request cannot be done; the message says why (and what to do)."""

    @property
    def message(self) -> str:
        return str(self)


class NoConnectedProfile(StreamError):
    """The person has no connected profile for the service (or it expired)."""


@dataclass(frozen=True)
class Runtime:
    """What service functions need from the running process."""

    settings: Settings
    plugins: Plugins

    def call(self, hook: str, service: str, **kwargs):
        return services.call(self.settings, self.plugins, hook, service, **kwargs)

    def label(self, service: str) -> str:
        loaded = self.plugins.get(service)
        if loaded is None:
            raise StreamError(f"There is no service called “{service[:40]}”.")
        return loaded.service.label


def connected_profile(user: User, service: str) -> ConnectedProfile | None:
    """The user's own connected profile for ``service`` (never another user's)."""
    return ConnectedProfile.get_or_none((ConnectedProfile.user == user) & (ConnectedProfile.service == service))


def managed_pages(rt: Runtime, user: User, service: str) -> tuple[ConnectedProfile, list[ManagedPage]]:
    """The pages ``user`` administers on ``service``, through their connected profile."""
    label = rt.label(service)
    if not rt.plugins.supports(service, "streamdesk_managed_pages"):
        raise StreamError(f"{label} does not support authorized streams.")
    profile = connected_profile(user, service)
    if profile is None:
        raise NoConnectedProfile(f"You have no connected {label} profile yet.")
    if profile.status == "expired" or profile.credentials is None:
        raise NoConnectedProfile(f"Your connected {label} profile has expired: connect it again.")
    try:
        pages = rt.call("streamdesk_managed_pages", service, credentials=profile.credentials)
    except TokenExpired:
        profile.status = "expired"
        profile.save()
        raise NoConnectedProfile(f"Your connected {label} profile has expired: connect it again.") from None
    return profile, list(pages)


def search_pages(rt: Runtime, user: User, service: str, query: str) -> list[PageInfo]:
    """Public pages of ``service`` matching a URL, handle or text (most relevant first)."""
    label = rt.label(service)
    if not rt.plugins.supports(service, "streamdesk_search"):
        raise StreamError(f"{label} does not support adding public pages.")
    query = (query or "").strip()
    if not query:
        raise StreamError(f"Enter the {label} page's URL or handle.")
    if len(query) > MAX_QUERY:
        raise StreamError(f"That is too long to be a {label} URL or handle ({len(query):,} characters).")
    profile = connected_profile(user, service)
    credentials = profile.credentials if profile is not None and profile.status != "expired" else None
    return list(rt.call("streamdesk_search", service, query=query, credentials=credentials))


def _check_new(topic: Topic, service: str, page_id: str, name: str) -> None:
    if in_topic(topic).where(Stream.service == service, Stream.page_id == page_id).exists():
        raise StreamError(f"“{name}” is already a stream of this topic.")


def add_authorized(rt: Runtime, user: User, topic: Topic, service: str, page_id: str) -> Stream:
    """Add one of the user's managed pages as an authorized stream."""
    profile, pages = managed_pages(rt, user, service)
    page = next((p for p in pages if p.page.page_id == page_id), None)
    if page is None:
        raise StreamError("That page is not one your connected profile administers.")
    if not page.can_add:
        raise StreamError(page.reason or "You cannot add this page.")
    return _create(topic, service, page.page, authorized=True, profile=profile, managed=page)


def add_unauthorized(rt: Runtime, user: User, topic: Topic, service: str, page_id: str, query: str) -> Stream:
    """Add a public page found by ``query`` as an unauthorized stream."""
    page = next((p for p in search_pages(rt, user, service, query) if p.page_id == page_id), None)
    if page is None:
        raise StreamError("That page is not among the search results: search again and choose one.")
    return _create(topic, service, page, authorized=False)


def _create(topic: Topic, service: str, page: PageInfo, authorized: bool,
            profile: ConnectedProfile | None = None, managed: ManagedPage | None = None) -> Stream:
    """Put the page into ``topic``. The account's stream of that page is reused when
    another topic holds it already (one crawl per page); an expired authorized one
    takes the token just checked, as a reconnect would."""
    credentials = managed.credentials if managed is not None else None
    try:
        with database.atomic():
            _check_new(topic, service, page.page_id, page.name)
            stream = Stream.get_or_none(Stream.account == topic.account_id, Stream.service == service,
                                        Stream.page_id == page.page_id, Stream.authorized == authorized)
            if stream is None:
                stream = Stream.create(
                    account=topic.account_id, service=service, page_id=page.page_id, name=page.name[:255],
                    handle=page.handle, url=web_url(page.url), picture_url=web_url(page.picture_url),
                    authorized=authorized, connected_profile=profile, **token_columns(credentials),
                    status="queued", created_at=utcnow())
            elif authorized and stream.status == "expired":
                Stream.update(connected_profile=profile, status="queued", status_message=None, next_crawl_at=None,
                              **token_columns(credentials)).where(stream.this()).execute()
            TopicStream.create(topic=topic, stream=stream)
            return stream
    except IntegrityError:  # a concurrent Add of the same page won the race
        raise StreamError(f"“{page.name}” is already a stream of this topic.") from None


def web_url(url: str | None) -> str | None:
    """Keep only http(s) links from a plugin: a ``javascript:`` URL must never become an href."""
    if url and url.startswith(("https://", "http://")):  # the usual case, without parsing (exports call this per row)
        return url
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def in_topic(topic):
    """The streams ``topic`` holds, as a query to refine."""
    return Stream.select().join(TopicStream).where(TopicStream.topic == topic)


#: A stream as the lists of streams show it: every column but its tokens (a list has
#: no use for them, and decrypting a hundred cost more than the rest of the page).
LISTED_COLUMNS = tuple(f for f in Stream._meta.sorted_fields if f.name not in ("access_token", "refresh_token"))
_STREAMS_OF = Prepared(lambda: in_topic(slot("topic_id")).select(*LISTED_COLUMNS)
                       .order_by(Stream.service, Stream.name))


def streams_of(topic: Topic) -> list[Stream]:
    """The streams of ``topic`` for its lists, by service and name, without their
    tokens (:data:`LISTED_COLUMNS`)."""
    return list(_STREAMS_OF.rows(topic_id=topic.id))


def get_stream(account, stream_id) -> Stream:
    """A stream of ``account``; StreamError otherwise."""
    stream = Stream.get_or_none((Stream.id == stream_id) & (Stream.account == account))
    if stream is None:
        raise StreamError("There is no such stream in your account.")
    return stream


def gaps_of(streams) -> dict[int, list[StreamGap]]:
    """The data gaps of ``streams`` (one query for all), oldest first, by stream id."""
    ids = [stream.id for stream in streams]
    gaps: dict[int, list[StreamGap]] = {}
    if ids:
        for gap in StreamGap.select().where(StreamGap.stream.in_(ids)).order_by(StreamGap.starts_at):
            gaps.setdefault(gap.stream_id, []).append(gap)
    return gaps


def stream_of(topic: Topic, stream_id) -> Stream | None:
    """The stream ``stream_id`` of ``topic`` (None for any other id)."""
    return in_topic(topic).where(Stream.id == stream_id).first()


def crawl_now(topic: Topic, stream_id) -> Stream:
    """Make a stream of ``topic`` due at once ("Crawl now"); an expired one must be
    reconnected first."""
    stream = stream_of(topic, stream_id)
    if stream is None:
        raise StreamError("There is no such stream in this topic.")
    if stream.status == "expired":
        raise StreamError(f"“{stream.name}” has expired: reconnect it first.")
    Stream.update(next_crawl_at=utcnow()).where(stream.this()).execute()
    return stream


def remove_stream(topic: Topic, stream_id) -> str:
    """Take a stream out of ``topic``; returns its name. What it crawled stays while
    another topic holds it, and goes with the stream when this was the last one."""
    with database.atomic():
        stream = stream_of(topic, stream_id)
        if stream is None:
            raise StreamError("There is no such stream in this topic.")
        TopicStream.delete().where(TopicStream.topic == topic, TopicStream.stream == stream).execute()
        remove_unheld([stream.id])
    return stream.name


def remove_unheld(stream_ids) -> int:
    """Remove those of ``stream_ids`` that no topic holds any more, with their data;
    returns how many streams went.

    One statement: the foreign keys to ``stream`` (stories, comments, messages, figures,
    gaps, holds) are ON DELETE CASCADE on both databases (SQLite's ``foreign_keys`` pragma
    is on for every pooled connection), so the database removes the data in the same
    statement, instead of a query per stream and per related table."""
    stream_ids = list(stream_ids)
    if not stream_ids:
        return 0
    held = TopicStream.select(TopicStream.stream).where(TopicStream.stream.in_(stream_ids))
    return Stream.delete().where(Stream.id.in_(stream_ids), Stream.id.not_in(held)).execute()


def requeue_expired(account, stream_id) -> Stream:
    """Queue an expired unauthorized stream again (it needs no person's token)."""
    stream = get_stream(account, stream_id)
    if stream.authorized:
        raise StreamError("An authorized stream is reconnected by linking its profile again.")
    changed = (Stream.update(status="queued", status_message=None, next_crawl_at=None)
               .where(Stream.id == stream.id, Stream.status == "expired").execute())
    if not changed:
        raise StreamError(f"“{stream.name}” has not expired.")
    return stream
