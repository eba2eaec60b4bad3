"""Crawling a Facebook stream: stories of the page's feed with their comments and
replies, and (authorized streams) the page's private messages.

Cost model (what keeps an idle re-crawl at one or two calls):

* One feed call (100 stories, each with 25 comments nested) shows the most recent
  stories with their ``updated_time``, which Facebook moves on every new comment or
  edit. Stories past the watermark are emitted with the comments newer than it. Graph
  *ranks* a page post's comments whenever it can, whatever ``order`` asks (its summary
  says ``"order": "ranked"``), so new comments may sit behind old ones: a changed story
  whose comments do not all fit in the nested page has the rest read to the end. Only
  when the summary confirms newest-first order does the reading stop at the first old
  comment.
  Unauthorized streams stop there: Facebook lets us track only updates to a public
  page's 100 most recent posts.
* For authorized streams that first call is on the page node and also brings the
  Messenger conversations (sorted by last activity), so an idle inbox costs no call.
* Authorized streams read older feed pages (paging links replayed from the cursor)
  while they hold stories newer than the watermark: the whole history on the first
  crawl, a gap on later ones.
* All posts of an owned page can be tracked, and Graph pages its feed by creation time:
  a comment on an old post moves its ``updated_time`` but not its place. So authorized
  crawls also *revisit* older feed pages by age band (:mod:`.revisit`: under 7 days on
  every crawl, under 30 days in hourly rounds, older ones in a daily rotation), asking
  only ``id`` and the two times, 100 posts a call, and read in full (one batched lookup)
  just the posts that changed since the band's last round.

Only stories are tracked, never the objects they point to (photos, videos, links).
Rows are yielded page by page with the cursor that covers them; when a page needs
follow-up calls, its rows go out with the *previous* cursor and the new cursor comes
once everything it covers has been yielded, so a crawl killed at any point resumes
without losing anything. When Graph answers "Please reduce the amount of data", the feed
page size is halved (down to 5) and kept in the cursor.
"""
from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

from streamdesk_contract.errors import NotFound, PermissionMissing, TokenExpired
from streamdesk_contract.values import CrawlPage, Credentials, ServiceConfig, StreamRef

from . import convert
from . import messages as _messages
from .client import GraphClient
from .convert import items, next_link, node_id, unix, updated
from . import usage
from .cursor import MIN_FEED_LIMIT, CrawlCursor, Gap, Sweep, advance, is_new
from .graph_errors import ReduceData
from .guard import Malformed
from .revisit import BANDS, Band

NESTED_COMMENTS = 25
MORE_LIMIT = 100
UNAUTHORIZED_POSTS = 100
DETAILS_BATCH = 50  # Graph's limit for ?ids= lookups
#: Changes found by a sweep that are remembered so a later round does not read them again.
KNOWN_MAX = 20
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id}"
STORY_FIELDS = "id,message,story,created_time,updated_time,permalink_url,status_type,from{id,name}"
LIGHT_FIELDS = "id,created_time,updated_time"
NEEDS_FEED = ("pages_read_engagement", "pages_read_user_content")
#: Paging parameters that place a ``next`` link; a link without one would repeat a page.
POSITION = {"until", "after", "offset"}
#: Not kept from a ``next`` link: secrets, and what the plugin sets itself on each call.
NOT_KEPT = {"access_token", "appsecret_proof", "fields", "limit"}


def story_fields(authorized: bool) -> str:
    """The feed's ``fields``: hidden flags are visible only to the page's own token."""
    hidden = ",is_hidden" if authorized else ""
    return (f"{STORY_FIELDS}{hidden},comments.filter(stream).order(reverse_chronological)"
            f".limit({NESTED_COMMENTS}).summary(true){{{COMMENT_FIELDS}{hidden}}}")


def paging_query(link: str) -> dict[str, str]:
    """The query of Graph's ``next`` link to replay later, whatever its paging style."""
    query = {k: v for k, v in parse_qsl(urlsplit(link).query, keep_blank_values=True) if k not in NOT_KEPT}
    if not POSITION & set(query):
        raise Malformed("a next link without its paging position (until or after)")
    return query


def new_round(sweep: Sweep, first: dict[str, str], stories_at: int, stories_ids: tuple[str, ...]) -> Sweep:
    """The sweep's next round, from ``first`` (the query of its first page).

    A change is new for this round when it is after the newest change seen before the
    *previous* round started: every page of that round was read later than that, so
    nothing that happened after a page was read can be older. Changes already read are
    remembered in ``known``.
    """
    marks = [(stories_at, stories_ids), (sweep.next_floor, sweep.next_ids),
             *((at, (story_id,)) for story_id, at in sweep.known.items())]
    top = max(at for at, _ in marks)
    top_ids = tuple(sorted({i for at, ids in marks if at == top for i in ids}))
    floor, floor_ids = sweep.next_floor, sweep.next_ids
    known = {i: at for i, at in sweep.known.items() if is_new(at, i, floor, floor_ids)}
    return Sweep(first, floor, floor_ids, top, top_ids, known)


def remember(sweeps: dict[str, Sweep], stories: list[dict]) -> dict[str, Sweep]:
    """``sweeps`` knowing the changes of ``stories`` (read in full elsewhere), so that they
    do not read them again; only the newest :data:`KNOWN_MAX` are kept per sweep."""
    changed = changes_of(stories)  # once for all the sweeps: every page of a full read comes here
    if not changed:
        return sweeps
    return {name: _remember(sweep, changed) for name, sweep in sweeps.items()}


def changes_of(stories: list[dict]) -> list[tuple[str, int]]:
    """``(id, updated time)`` of the stories changed since they were created."""
    changed = []
    for story in stories:
        at = updated(story)
        if at > unix(story.get("created_time")):
            changed.append((node_id(story), at))
    return changed


def _remember(sweep: Sweep, changed: list[tuple[str, int]]) -> Sweep:
    changes = {story_id: at for story_id, at in changed if is_new(at, story_id, sweep.floor, sweep.floor_ids)}
    if not changes:
        return sweep
    known = sorted({**sweep.known, **changes}.items(), key=lambda kv: kv[1])[-KNOWN_MAX:]
    return replace(sweep, known=dict(known))


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
        # Where this crawl's full reads stopped: the oldest creation time read and the query
        # of the page after it (None: the feed's end). Revisits start below it.
        self.read_to: tuple[int, dict[str, str] | None] | None = None
        self.conversations: dict | None = None        # brought by the first call
        self.read_all = False                         # this run reads the whole feed
        self.emitted: set[str] = set()

    def pages(self) -> Iterator[CrawlPage]:
        """The crawl's CrawlPages: pending older pages, the newest page, the revisits of
        older pages, then messages."""
        if self.state.gap:
            yield from self._scan_gap()  # finish what an interrupted crawl left
        yield from self._head()
        if self.state.gap:
            yield from self._scan_gap()
        if self.authorized:
            yield from self._revisit()
            self.state = yield from _messages.read(self.client, self.page_id, self.state, self.conversations)

    # --- calls --------------------------------------------------------------------------
    def _fetch(self, call: Callable[[int], dict]) -> Generator[CrawlPage, None, dict]:
        """``call(limit)``, halving the feed page size while Graph asks for less data."""
        while True:
            try:
                return call(self.state.limit)
            except ReduceData:
                if self.state.limit <= MIN_FEED_LIMIT:
                    raise
                self.state = self.state.with_(limit=max(MIN_FEED_LIMIT, self.state.limit // 2))
                yield CrawlPage(cursor=self.state.dump())  # kept even if the crawl stops here

    def _feed_url(self, query: dict[str, str]) -> str:
        return f"{self.client.base}/{self.page_id}/feed?{urlencode(query)}"

    def _replay(self, query: dict[str, str], fields: str) -> Callable[[int], dict]:
        return lambda limit: self.client.follow(self._feed_url(query), {"fields": fields, "limit": limit},
                                                needs=NEEDS_FEED)

    def _read_head(self, limit: int) -> dict:
        if self.authorized:
            try:
                fields = f"feed.limit({limit}){{{self.fields}}},{_messages.CONVERSATIONS_FIELD}"
                node = self.client.get(f"/{self.page_id}", {"fields": fields},
                                       needs=NEEDS_FEED + _messages.NEEDS_MESSAGES)
            except PermissionMissing:
                # Messages need permissions and tasks of their own: read the stories alone,
                # and let the messages call name what is missing once they are stored.
                node = None
            if node is not None:
                if not isinstance(node, dict):
                    raise Malformed("a page node that is not an object")
                self.conversations = node.get("conversations") or {}
                return node.get("feed") or {}
        return self.client.get(f"/{self.page_id}/feed", {"fields": self.fields, "limit": limit}, needs=NEEDS_FEED)

    # --- stories ------------------------------------------------------------------------
    def _head(self) -> Iterator[CrawlPage]:
        body = yield from self._fetch(self._read_head)
        stories, link = items(body), next_link(body)
        while not self.authorized and link and stories and len(stories) < UNAUTHORIZED_POSTS:
            # Smaller pages (see _fetch): public pages still track their 100 most recent posts.
            body = yield from self._fetch(
                lambda limit, link=link: self.client.follow(link, {"limit": limit}, needs=NEEDS_FEED))
            more, link = items(body), next_link(body)
            if not more:
                break
            stories += more
        if not self.authorized:
            stories = stories[:UNAUTHORIZED_POSTS]
        before = self.state
        seen = [(updated(s), node_id(s)) for s in stories]
        fresh = [s for s, (at, i) in zip(stories, seen, strict=True) if is_new(at, i, before.stories_at,
                                                                                before.stories_ids)]
        at, ids = advance(before.stories_at, before.stories_ids, seen)
        floor = before.stories_at
        gap, sweeps = None, before.sweeps
        if self.authorized:
            head_next = paging_query(link) if link and stories else None
            self.read_to = (unix(stories[-1].get("created_time")) if stories else 0, head_next)
            if head_next and (floor is None or unix(stories[-1].get("created_time")) >= floor):
                gap = Gap(head_next, floor)  # more new stories than one page holds
                self.read_all = floor is None
            if floor is None and at is not None:
                # This crawl reads every page: revisits start from the next one.
                sweeps = {band.name: Sweep(None, at, ids, at, ids) for band in BANDS}
        after = before.with_(stories_at=at, stories_ids=ids, gap=gap, sweeps=sweeps)
        yield from self._emit(fresh, floor, before, after)
        self.state = after

    def _scan_gap(self) -> Iterator[CrawlPage]:
        while self.state.gap:
            gap = self.state.gap
            self.read_all = self.read_all or gap.floor is None
            body = yield from self._fetch(self._replay(gap.query, self.fields))
            before = self.state
            data = items(body)
            keep = [s for s in data if gap.floor is None or unix(s.get("created_time")) >= gap.floor]
            link = next_link(body)
            query = paging_query(link) if link and data and len(keep) == len(data) else None
            if query == gap.query:
                raise Malformed("a next link to the same feed page")
            if data:
                self.read_to = (unix(data[-1].get("created_time")), paging_query(link) if link else None)
            after = before.with_(gap=Gap(query, gap.floor) if query else None, sweeps=remember(before.sweeps, keep))
            yield from self._emit(keep, gap.floor, before, after)
            self.state = after

    def _revisit(self) -> Iterator[CrawlPage]:
        state = self.state
        if self.read_all or state.gap or state.stories_at is None or self.read_to is None or self.read_to[1] is None:
            return  # nothing older than what this crawl read in full, or it read it all
        now = self.client.now()
        # High usage: the paced bands wait (their rounds take longer), the week band goes on.
        busy = usage.busy(self.client.base, self.client.bucket)
        for band in BANDS:
            if not (busy and band.period):
                yield from self._sweep(band, now)

    def _sweep(self, band: Band, now: int) -> Iterator[CrawlPage]:
        state = self.state
        sweep = state.sweeps.get(band.name) or Sweep(None, state.stories_at, state.stories_ids,
                                                     state.stories_at, state.stories_ids)
        if sweep.query is None:
            first = band.start(now, *self.read_to) if band.due(now, sweep.started) else None
            if first is None:
                return
            sweep = replace(new_round(sweep, first, state.stories_at, state.stories_ids),
                            started=now, read=0, pages=sweep.pages)
        for _ in range(band.budget(now, sweep.started, sweep.read, sweep.pages)):
            sweep = yield from self._sweep_page(band, now, sweep)
            if sweep.query is None:
                return

    def _sweep_page(self, band: Band, now: int, sweep: Sweep) -> Generator[CrawlPage, None, Sweep]:
        """Read the sweep's next page (ids and times only), then in full the posts on it that
        changed since the round's floor; returns the sweep moved past that page."""
        body = yield from self._fetch(self._replay(sweep.query, LIGHT_FIELDS))
        before = self.state
        data = items(body)
        changed = []
        for story in data:
            story_id, at = node_id(story), updated(story)
            # Untouched since created (updated == created): its creation was read at the top.
            if (is_new(at, story_id, sweep.floor, sweep.floor_ids) and at > unix(story.get("created_time"))
                    and sweep.known.get(story_id) != at and story_id not in self.emitted):
                changed.append(story)
        link = next_link(body)
        query = paging_query(link) if link and data else None
        if query is not None and query == sweep.query:
            raise Malformed("a next link to the same feed page")
        if data and band.ends_at(now, unix(data[-1].get("created_time"))):
            query = None  # past the band's oldest post: the round is over
        read = sweep.read + 1
        moved = replace(sweep, query=query, read=read, pages=read if query is None else sweep.pages)
        after = before.with_(sweeps={**before.sweeps, band.name: _remember(moved, changes_of(changed))})
        yield from self._emit(self._details([node_id(s) for s in changed]), sweep.floor, before, after)
        self.state = after
        return self.state.sweeps[band.name]

    def _details(self, story_ids: list[str]) -> list[dict]:
        """The stories ``story_ids`` with their nested comments, in batched lookups."""
        found: dict = {}
        for start in range(0, len(story_ids), DETAILS_BATCH):
            batch = story_ids[start:start + DETAILS_BATCH]
            try:
                nodes = self.client.get("/", {"ids": ",".join(batch), "fields": self.fields}, needs=NEEDS_FEED)
            except NotFound:
                # One deleted since the page was read fails the batch: ask one by one.
                nodes = {}
                for story_id in batch:
                    try:
                        nodes[story_id] = self.client.get(f"/{story_id}", {"fields": self.fields}, needs=NEEDS_FEED)
                    except NotFound:
                        continue
            if not isinstance(nodes, dict) or not all(isinstance(n, dict) for n in nodes.values()):
                raise Malformed("a lookup by ids that is not an object of nodes")
            found.update(nodes)
        return [found[i] for i in story_ids if i in found]

    def _emit(self, stories: list[dict], floor: int | None, before: CrawlCursor,
              after: CrawlCursor) -> Iterator[CrawlPage]:
        comments, overflow = [], []
        for story in stories:
            story_id = node_id(story)
            block = story.get("comments") or {}
            data = items(block)
            keep = [c for c in data if floor is None or unix(c.get("created_time")) >= floor]
            comments.extend(convert.comment(c, story_id) for c in keep)
            link = next_link(block)
            newest_first = time_ordered(block)
            if link and data and (len(keep) == len(data) or not newest_first):
                overflow.append((story_id, link, newest_first))
        rows = tuple(convert.story(s) for s in stories)
        self.emitted.update(s.external_id for s in rows)
        if not overflow:
            if rows or comments or after != before:
                yield CrawlPage(cursor=after.dump(), stories=rows, comments=tuple(comments))
            return
        yield CrawlPage(cursor=before.dump(), stories=rows, comments=tuple(comments))
        for story_id, link, newest_first in overflow:
            yield from self._more_comments(story_id, link, floor, before, newest_first)
        yield CrawlPage(cursor=after.dump())

    def _more_comments(self, story_id: str, link: str | None, floor: int | None,
                       before: CrawlCursor, newest_first: bool) -> Iterator[CrawlPage]:
        while link:
            body = self.client.follow(link, {"limit": MORE_LIMIT}, needs=NEEDS_FEED)
            data = items(body)
            keep = [c for c in data if floor is None or unix(c.get("created_time")) >= floor]
            if keep:
                yield CrawlPage(cursor=before.dump(), comments=tuple(convert.comment(c, story_id) for c in keep))
            # Only a page in time order ends at the first old comment; a ranked one can
            # hold new comments after old ones, so it is read to its end.
            link = next_link(body) if data and (len(keep) == len(data) or not newest_first) else None


def time_ordered(block: dict) -> bool:
    """Whether a comments edge came newest first, as asked. Graph ranks a page post's
    comments whenever it can, whatever ``order`` says, and tells which order it used in
    ``summary.order``; without that word the order is not relied on."""
    summary = block.get("summary") if isinstance(block, dict) else None
    return isinstance(summary, dict) and summary.get("order") == "reverse_chronological"


def crawl(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
          cursor: str | None) -> Iterator[CrawlPage]:
    """The lazy iterator of CrawlPages that brings ``stream`` up to date from ``cursor``."""
    return Crawl(config, stream, credentials, cursor).pages()
