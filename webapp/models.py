"""The application's peewee models. Schema changes go through webapp/migrations."""
from __future__ import annotations

import datetime
import secrets

from flask_login import UserMixin
from peewee import (BigIntegerField, BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField)

from streamdesk_contract.values import Credentials

from .crypto import EncryptedTextField
from .db import IdField, database, on_postgres
from .prepared import Prepared, slot

ROLES = ("admin", "member")
#: A stream's life: queued for its first crawl, crawling, active (up to date), expired
#: (its token no longer works: reconnect), error (the last crawl failed; retried),
#: permission (the provider refused a permission: grant it; retried meanwhile).
STREAM_STATUSES = ("queued", "crawling", "active", "expired", "error", "permission")


def utcnow() -> datetime.datetime:
    """Naive UTC, the one time representation stored in the database."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def naive_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    """A provider's (possibly aware) time as the database keeps it: naive UTC."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


class BaseModel(Model):
    id = IdField()

    class Meta:
        database = database
        # snake_case table names (login_attempt), as the migrations create them.
        legacy_table_names = False


class Account(BaseModel):
    """A team: owns topics; its users are admins or members."""

    name = CharField(max_length=120)
    created_at = DateTimeField(default=utcnow)


class User(UserMixin, BaseModel):
    """A person who logs in; belongs to one account."""

    account = ForeignKeyField(Account, backref="users", on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="member")
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    #: The token of the login this instance was loaded for (see accounts.start_login).
    login_token: str | None = None

    def get_id(self) -> str:
        """Flask-Login's id: the user *and* the login, checked on every request, so
        ending the login ends every cookie that carries it."""
        if not self.login_token:
            raise RuntimeError("log users in with accounts.start_login, which gives the login its token")
        return f"{self.id}:{self.login_token}"


class LoginAttempt(BaseModel):
    """One login attempt, kept for rate limiting."""

    email = CharField(max_length=254, index=True)
    ip = CharField(max_length=64, index=True)
    succeeded = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)


class Heartbeat(BaseModel):
    """The last time a scheduled job ran (shown on the status page)."""

    name = CharField(max_length=64, primary_key=True)
    ran_at = DateTimeField()


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def token_columns(credentials: Credentials | None) -> dict:
    """The columns a token is stored in (on a connected profile or a stream)."""
    c = credentials
    return dict(access_token=c.access_token if c else None, refresh_token=c.refresh_token if c else None,
                expires_at=naive_utc(c.expires_at) if c else None, scopes=",".join(c.scopes) if c else "")


class ConnectedProfile(BaseModel):
    """A user's personal link to a service (OAuth token); private to that user."""

    user = ForeignKeyField(User, backref="connected_profiles", on_delete="CASCADE")
    service = CharField(max_length=32)
    external_id = CharField(max_length=128)
    name = CharField(max_length=255)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(null=True)
    expires_at = DateTimeField(null=True)
    scopes = TextField(default="")
    granted = TextField(default="")
    declined = TextField(default="")
    status = CharField(max_length=16, default="connected")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # The expiry date the owner was warned about, and how many warnings they got for it.
    warned_for = DateTimeField(null=True)
    warnings_sent = IntegerField(default=0)
    # The last call that worked with this profile's token (or a page token it gave).
    last_success_at = DateTimeField(null=True)

    @property
    def credentials(self) -> Credentials | None:
        """The token to call the service with (None when it cannot be read)."""
        if not self.access_token:
            return None
        return Credentials(self.access_token, self.refresh_token, self.expires_at, _split(self.scopes))

    @property
    def granted_list(self) -> tuple[str, ...]:
        return _split(self.granted)

    @property
    def declined_list(self) -> tuple[str, ...]:
        return _split(self.declined)


class Topic(BaseModel):
    """A named group of streams, owned by an account."""

    account = ForeignKeyField(Account, backref="topics", on_delete="CASCADE")
    name = CharField(max_length=80)
    created_at = DateTimeField(default=utcnow)
    # Seconds between crawls of this topic's streams (None: the CRAWL_INTERVAL setting).
    crawl_interval = IntegerField(null=True)


def new_job_key() -> str:
    """A stream's random key: a job names its stream by id *and* key."""
    return secrets.token_hex(16)


class TopicNamesNotLoaded(RuntimeError):
    """``Stream.topic_names`` was read from a stream that did not go through
    :func:`with_topic_names` (a programming error: it would be a query per stream)."""


class StreamGone(Exception):
    """The stream a job works for was removed (or is not the one the job was queued for)."""


class Stream(BaseModel):
    """One page or account an account tracks, authorized or not: the unit that is
    crawled. It is stored once per account, service, page and authorization, however
    many topics hold it (:class:`TopicStream`), so a page is crawled once and its
    stories, comments and messages are stored once and shown in every topic that has it.
    """

    account = ForeignKeyField(Account, backref="streams", on_delete="CASCADE")
    service = CharField(max_length=32)
    page_id = CharField(max_length=128)
    name = CharField(max_length=255)
    handle = CharField(max_length=255, null=True)
    url = TextField(null=True)
    picture_url = TextField(null=True)
    authorized = BooleanField(default=False)
    connected_profile = ForeignKeyField(ConnectedProfile, null=True, backref="streams", on_delete="SET NULL")
    # A page token of its own where the service issues one (Facebook); else the
    # connected profile's token is used.
    access_token = EncryptedTextField(null=True)
    refresh_token = EncryptedTextField(null=True)
    expires_at = DateTimeField(null=True)
    # Scopes travel with the token: Facebook page tokens carry the page's tasks here.
    scopes = TextField(default="")
    status = CharField(max_length=16, default="queued")
    status_message = TextField(null=True)
    # With status "permission": the permission the provider refused, for the Grant link.
    missing_permission = CharField(max_length=64, null=True)
    cursor = TextField(null=True)
    last_crawled_at = DateTimeField(null=True)
    next_crawl_at = DateTimeField(null=True, index=True)
    next_metrics_at = DateTimeField(null=True, index=True)
    created_at = DateTimeField(default=utcnow)
    # When it last expired; cleared by the first crawl after the reconnect, which
    # records what it could not catch up as a StreamGap.
    expired_at = DateTimeField(null=True)
    # Jobs carry it beside the id: a job can only ever write to the stream it was queued
    # for, whatever happens to ids (a restored backup, a reused id).
    job_key = CharField(max_length=32, default=new_job_key)
    # Kept up to date as crawls write stories, so lists show sizes without counting rows.
    story_count = IntegerField(default=0)
    # Provider webhooks for the page (webapp/realtime.py): None, "subscribing", "on",
    # "permission" or "error"; why it is off; when the subscription last succeeded.
    realtime = CharField(max_length=16, null=True)
    realtime_message = TextField(null=True)
    realtime_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("account", "service", "page_id", "authorized"), True),)

    def this(self):
        """The condition that selects this very stream (its id and its job key)."""
        return (Stream.id == self.id) & (Stream.job_key == self.job_key)

    def hold(self) -> None:
        """Inside a transaction, before writing anything of this stream's: raise
        StreamGone when it was removed meanwhile. On PostgreSQL the row is locked until
        the transaction ends, so a removal waits for the write (and then takes it
        along); SQLite's write transactions are serialised already."""
        query = Stream.select(Stream.id).where(self.this())
        if on_postgres():
            query = query.for_update()
        if query.first() is None:
            raise StreamGone(f"stream {self.id} was removed")

    @property
    def topic_names(self) -> list[str]:
        """The names of the topics holding this stream, as :func:`with_topic_names`
        read them for every stream of a list in one query.

        Never read lazily: a lazy read is one query per stream of a list (an N+1 that
        grows with the data), so a stream that was not given its names raises
        :class:`TopicNamesNotLoaded` — not an AttributeError, which a template would
        turn into an empty value silently."""
        try:
            return self._topic_names
        except AttributeError:
            raise TopicNamesNotLoaded(
                f"stream {self.id}: topic_names was not loaded; pass the streams through with_topic_names()"
            ) from None

    @property
    def credentials(self) -> Credentials | None:
        """The token a crawl or interaction of this stream uses (None: public data only)."""
        if self.access_token:
            return Credentials(self.access_token, self.refresh_token, self.expires_at, _split(self.scopes))
        if self.authorized and self.connected_profile is not None:
            return self.connected_profile.credentials
        return None


def stream_for_job(stream_id: int, key: str) -> Stream | None:
    """The stream a job was queued for (its id *and* job key); None when it is gone.
    Every job starts here: its SELECT of every column is built once (webapp/prepared.py)."""
    return _STREAM_FOR_JOB.first(stream_id=stream_id, key=key)


_STREAM_FOR_JOB = Prepared(lambda: Stream.select().where((Stream.id == slot("stream_id")) &
                                                         (Stream.job_key == slot("key"))))


class TopicStream(BaseModel):
    """A topic holds a stream. Removing the last hold removes the stream with its data."""

    topic = ForeignKeyField(Topic, backref="holds", on_delete="CASCADE")
    stream = ForeignKeyField(Stream, backref="holds", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("topic", "stream"), True),)


def with_topic_names(streams):
    """Give each of ``streams`` its :attr:`Stream.topic_names` in one query; returns them."""
    streams = list(streams)
    names: dict[int, list[str]] = {stream.id: [] for stream in streams}
    if names:
        rows = (TopicStream.select(TopicStream.stream, Topic.name).join(Topic)
                .where(TopicStream.stream.in_(list(names))).order_by(Topic.name).tuples())
        for stream_id, name in rows:
            names[stream_id].append(name)
    for stream in streams:
        stream._topic_names = names[stream.id]
    return streams


class Story(BaseModel):
    """One item of a stream's feed."""

    stream = ForeignKeyField(Stream, backref="stories", on_delete="CASCADE")
    external_id = CharField(max_length=128)
    created_at = DateTimeField()
    updated_at = DateTimeField(null=True)
    text = TextField(default="")
    author_id = CharField(max_length=128, null=True)
    author_name = CharField(max_length=255, null=True)
    url = TextField(null=True)
    raw_type = CharField(max_length=64, null=True)
    is_hidden = BooleanField(default=False)
    #: The latest figures of the story, copied at each metrics refresh so top posts are
    #: ranked from one table: views (the service's impressions) and engagements (what
    #: people did with it: reactions/likes + comments/replies + shares/reposts/quotes).
    #: None while the service has given no such figure for it.
    views = BigIntegerField(null=True)
    engagements = BigIntegerField(null=True)


class Comment(BaseModel):
    """A reply under a story; ``parent_external_id`` threads replies to comments."""

    stream = ForeignKeyField(Stream, backref="comments", on_delete="CASCADE")
    external_id = CharField(max_length=128)
    story_external_id = CharField(max_length=128)
    parent_external_id = CharField(max_length=128, null=True)
    created_at = DateTimeField(index=True)  # on SQLite; the Inbox lists newest first (webapp/inbox.py)
    text = TextField(default="")
    author_id = CharField(max_length=128, null=True)
    author_name = CharField(max_length=255, null=True)
    is_hidden = BooleanField(default=False)

    class Meta:
        # the Inbox: newest per stream (migration 0010)
        indexes = ((("stream", "created_at"), False),)


class Message(BaseModel):
    """A private message of an authorized stream."""

    stream = ForeignKeyField(Stream, backref="messages", on_delete="CASCADE")
    external_id = CharField(max_length=128)
    conversation_id = CharField(max_length=128)
    created_at = DateTimeField(index=True)  # on SQLite; the Inbox lists newest first (webapp/inbox.py)
    text = TextField(default="")
    sender_id = CharField(max_length=128, null=True)
    sender_name = CharField(max_length=255, null=True)

    class Meta:
        # the Inbox: newest per stream, and a conversation's participants (migration 0010)
        indexes = ((("stream", "created_at"), False), (("stream", "conversation_id"), False))


class Figure(BaseModel):
    """One metric figure of a stream: ``level`` post (``object_id`` a story) or page.

    ``value`` is None when the service does not provide it (``note`` says so);
    ``provider_metric`` names the provider metric it came from.
    """

    stream = ForeignKeyField(Stream, backref="figures", on_delete="CASCADE")
    level = CharField(max_length=8)
    object_id = CharField(max_length=128)
    name = CharField(max_length=64)
    value = BigIntegerField(null=True)
    provider_metric = CharField(max_length=128, null=True)
    note = TextField(null=True)
    updated_at = DateTimeField(default=utcnow)
    #: The provider API version the figure was read with, and the retired provider metric
    #: ``provider_metric`` succeeds (e.g. page_media_view replaces page_impressions).
    api_version = CharField(max_length=16, null=True)
    replaces = CharField(max_length=128, null=True)


class FigureSnapshot(BaseModel):
    """A figure as a refresh read it, stored only when its value changed since the last
    snapshot of the same figure (migration 0018). Pruned after ``SNAPSHOT_DAYS``."""

    stream = ForeignKeyField(Stream, backref="snapshots", on_delete="CASCADE")
    level = CharField(max_length=8)
    object_id = CharField(max_length=128)
    name = CharField(max_length=64)
    value = BigIntegerField(null=True)
    provider_metric = CharField(max_length=128, null=True)
    api_version = CharField(max_length=16, null=True)
    taken_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("stream", "level", "object_id", "name", "taken_at"), False),)


class FigureDay(BaseModel):
    """The daily roll-up: one row per stream, figure and day — what dashboards read.

    A *flow* (views on that day, posts published that day) holds the day's amount; a
    *stock* (followers) holds the last value read that day. ``value`` None means the
    service does not provide it for that day (``note`` says so), never 0.
    """

    stream = ForeignKeyField(Stream, backref="days", on_delete="CASCADE")
    name = CharField(max_length=64)
    day = DateField()
    value = BigIntegerField(null=True)
    provider_metric = CharField(max_length=128, null=True)
    api_version = CharField(max_length=16, null=True)
    replaces = CharField(max_length=128, null=True)
    note = TextField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("stream", "name", "day"), True),)


class LoginSession(BaseModel):
    """One login of a user in one browser, until it logs out, is ended or expires.

    Its token travels in the session cookie and, with "Keep me logged in", in the
    remember-me cookie; only a hash is stored, so reading the database logs nobody in.
    """

    user = ForeignKeyField(User, backref="login_sessions", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)


class OutboxEmail(BaseModel):
    """One e-mail to one person, kept whether or not it could be delivered: admins read
    them under Account settings → Outbox (in sandbox mode, instead of a mailbox)."""

    account = ForeignKeyField(Account, null=True, backref="emails", on_delete="CASCADE")
    recipient = CharField(max_length=254)
    subject = TextField()
    text = TextField()
    html = TextField(null=True)
    delivered = BooleanField(default=False)
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)


class StreamGap(BaseModel):
    """A period a stream has no data for: it was expired, and the crawl after the
    reconnect could not reach that far back (the provider's window). Shown on the stream
    as "no data from … to …"."""

    stream = ForeignKeyField(Stream, backref="gaps", on_delete="CASCADE")
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    reason = TextField()
    created_at = DateTimeField(default=utcnow)


#: An action's life: queued (waiting for its job), sending (a job claimed it and is
#: calling the provider), sent, failed (the provider refused; it can be retried), or
#: unconfirmed (the provider timed out or failed midway: it may have it; sent again
#: only on a person's "Send anyway").
ACTION_STATUSES = ("queued", "sending", "sent", "failed", "unconfirmed")


class Action(BaseModel):
    """One interaction a person of the account sent (or is sending) as a stream: the
    audit log's row and the guard of exactly-once sending. ``key`` is made when the form
    is rendered and is unique per account; only the job that moves the row from
    queued to sending calls the provider."""

    account = ForeignKeyField(Account, backref="actions", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="actions", on_delete="SET NULL")
    # The audit log outlives a removed stream (then None): its name and service are kept.
    stream = ForeignKeyField(Stream, null=True, backref="actions", on_delete="SET NULL")
    stream_name = CharField(max_length=255, default="")
    service = CharField(max_length=32, default="")
    kind = CharField(max_length=16)
    # The provider id of the story, comment or conversation it is about (None: publish).
    target_id = CharField(max_length=128, null=True)
    # The story whose thread the target belongs to, so what was sent joins that thread.
    story_external_id = CharField(max_length=128, null=True)
    undo = BooleanField(default=False)
    text = TextField(default="")
    key = CharField(max_length=64)
    status = CharField(max_length=16, default="queued")
    # The provider's id of what was created (or acted on).
    external_id = CharField(max_length=128, null=True)
    error = TextField(null=True)
    # What kind of refusal: expired, permission, rate, invalid, gone, provider, unknown.
    error_kind = CharField(max_length=16, null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    claimed_at = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("account", "key"), True), (("account", "created_at"), False))


#: A raw webhook event's life: pending until its job ran, then processed, dropped (no
#: stream holds its page) or failed (the message says why).
WEBHOOK_STATUSES = ("pending", "processed", "dropped", "failed")


class WebhookEvent(BaseModel):
    """One update a provider POSTed to a webhook, as received (kept for replay).

    ``event_key`` is the provider's event id, or a digest of the update where the
    provider sends none: a replayed delivery finds its key taken and stores nothing.
    """

    service = CharField(max_length=32)
    event_key = CharField(max_length=255)
    page_id = CharField(max_length=128, null=True)
    received_at = DateTimeField(default=utcnow, index=True)
    body = TextField()
    status = CharField(max_length=16, default="pending")
    message = TextField(null=True)

    class Meta:
        indexes = ((("service", "event_key"), True), (("service", "page_id", "received_at"), False))


#: A conversation's kinds: a private-message thread, or a story's comments by others.
CONVERSATION_KINDS = ("message", "comments")


class Conversation(BaseModel):
    """Something the team should answer (migration 0016): a private-message thread
    (``external_id`` the provider's conversation id) or the comments by others under a
    story (``external_id`` the story's provider id). The crawl creates and reopens it
    (webapp/conversations.py); a teammate's sent reply marks it answered."""

    account = ForeignKeyField(Account, backref="conversations", on_delete="CASCADE")
    stream = ForeignKeyField(Stream, backref="conversations", on_delete="CASCADE")
    kind = CharField(max_length=16)
    external_id = CharField(max_length=128)
    status = CharField(max_length=8, default="open")
    assignee = ForeignKeyField(User, null=True, backref="assigned", on_delete="SET NULL")
    # The newest incoming message or comment (the page's own do not count).
    last_activity_at = DateTimeField()
    # When that news reached Streamdesk (our clock, not the provider's): read markers are
    # compared with it, so a message crawled late still counts as unread.
    news_at = DateTimeField(default=utcnow)
    preview = TextField(default="")
    who = CharField(max_length=255, default="")
    answered_by = ForeignKeyField(User, null=True, backref="answered", on_delete="SET NULL")
    answered_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("stream", "kind", "external_id"), True), (("account", "last_activity_at"), False))


class ConversationRead(BaseModel):
    """Until when a user has read a conversation: unread while its last activity is later."""

    user = ForeignKeyField(User, backref="reads", on_delete="CASCADE")
    conversation = ForeignKeyField(Conversation, backref="reads", on_delete="CASCADE")
    read_at = DateTimeField()

    class Meta:
        indexes = ((("user", "conversation"), True),)


class SavedReply(BaseModel):
    """A reply text an admin keeps for the team to insert into the reply box."""

    account = ForeignKeyField(Account, backref="saved_replies", on_delete="CASCADE")
    title = CharField(max_length=80)
    text = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "title"), False),)


class ReportSchedule(BaseModel):
    """A weekly e-mail of a topic's dashboard to chosen people, sent on ``weekday``
    (0 Monday … 6 Sunday) at ``hour`` UTC. ``recipients`` holds one a line: ``user:<id>``
    for a person of the account (their address when it is sent, and nobody once they
    leave the account), or an e-mail address."""

    account = ForeignKeyField(Account, backref="report_schedules", on_delete="CASCADE")
    topic = ForeignKeyField(Topic, backref="report_schedules", on_delete="CASCADE")
    recipients = TextField(default="")
    weekday = IntegerField()
    hour = IntegerField()
    created_by = ForeignKeyField(User, null=True, backref="report_schedules", on_delete="SET NULL")
    enabled = BooleanField(default=True)
    last_sent_at = DateTimeField(null=True)
    #: When it is due next; the cron pass claims it by moving this (see reports.enqueue_due_reports).
    next_send_at = DateTimeField(null=True, index=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "topic"), False),)

    @property
    def user_ids(self) -> list[int]:
        """The people of the account it goes to."""
        return [int(line[5:]) for line in self.recipients.splitlines() if line.startswith("user:")]

    @property
    def addresses(self) -> list[str]:
        """The other e-mail addresses it goes to."""
        return [line for line in self.recipients.splitlines() if line and not line.startswith("user:")]
