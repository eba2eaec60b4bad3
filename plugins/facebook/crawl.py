"""Crawling a Facebook stream: stories of the page's feed with their comments and
replies, and (authorized streams) the page's private messages.

Cost model (what keeps an idle re-crawl at one or two calls):

* One ``/feed`` call (100 stories, each with its newest 25 comments nested) shows the
  100 most recent stories with their ``updated_time``, which Facebook moves on every
  new comment or edit. Stories past the watermark are emitted with the comments newer
  than it; only a story with more new comments than fit in the nested page costs extra
  calls. Unauthorized streams stop there: Facebook lets us track only updates to a
  public page's 100 most recent posts.
* Authorized streams read older feed pages (time paging) while they hold stories newer
  than the watermark: the whole history on the first crawl, a gap on later ones.
* One ``/conversations`` call (sorted by last activity) shows whether any message came
  in; conversations are read down to the messages watermark.

Only stories are tracked, never the objects they point to (photos, videos, links).
Rows are yielded page by page with the cursor that covers them; when a page needs
follow-up calls, its rows go out with the *previous* cursor and the new cursor comes
once everything it covers has been yielded, so a crawl killed at any point resumes
without losing anything.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from webapp.errors import TokenExpired
from webapp.values import CrawlPage, Credentials, ServiceConfig, StreamRef

from . import convert
from .client import GraphClient
from .convert import unix
from .cursor import CrawlCursor, Gap, advance, is_new

FEED_LIMIT = 100
NESTED_COMMENTS = 25
MORE_LIMIT = 100
CONVERSATIONS_LIMIT = 25
NESTED_MESSAGES = 50
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id}"
STORY_FIELDS = "id,message,story,created_time,updated_time,permalink_url,status_type,from{id,name}"
CONVERSATION_FIELDS = f"id,updated_time,messages.limit({NESTED_MESSAGES}){{id,created_time,from,message}}"
NEEDS_FEED = ("pages_read_engagement", "pages_read_user_content")
NEEDS_MESSAGES = ("pages_messaging", "pages_manage_metadata", "pages_read_engagement")


def story_fields(authorized: bool) -> str:
    """The feed's ``fields``: hidden flags are visible only to the page's own token."""
    hidden = ",is_hidden" if authorized else ""
    return (f"{STORY_FIELDS}{hidden},comments.filter(stream).order(reverse_chronological)"
            f".limit({NESTED_COMMENTS}).summary(true){{{COMMENT_FIELDS}{hidden}}}")


def _gap_from(link: str, floor: int | None) -> Gap:
    query = parse_qs(urlsplit(link).query)
    token = query.get("__paging_token", [None])[0]
    return Gap(until=int(query["until"][0]), token=token, floor=floor)


def _updated(story: dict) -> int:
    return unix(story.get("updated_time") or story["created_time"])


class Crawl:
    """One crawl of one stream; :meth:`pages` yields its CrawlPages lazily."""

    def __init__(self, config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
                 cursor: str | None):
        if stream.authorized and (credentials is None or not credentials.access_token):
            raise TokenExpired("This Facebook stream has no page token: reconnect it.")
        self.page_id = stream.page_id
        self.authorized = stream.authorized
        token = credentials.access_token if (credentials and stream.authorized) else None
        # Page tokens use the page's quota; app-token reads of public pages use the app's.
        self.client = GraphClient(config, token, bucket=self.page_id if stream.authorized else "app")
        self.fields = story_fields(stream.authorized)
        self.state = CrawlCursor.load(cursor)

    def pages(self) -> Iterator[CrawlPage]:
        """The crawl's CrawlPages: pending older pages, the newest page, then messages."""
        if self.state.gap:
            yield from self._scan_gap()  # finish what an interrupted crawl left
        yield from self._head()
        if self.state.gap:
            yield from self._scan_gap()
        if self.authorized:
            yield from self._messages()

    # --- stories ------------------------------------------------------------------------
    def _feed(self, extra: dict) -> dict:
        return self.client.get(f"/{self.page_id}/feed", {"fields": self.fields, "limit": FEED_LIMIT, **extra},
                               needs=NEEDS_FEED)

    def _head(self) -> Iterator[CrawlPage]:
        before = self.state
        body = self._feed({})
        data = body.get("data") or []
        fresh = [s for s in data if is_new(_updated(s), s["id"], before.stories_at, before.stories_ids)]
        at, ids = advance(before.stories_at, before.stories_ids, [(_updated(s), s["id"]) for s in data])
        link = (body.get("paging") or {}).get("next")
        floor = before.stories_at
        gap = None
        if self.authorized and link and data and (floor is None or unix(data[-1]["created_time"]) >= floor):
            gap = _gap_from(link, floor)  # more new stories than one page holds
        after = before.with_(stories_at=at, stories_ids=ids, gap=gap)
        yield from self._emit(fresh, floor, before, after)
        self.state = after

    def _scan_gap(self) -> Iterator[CrawlPage]:
        while self.state.gap:
            before, gap = self.state, self.state.gap
            extra = {"until": gap.until, **({"__paging_token": gap.token} if gap.token else {})}
            body = self._feed(extra)
            data = body.get("data") or []
            keep = [s for s in data if gap.floor is None or unix(s["created_time"]) >= gap.floor]
            link = (body.get("paging") or {}).get("next")
            more = bool(link and data and len(keep) == len(data))
            after = before.with_(gap=_gap_from(link, gap.floor) if more else None)
            yield from self._emit(keep, gap.floor, before, after)
            self.state = after

    def _emit(self, stories: list[dict], floor: int | None, before: CrawlCursor,
              after: CrawlCursor) -> Iterator[CrawlPage]:
        comments, overflow = [], []
        for story in stories:
            block = story.get("comments") or {}
            data = block.get("data") or []
            keep = [c for c in data if floor is None or unix(c["created_time"]) >= floor]
            comments.extend(convert.comment(c, story["id"]) for c in keep)
            link = (block.get("paging") or {}).get("next")
            if link and data and len(keep) == len(data):
                overflow.append((story["id"], link))
        rows = tuple(convert.story(s) for s in stories)
        if not overflow:
            if rows or comments or after != before:
                yield CrawlPage(cursor=after.dump(), stories=rows, comments=tuple(comments))
            return
        yield CrawlPage(cursor=before.dump(), stories=rows, comments=tuple(comments))
        for story_id, link in overflow:
            yield from self._more_comments(story_id, link, floor, before)
        yield CrawlPage(cursor=after.dump())

    def _more_comments(self, story_id: str, link: str | None, floor: int | None,
                       before: CrawlCursor) -> Iterator[CrawlPage]:
        while link:
            body = self.client.follow(link, {"limit": MORE_LIMIT}, needs=NEEDS_FEED)
            data = body.get("data") or []
            keep = [c for c in data if floor is None or unix(c["created_time"]) >= floor]
            if keep:
                yield CrawlPage(cursor=before.dump(), comments=tuple(convert.comment(c, story_id) for c in keep))
            link = (body.get("paging") or {}).get("next") if data and len(keep) == len(data) else None

    # --- messages ------------------------------------------------------------------------
    def _messages(self) -> Iterator[CrawlPage]:
        before = self.state
        mark_at, mark_ids = before.messages_at, before.messages_ids
        seen: list[tuple[int, str]] = []
        body = self.client.get(f"/{self.page_id}/conversations",
                               {"platform": "messenger", "fields": CONVERSATION_FIELDS, "limit": CONVERSATIONS_LIMIT},
                               needs=NEEDS_MESSAGES)
        while True:
            stop = False
            for convo in body.get("data") or []:
                if mark_at is not None and unix(convo["updated_time"]) < mark_at:
                    stop = True  # sorted by last activity: the rest is known
                    break
                for batch in self._conversation(convo, mark_at, mark_ids):
                    seen.extend((unix(m["created_time"]), m["id"]) for m in batch)
                    # Intermediate pages keep the old watermark: a killed crawl rereads them.
                    yield CrawlPage(cursor=before.dump(),
                                    messages=tuple(convert.message(m, convo["id"]) for m in batch))
            link = (body.get("paging") or {}).get("next")
            if stop or not link:
                break
            body = self.client.follow(link, needs=NEEDS_MESSAGES)
        at, ids = advance(mark_at, mark_ids, seen)
        after = before.with_(messages_at=at, messages_ids=ids)
        if after != before:
            yield CrawlPage(cursor=after.dump())
        self.state = after

    def _conversation(self, convo: dict, mark_at: int | None, mark_ids: tuple[str, ...]) -> Iterator[list[dict]]:
        """The conversation's new messages, newest first, one Graph page at a time."""
        block = convo.get("messages") or {}
        while True:
            data = block.get("data") or []
            fresh = []
            for message in data:
                if not is_new(unix(message["created_time"]), message["id"], mark_at, mark_ids):
                    break
                fresh.append(message)
            if fresh:
                yield fresh
            link = (block.get("paging") or {}).get("next")
            if not link or len(fresh) < len(data) or not data:
                return
            block = self.client.follow(link, {"limit": MORE_LIMIT}, needs=NEEDS_MESSAGES)


def crawl(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
          cursor: str | None) -> Iterator[CrawlPage]:
    """The lazy iterator of CrawlPages that brings ``stream`` up to date from ``cursor``."""
    return Crawl(config, stream, credentials, cursor).pages()
