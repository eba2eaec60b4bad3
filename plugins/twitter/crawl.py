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

The cursor is JSON. While a pass runs it also records the stage, the pagination token
and the newest id seen, so a crawl stopped after any page resumes there without losing
or repeating anything; ``since`` only moves when a pass completes.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

from webapp.values import (
    Comment,
    CrawlPage,
    Credentials,
    ServiceConfig,
    Story,
    StreamRef,
)

from .client import XClient, lookup_failed
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

    @classmethod
    def loads(cls, raw: str | None) -> Cursor:
        """The cursor stored by the core (an empty one for the first crawl)."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            return cls()  # an unreadable cursor: start over, storage is idempotent
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

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


def _start_pass(state: Cursor, stream: StreamRef, now: float) -> None:
    live = state.at is not None and now - state.at < LIVE_WINDOW and bool(state.username or stream.handle)
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
    if state.stage is None:
        _start_pass(state, stream, time.time())
    stages = LIVE if state.mode == "live" else BACKFILL
    # DMs need the person's dm.read; unknown scopes (older credentials) are simply tried.
    reads_dms = credentials is not None and (not credentials.scopes or "dm.read" in credentials.scopes)
    while True:
        stories: list[Story] = []
        comments: list[Comment] = []
        messages = ()
        token = None
        if state.stage == "dm":
            if reads_dms:
                messages, token = _dm_page(client, state)
        else:
            stories, comments, token = _tweet_page(client, stream, state)
        state.next = token
        if token is None:
            _advance(state, stages, client, stream)
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
        state.username = (body.get("data") or {}).get("username")


def _tweet_page(client: XClient, stream: StreamRef, state: Cursor) -> tuple[list, list, str | None]:
    owner = stream.page_id
    if state.stage == "search":
        username = state.username or stream.handle
        params = _tweet_params(state.since_id, None, query=f"from:{owner} OR @{username}")
        if state.next:
            params["next_token"] = state.next
        body = client.get("/2/tweets/search/recent", "GET /2/tweets/search/recent", params, scope="tweet.read")
    else:
        kind = state.stage  # "tweets" or "mentions"
        body = client.get(f"/2/users/{owner}/{kind}", f"GET /2/users/:id/{kind}",
                          _tweet_params(state.since_id, state.next), scope="tweet.read")
    if "data" not in body and body.get("errors") and not body.get("meta"):
        raise lookup_failed(body, f"The X account {stream.handle or owner}")
    for user in users_by_id(body).values():
        if user["id"] == owner:
            state.username = user["username"]
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
