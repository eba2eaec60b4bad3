"""The team inbox's conversations: made and reopened by the crawl, answered by a sent
action, assigned, closed and read by people.

A conversation is a private-message thread, or the comments by others under a story
(comments by the page itself are answers, not something to answer). The crawl upserts
one row per conversation a page of rows touches, in one statement: a newer incoming
message or comment reopens a closed conversation; the same rows crawled again change
nothing (their time is not newer), so a re-crawl never reopens what the team closed.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import EXCLUDED, JOIN, Case, fn

from .formvalues import int_or_none
from .models import (Action, Comment, Conversation, ConversationRead, Message, Story, Stream, Topic, TopicStream,
                     User, naive_utc, utcnow)
from .prepared import Prepared, slot

#: How many conversations the Inbox lists.
PAGE_SIZE = 50
#: What a conversation's preview keeps of the newest text.
PREVIEW = 280


def track(stream: Stream, page) -> None:
    """Create or reopen the conversations that crawl page ``page`` of ``stream`` brings
    news to: one statement for the whole page. Call it inside the crawl's transaction.
    Only authorized streams have conversations: nothing can be answered as someone
    else's public page, so its comments would only bury the team's own."""
    if not stream.authorized:
        return
    newest: dict[tuple[str, str], dict] = {}
    now = utcnow()

    def note(kind: str, external_id: str, at, text: str, who: str | None) -> None:
        at = naive_utc(at)
        key = (kind, external_id)
        if key not in newest or at > newest[key]["last_activity_at"]:
            newest[key] = dict(account=stream.account_id, stream=stream.id, kind=kind, external_id=external_id,
                               status="open", last_activity_at=at, preview=(text or "")[:PREVIEW],
                               who=(who or "Someone")[:255], news_at=now, created_at=now)

    for m in page.messages:
        if m.sender_id != stream.page_id:
            note("message", m.conversation_id, m.created_at, m.text, m.sender_name)
    for c in page.comments:
        if c.author_id != stream.page_id:
            note("comments", c.story_id, c.created_at, c.text, c.author_name)
    if not newest:
        return
    newer = EXCLUDED.last_activity_at > Conversation.last_activity_at

    def when_newer(column):
        return Case(None, [(newer, getattr(EXCLUDED, column.column_name))], column)

    (Conversation.insert_many(list(newest.values()))
     .on_conflict(conflict_target=[Conversation.stream, Conversation.kind, Conversation.external_id],
                  update={Conversation.status: Case(None, [(newer, "open")], Conversation.status),
                          Conversation.preview: when_newer(Conversation.preview),
                          Conversation.who: when_newer(Conversation.who),
                          Conversation.news_at: when_newer(Conversation.news_at),
                          Conversation.last_activity_at: when_newer(Conversation.last_activity_at)})
     .execute())


def of_action(action: Action) -> Conversation | None:
    """The conversation a sent reply, comment or message answers (None: none)."""
    if action.stream_id is None:
        return None
    if action.kind == "message":
        kind, external_id = "message", action.target_id
    elif action.kind in ("comment", "reply"):
        kind, external_id = "comments", action.story_external_id
    else:
        return None
    return Conversation.get_or_none((Conversation.stream == action.stream_id) & (Conversation.kind == kind) &
                                    (Conversation.external_id == external_id))


def answered(action: Action) -> None:
    """Record that ``action`` (sent) answered its conversation, by its sender, now."""
    conversation = of_action(action)
    if conversation is None or action.user_id is None:
        return
    now = utcnow()
    Conversation.update(answered_by=action.user_id, answered_at=now).where(
        Conversation.id == conversation.id).execute()
    mark_read(action.user_id, conversation)


@dataclass(frozen=True)
class Filters:
    """The Inbox's filters, as the URL carries them."""

    who: str = ""          # "mine", "unassigned" or "" (everyone's)
    status: str = "open"   # "open", "closed" or "all"
    service: str = ""
    topic: int | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read the filters from the query string; anything unknown is ignored."""
        who = args.get("who", "")
        status = args.get("status", "open")
        return cls(who=who if who in ("mine", "unassigned") else "",
                   status=status if status in ("open", "closed", "all") else "open",
                   service=args.get("service", "")[:32],
                   topic=int_or_none(args.get("topic")))

    def args(self, **changes) -> dict:
        """These filters as URL arguments (with ``changes``), leaving out the defaults."""
        values = {**dict(who=self.who, status=self.status, service=self.service, topic=self.topic), **changes}
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "status" and v == "open")}


def listed(user: User, filters: Filters, limit: int = PAGE_SIZE) -> list[Conversation]:
    """The account's conversations matching ``filters``, newest activity first, each with
    its stream, assignee, answerer and ``unread`` for ``user``: one query, its SQL built
    once per combination of filters (webapp/prepared.py)."""
    shape = (filters.who, filters.status != "all", bool(filters.service), filters.topic is not None)
    prepared = _LISTED.get(shape)
    if prepared is None:
        prepared = _LISTED.setdefault(shape, Prepared(lambda: _listed_query(*shape)))
    rows = list(prepared.rows(user_id=user.id, account_id=user.account_id, status=filters.status,
                              service=filters.service, topic=filters.topic, limit=limit))
    for row in rows:
        row.unread = _unread(row, row.read.read_at if getattr(row, "read", None) else None)
    return rows


#: The prepared query of each combination of filters (who, status, service, topic).
_LISTED: dict[tuple, Prepared] = {}


def _listed_query(who: str, by_status: bool, by_service: bool, by_topic: bool):
    assignee, answerer = User.alias(), User.alias()
    read = ConversationRead.alias()
    query = (Conversation.select(Conversation, Stream.id, Stream.name, Stream.service, Stream.page_id,
                                 assignee.id, assignee.email, answerer.id, answerer.email, read.read_at)
             .join(Stream, on=(Conversation.stream == Stream.id))
             .switch(Conversation).join(assignee, JOIN.LEFT_OUTER, on=(Conversation.assignee == assignee.id),
                                        attr="assignee")
             .switch(Conversation).join(answerer, JOIN.LEFT_OUTER, on=(Conversation.answered_by == answerer.id),
                                        attr="answered_by")
             .switch(Conversation).join(read, JOIN.LEFT_OUTER, on=((read.conversation == Conversation.id) &
                                                                   (read.user == slot("user_id"))), attr="read")
             .where(Conversation.account == slot("account_id")))
    if who == "mine":
        query = query.where(Conversation.assignee == slot("user_id"))
    elif who == "unassigned":
        query = query.where(Conversation.assignee.is_null())
    if by_status:
        query = query.where(Conversation.status == slot("status"))
    if by_service:
        query = query.where(Stream.service == slot("service"))
    if by_topic:
        query = query.where(Conversation.stream.in_(
            TopicStream.select(TopicStream.stream).join(Topic)
            .where((Topic.id == slot("topic")) & (Topic.account == slot("account_id")))))
    return query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(slot("limit"))


def _unread(conversation: Conversation, read_at) -> bool:
    return read_at is None or read_at < conversation.news_at


def unread_count(user: User) -> int:
    """How many open conversations of the account ``user`` has not read since their
    last activity: one query."""
    return _UNREAD.scalar(user_id=user.id, account_id=user.account_id) or 0


def _unread_query():
    read = ConversationRead.alias()
    return (Conversation.select(fn.COUNT(Conversation.id))
            .join(read, JOIN.LEFT_OUTER, on=((read.conversation == Conversation.id) & (read.user == slot("user_id"))))
            .where((Conversation.account == slot("account_id")) & (Conversation.status == "open") &
                   (read.read_at.is_null() | (read.read_at < Conversation.news_at))))


#: Every Inbox shows it: its SQL is built once.
_UNREAD = Prepared(_unread_query)


def get(user: User, conversation_id: int) -> Conversation | None:
    """One conversation of ``user``'s account (None for another account's), with its stream."""
    return (Conversation.select(Conversation, Stream).join(Stream)
            .where((Conversation.id == conversation_id) & (Conversation.account == user.account_id)).first())


def thread(conversation: Conversation) -> tuple[Story | None, list]:
    """What the conversation holds: its messages, or its story and the story's comments,
    oldest first."""
    if conversation.kind == "message":
        return None, list(Message.select().where((Message.stream == conversation.stream_id) & (
            Message.conversation_id == conversation.external_id)).order_by(Message.created_at, Message.id))
    story = Story.get_or_none((Story.stream == conversation.stream_id) &
                              (Story.external_id == conversation.external_id))
    return story, list(Comment.select().where((Comment.stream == conversation.stream_id) & (
        Comment.story_external_id == conversation.external_id)).order_by(Comment.created_at, Comment.id))


def mark_read(user_id: int, conversation: Conversation) -> None:
    """``user_id`` has read ``conversation`` up to now."""
    now = utcnow()
    (ConversationRead.insert(user=user_id, conversation=conversation.id, read_at=now)
     .on_conflict(conflict_target=[ConversationRead.user, ConversationRead.conversation],
                  update={ConversationRead.read_at: now}).execute())


class InboxError(ValueError):
    """A change to a conversation that cannot be made (shown to the person)."""


def assign(user: User, conversation: Conversation, assignee_id: int | None) -> None:
    """Assign ``conversation`` to ``assignee_id`` (a user of the same account) or to nobody."""
    if assignee_id is not None and not User.select().where(
            (User.id == assignee_id) & (User.account == user.account_id)).exists():
        raise InboxError("Choose a teammate of this account.")
    Conversation.update(assignee=assignee_id).where(Conversation.id == conversation.id).execute()
    conversation.assignee_id = assignee_id


def set_status(conversation: Conversation, status: str) -> None:
    """Close or reopen ``conversation``."""
    if status not in ("open", "closed"):
        raise InboxError("A conversation is open or closed.")
    Conversation.update(status=status).where(Conversation.id == conversation.id).execute()
    conversation.status = status


def teammates(user: User) -> list[User]:
    """The users of ``user``'s account, to assign conversations to."""
    return list(User.select(User.id, User.email).where(User.account == user.account_id)
                .order_by(User.email))
