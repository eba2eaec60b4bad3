"""Crawling an X account, lazily, one API page per :class:`CrawlPage`.

**Authorized streams** (the connected account):

* first crawl — or after a pause longer than recent search reaches — a *backfill*:
  the account's timeline (``/2/users/:id/tweets``, up to X's 3,200) and its mentions
  (``/2/users/:id/mentions``, up to 800), newer than the cursor's ``since`` id;
* afterwards, *live* passes: one recent-search query, ``from:<id> OR @<username>``,
  which returns the account's new tweets and everything mentioning it (replies
  included) in one call — so an idle re-crawl costs two calls: that search and
  ``/2/dm_events``;
* direct messages (``/2/dm_events``, newest first, no ``since_id`` on X): pages are read
  until one reaches a message already stored.

**Unauthorized streams** (public accounts): only the 100 most recent tweets can be
tracked, so every crawl is a single timeline call (``max_results=100``, replies excluded)
for tweets newer than the cursor.

Replies to *old* posts: X has no ``updated_time`` to watch, but needs none — a reply is
itself a new tweet that mentions the account, so the live search (or the mentions
timeline) returns it on the next crawl, however old the post it answers: bounded by the
crawl interval, at one search call per crawl. Replies under a public account's posts
would need one ``conversation_id:`` search per post, reaching back 7 days only, so
unauthorized streams keep to their 100 most recent tweets, replies excluded.

Some X access levels lack recent search: X answers 403 ``client-forbidden``
(``client-not-enrolled``), or ``unsupported-authentication``. That is the app's limit,
which reconnecting cannot lift, so live passes fall back to the timeline and mentions
calls (an idle re-crawl then costs three calls) and the cursor remembers it
(``nosearch``) for a week before recent search is tried again.

The cursor is JSON. While a pass runs it also records the stage, the pagination token
and the newest id seen, so a crawl stopped after any page resumes there without losing
or repeating anything; ``since`` only moves when a pass completes. A pass in progress
that X can no longer continue — started more than six days ago (its search position has
left the seven days recent search reaches), or whose stored pagination token X now
refuses with a 400 — is restarted as a backfill from ``since``. A cursor that cannot be
read (not JSON, not an object, ids that are not numbers, an unknown stage) counts as no
cursor: a fresh backfill, which storage makes harmless.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

from streamdesk_contract.errors import PermissionMissing, TokenExpired
from streamdesk_contract.values import (
    Comment,
    CrawlPage,
    Credentials,
    ServiceConfig,
    Story,
    StreamRef,
)

from .client import APP_LEVEL, BadRequest, XClient, lookup_failed
from .convert import dm_to_message, snowflake_at, tweets_to_rows, users_by_id

PAGE_SIZE = 100
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "name,username"
DM_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids"
#: Recent search reaches back seven days; live passes need the last one within six.
LIVE_WINDOW = 6 * 86400
#: Seconds re-read at the seam between passes: X's search index lags a little.
SEARCH_OVERLAP = 30
BACKFILL, LIVE = ("tweets", "mentions", "dm"), ("search", "dm")
STAGES = {"backfill": BACKFILL, "live": LIVE}
#: After X refused recent search to the app, live passes wait this long to try it again.
SEARCH_RETRY = 7 * 86400
SNOWFLAKE = re.compile(r"[0-9]{1,19}")
USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
#: X's pagination tokens are opaque: any printable ASCII up to this length is kept.
MAX_TOKEN = 1024


def _is_id(value) -> bool:
    return isinstance(value, str) and SNOWFLAKE.fullmatch(value) is not None


def _username(value) -> str | None:
    """``value`` if it can be an X handle (it goes into the search query), else None."""
    return value if isinstance(value, str) and USERNAME.fullmatch(value) else None


def _is_token(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN and value.isascii() and value.isprintable()


def _is_time(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Cursor:
    """What the crawl remembers between runs (serialised as compact JSON)."""

    since: str | None = None  # newest tweet id stored (own tweets and mentions)
    dm: str | None = None  # newest DM event id stored
    at: float | None = None  # when the last complete pass started
    username: str | None = None
    # The pass in progress, if any:
    mode: str | None = None  # "live" or "backfill"
    stage: str | None = None
    next: str | None = None  # X's pagination token within the stage
    since_id: str | None = None  # the since_id this pass asks for
    top: str | None = None  # newest tweet id seen by this pass
    dm_top: str | None = None
    started: float | None = None
    nosearch: float | None = None  # when X last refused recent search to the app

    @classmethod
    def loads(cls, raw: str | None) -> Cursor:
        """The cursor stored by the core; an empty one for the first crawl, and for any
        cursor that cannot be read (start over: storage is idempotent)."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        cursor = cls(**{k: v for k, v in data.items() if k in known})
        return cursor if cursor.readable() else cls()

    def readable(self) -> bool:
        """Whether every field has the type and form this module writes."""
        ids = (self.since, self.dm, self.since_id, self.top, self.dm_top)
        times = (self.at, self.started, self.nosearch)
        if not all(i is None or _is_id(i) for i in ids) or not all(t is None or _is_time(t) for t in times):
            return False
        if self.username is not None and not (isinstance(self.username, str) and USERNAME.fullmatch(self.username)):
            return False
        if self.next is not None and not _is_token(self.next):
            return False
        if self.mode is None:  # between passes
            return self.stage is None and self.next is None
        return self.mode in STAGES and self.stage in STAGES[self.mode]

    def dumps(self) -> str:
        """The cursor as the core stores it."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))


def newest(*ids: str | None) -> str | None:
    """The largest of some snowflake ids (None if none)."""
    present = [int(i) for i in ids if i]
    return str(max(present)) if present else None


def _tweet_params(since_id: str | None, token: str | None, **extra) -> dict:
    params = {"max_results": PAGE_SIZE, "tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS,
              "user.fields": USER_FIELDS, **extra}
    if since_id:
        params["since_id"] = since_id
    if token:
        params["pagination_token"] = token
    return params


def crawl(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
          cursor: str | None) -> Iterator[CrawlPage]:
    """The crawl of ``stream`` from ``cursor``, as a generator of pages."""
    if stream.authorized and credentials is None:
        # Never fall back to the app's token: that would crawl the account as a stranger.
        raise TokenExpired("This X stream is authorized but has no token: reconnect the X profile to go on "
                           "crawling it.")
    client = XClient.for_credentials(config, credentials)
    state = Cursor.loads(cursor)
    if not stream.authorized:
        return _public(client, stream, state)
    return _authorized(client, stream, credentials, state)


def _public(client: XClient, stream: StreamRef, state: Cursor) -> Iterator[CrawlPage]:
    # One call, never paginated: X only lets us track the 100 most recent tweets here.
    body = client.get(f"/2/users/{stream.page_id}/tweets", "GET /2/users/:id/tweets",
                      _tweet_params(state.since, None, exclude="replies"))
    if "data" not in body and body.get("errors"):
        raise lookup_failed(body, f"The X account {stream.handle or stream.page_id}")
    stories, comments = tweets_to_rows(body, stream.page_id, stream.handle)
    state.since = newest(state.since, (body.get("meta") or {}).get("newest_id"))
    state.at = time.time()
    yield CrawlPage(cursor=state.dumps(), stories=tuple(stories), comments=tuple(comments))


def _start_pass(state: Cursor, stream: StreamRef, now: float, backfill: bool = False) -> None:
    searchable = state.nosearch is None or now - state.nosearch >= SEARCH_RETRY
    live = (not backfill and searchable and state.at is not None and now - state.at < LIVE_WINDOW
            and bool(state.username or stream.handle))
    state.mode = "live" if live else "backfill"
    state.stage = (LIVE if live else BACKFILL)[0]
    state.started, state.next, state.top, state.dm_top = now, None, None, None
    if live:
        seam = snowflake_at(state.at - SEARCH_OVERLAP)
        wanted = min(int(state.since), seam) if state.since else seam
        state.since_id = str(max(wanted, snowflake_at(now - LIVE_WINDOW)))
    else:
        state.since_id = state.since


def _authorized(client: XClient, stream: StreamRef, credentials: Credentials | None,
                state: Cursor) -> Iterator[CrawlPage]:
    now = time.time()
    if state.stage is not None and (state.started is None or now - state.started > LIVE_WINDOW):
        # Stopped too long ago: its search since_id and token are beyond X's seven days.
        _start_pass(state, stream, now, backfill=True)
    if state.stage is None:
        _start_pass(state, stream, now)
    # DMs need the person's dm.read; unknown scopes (older credentials) are simply tried.
    reads_dms = credentials is not None and (not credentials.scopes or "dm.read" in credentials.scopes)
    resumed = state.next is not None  # the first call continues a pass stored by an earlier run
    while True:
        stories: list[Story] = []
        comments: list[Comment] = []
        messages = ()
        token = None
        try:
            if state.stage == "dm":
                if reads_dms:
                    messages, token = _dm_page(client, state)
            else:
                stories, comments, token = _tweet_page(client, stream, state)
        except BadRequest:
            if not resumed:
                raise
            # X refuses the stored position (e.g. a search token past its seven days).
            resumed = False
            _start_pass(state, stream, now, backfill=True)
            continue
        except PermissionMissing as exc:
            if state.stage != "search" or exc.permission not in APP_LEVEL:
                raise
            # The app's access level lacks recent search: timelines and mentions instead.
            state.nosearch = now
            _start_pass(state, stream, now, backfill=True)
            continue
        resumed = False
        state.next = token
        if token is None:
            _advance(state, STAGES[state.mode], client, stream)
        yield CrawlPage(cursor=state.dumps(), stories=tuple(stories), comments=tuple(comments),
                        messages=tuple(messages))
        if state.stage is None:
            return


def _advance(state: Cursor, stages: tuple[str, ...], client: XClient, stream: StreamRef) -> None:
    index = stages.index(state.stage)
    if index + 1 < len(stages):
        state.stage = stages[index + 1]
        return
    # The pass is complete: only now do the stored high-water marks move.
    state.since = newest(state.since, state.top)
    state.dm = newest(state.dm, state.dm_top)
    state.at = state.started
    state.mode = state.stage = state.next = state.since_id = state.top = state.dm_top = state.started = None
    if not (state.username or stream.handle):
        body = client.get(f"/2/users/{stream.page_id}", "GET /2/users/:id")
        state.username = _username((body.get("data") or {}).get("username"))


def _tweet_page(client: XClient, stream: StreamRef, state: Cursor) -> tuple[list, list, str | None]:
    owner = stream.page_id
    if state.stage == "search":
        username = state.username or stream.handle
        params = _tweet_params(state.since_id, None, query=f"from:{owner} OR @{username}")
        if state.next:
            params["next_token"] = state.next
        body = client.get("/2/tweets/search/recent", "GET /2/tweets/search/recent", params, scope="tweet.read")
        state.nosearch = None  # X serves recent search (again)
    else:
        kind = state.stage  # "tweets" or "mentions"
        body = client.get(f"/2/users/{owner}/{kind}", f"GET /2/users/:id/{kind}",
                          _tweet_params(state.since_id, state.next), scope="tweet.read")
    if "data" not in body and body.get("errors") and not body.get("meta"):
        raise lookup_failed(body, f"The X account {stream.handle or owner}")
    for user in users_by_id(body).values():
        if user["id"] == owner:
            state.username = _username(user["username"]) or state.username
    stories, comments = tweets_to_rows(body, owner, state.username or stream.handle)
    state.top = newest(state.top, *(t["id"] for t in body.get("data") or []))
    return stories, comments, (body.get("meta") or {}).get("next_token")


def _dm_page(client: XClient, state: Cursor) -> tuple[list, str | None]:
    params = {"max_results": PAGE_SIZE, "event_types": "MessageCreate", "dm_event.fields": DM_FIELDS,
              "expansions": "sender_id", "user.fields": USER_FIELDS}
    if state.next:
        params["pagination_token"] = state.next
    body = client.get("/2/dm_events", "GET /2/dm_events", params, scope="dm.read")
    users = users_by_id(body)
    known = int(state.dm) if state.dm else 0
    events = body.get("data") or []
    fresh = [e for e in events if int(e["id"]) > known]
    state.dm_top = newest(state.dm_top, *(e["id"] for e in fresh))
    # Newest first: once a page reaches a stored message, everything after it is stored too.
    reached_known = len(fresh) < len(events)
    token = None if reached_known else (body.get("meta") or {}).get("next_token")
    return [dm_to_message(e, users) for e in fresh], token
