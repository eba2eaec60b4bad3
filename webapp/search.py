"""Text search over stories and their comments, with the database's full-text index.

SQLite: FTS5 tables ``story_fts`` and ``comment_fts`` (external content over
``story.text`` and ``comment.text``, kept in sync by triggers; migration 0011), ranked
by ``bm25``. PostgreSQL: GIN indexes on a stored ``search_words`` column, the vector of
``to_tsvector('simple', words_only(text))`` (migrations 0014, 0020), ranked by
``ts_rank``. The ``simple`` configuration (no stemming, no stop words) because crawled
text comes in any language. Either way a story matches when its text does, or the text
of one of its comments; stories matched by their own text rank first.

Both find the same words: runs of letters and digits. FTS5's unicode61 tokenizer reads
text that way; PostgreSQL's parser would read ``<script>`` as a tag (dropped), an
e-mail or a URL as one token, so its index and queries read the text with every other
character made a space (:func:`words_only`, the expression of the stored vectors). One
difference stays: FTS5 folds diacritics (``cafe`` finds ``café``).

What people type never reaches the query syntax: it is cut into words, and each word is
searched as a quoted term, so ``"``, ``*``, ``NEAR`` or ``-`` are plain text.
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from peewee import SQL, Column, NodeList, Select, Table, Value, fn

from .db import id_list, on_postgres
from .models import Comment, Story

WORD = re.compile(r"\w+", re.UNICODE)


def words(q: str) -> list[str]:
    """The words of a search, at most 12 (a longer search finds nothing more)."""
    return WORD.findall(q or "")[:12]


def words_only(text):
    """PostgreSQL: ``text`` (a column or a value) with every run of characters that are
    not letters or digits made one space — the expression migration 0020's stored search
    words are made of, so a search reads its words as the text's were read."""
    return fn.regexp_replace(text, "[^[:alnum:]]+", " ", "g")


def _search_words(source):
    """PostgreSQL: the stored search words of ``source`` (Story, Comment or an alias of
    them), the column migration 0020's GIN indexes are built on: the vector of
    ``to_tsvector('simple', words_only(text))``, kept by the server on every write."""
    return Column(source, "search_words")


def _tsquery(q: str):
    return fn.plainto_tsquery("simple", words_only(" ".join(words(q))))


def fts5_query(q: str) -> str:
    """The FTS5 query for ``q``: every word, quoted (all must occur)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words(q))


@dataclass(frozen=True)
class RankCursor:
    """Where a page of search results ends: the last story's score (lower is better),
    time and id, the search's order. The next page starts strictly after it."""

    score: float
    created_at: datetime.datetime
    id: int

    def __str__(self) -> str:
        return f"{self.score!r},{self.created_at.isoformat()},{self.id}"  # repr: the float round-trips

    @classmethod
    def parse(cls, value: str) -> "RankCursor":
        """``<score>,<ISO time>,<id>`` as written by :meth:`__str__`; ValueError otherwise."""
        score, stamp, ident = (value or "").split(",")
        cursor = cls(float(score), datetime.datetime.fromisoformat(stamp), int(ident))
        if not math.isfinite(cursor.score) or cursor.created_at.tzinfo is not None or not 0 < cursor.id < 2**63:
            raise ValueError(value)
        return cursor


#: A search ranks at most this many stories, the newest whose own text matches, and
#: finds stories through at most this many comments, the newest that match: ranking
#: every story of a common word ("coffee" on a coffee shop's pages) took 0.7 s at
#: 1,000,000 stories. A date range reaches older ones (see :func:`window_full`).
RANKED = 2000


def matching_stories(stories, q: str, limit: int, after: RankCursor | None = None) -> list[Story]:
    """``stories`` (a Story query) that match ``q``, best first, at most ``limit``;
    with ``after``, those ranked after it (keyset on the search's order, never OFFSET).
    Each story has its ``search_score`` (for the next page's cursor).

    Stories whose own text matches come first, by the index's score; then stories found
    only through a comment (score 0), newest first. Each kind is ranked and cut to
    ``limit`` on its own, within its window of the :data:`RANKED` newest matches, and
    only those two are put one after the other. The second query runs only when the
    first does not fill the page (so a page costs one or two).
    """
    found: list[Story] = []
    for part in search_parts(stories, q, after):
        found.extend(part.limit(limit - len(found)))
        if len(found) >= limit:
            break
    return found


def _fts(table: str) -> Table:
    """SQLite: the FTS5 table of ``table``'s text, named as itself (its rank functions
    take the table's name as it appears in the query)."""
    return Table(f"{table}_fts", ("rowid",), alias=f"{table}_fts")


def _windows(stories, q: str):
    """The windows of a search of ``stories``: (the newest :data:`RANKED` stories whose
    text matches, as ``id`` and ``score``; their ids alone; the ids of the stories of
    the newest :data:`RANKED` comments that match). Each reads the full-text index
    newest first and stops at the window's end."""
    if on_postgres():
        tsquery = _tsquery(q)
        # The newest matches first (by id), then ranked: ts_rank reads each row's text.
        newest = (stories.select(Story.id).where(NodeList((_search_words(Story), SQL("@@"), tsquery)))
                  .order_by(Story.id.desc()).limit(RANKED))
        Ranked = Story.alias("ranked")
        own = (Ranked.select(Ranked.id.alias("id"), (0 - fn.ts_rank(_search_words(Ranked), tsquery)).alias("score"))
               .where(Ranked.id.in_(newest)))
        own_ids = newest
        commented = (stories.select(Story.id.alias("id"))
                     .join_from(Story, Comment, on=((Comment.stream == Story.stream)
                                                    & (Comment.story_external_id == Story.external_id)))
                     .where(NodeList((_search_words(Comment), SQL("@@"), tsquery)))
                     .order_by(Comment.id.desc()).limit(RANKED))
        return own, own_ids, commented
    match = fts5_query(q)
    stories_fts, comments_fts = _fts("story"), _fts("comment")
    # bm25 is lower (more negative) for better matches.
    own = (stories.select(Story.id.alias("id"), SQL('bm25("story_fts")').alias("score"))
           .join_from(Story, stories_fts, on=(stories_fts.rowid == Story.id))
           .where(SQL('"story_fts" MATCH ?', [match])).order_by(stories_fts.rowid.desc()).limit(RANKED))
    commented = (stories.select(Story.id.alias("id"))
                 .join_from(Story, Comment, on=((Comment.stream == Story.stream)
                                                & (Comment.story_external_id == Story.external_id)))
                 .join_from(Comment, comments_fts, on=(comments_fts.rowid == Comment.id))
                 .where(SQL('"comment_fts" MATCH ?', [match])).order_by(comments_fts.rowid.desc()).limit(RANKED))
    return own, own.select(Story.id), commented


def search_parts(stories, q: str, after: RankCursor | None = None) -> list:
    """The queries of :func:`matching_stories`, in its order, not yet limited: the
    stories whose own text matches (by score) unless ``after`` is past them, then those
    found only through a comment (newest first). None for a search without words."""
    if not words(q):
        return []
    own, own_ids, commented = _windows(stories, q)
    newest = (Story.created_at.desc(), Story.id.desc())
    parts = []
    if after is None or after.score < 0:  # own matches (scores below 0) are not all shown yet
        hits = own.alias("own_hits")
        best_own = Story.select(Story, hits.c.score.alias("search_score")).join(hits, on=(hits.c.id == Story.id))
        if after is not None:
            best_own = best_own.where((hits.c.score > after.score)
                                      | ((hits.c.score == after.score) & _older(after)))
        parts.append(best_own.order_by(hits.c.score, *newest))
    # The stories of the matching comments that are not in the ranked window.
    # Joined, not "id IN (…)": PostgreSQL read every story to answer that (0.6 s).
    found = Select([commented.alias("window")], [SQL('DISTINCT "window"."id" AS "id"')]).alias("by_comment")
    only_comments = (Story.select(Story, Value(0).alias("search_score"))
                     .join(found, on=(found.c.id == Story.id)).where(Story.id.not_in(own_ids)))
    if after is not None and after.score >= 0:
        only_comments = only_comments.where(_older(after))
    parts.append(only_comments.order_by(*newest))
    # objects(): the score lands on each Story, not on a joined object.
    return [part.objects() for part in parts]


def window_full(stories, q: str) -> bool:
    """Whether a search of ``stories`` found more stories by their own text than it
    ranks (:data:`RANKED`): the page says so, and that a date range reaches older ones."""
    return _windows(stories, q)[1].count() >= RANKED


def _older(after: RankCursor):
    """Stories after ``after`` among those of the same score: older, or as old with a lower id."""
    return (Story.created_at < after.created_at) | ((Story.created_at == after.created_at) & (Story.id < after.id))


def highlight(text: str | None, q: str) -> Markup:
    """``text`` escaped, with each word of ``q`` marked. The words are found in the raw
    text and every piece is escaped on its own, so a mark never lands inside an entity
    and nothing of the crawled text becomes markup."""
    text = text or ""
    terms = sorted({w.lower() for w in words(q)}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


#: SQLite: comment ids at most this far apart are looked up in the full-text index as
#: one range (see :func:`matching_comments`): a range reads the word's list between its
#: ends, a quarter of the ids between for a word in a quarter of the comments.
COMMENT_ID_GAP = 2000


#: At most this many ranges (SQLite allows 500 SELECTs in a compound statement): when
#: the page's comments are more scattered, the gap grows until they fit.
MAX_RANGES = 100


def _clusters(ids: list[int], gap: int) -> list[tuple[int, int]]:
    """Sorted ``ids`` as (first, last) ranges, a new range wherever two neighbours are
    more than ``gap`` apart; at most :data:`MAX_RANGES` of them."""
    ranges = [[ids[0], ids[0]]]
    for i in ids[1:]:
        if i - ranges[-1][1] > gap:
            ranges.append([i, i])
        else:
            ranges[-1][1] = i
    if len(ranges) > MAX_RANGES:
        return _clusters(ids, gap * 4)
    return [(lo, hi) for lo, hi in ranges]


def matching_comments(stories, q: str, per_story: int = 2) -> dict[int, list[Comment]]:
    """For the stories of a search page, their comments that match ``q`` (oldest first,
    at most ``per_story`` each), by story id: shown under the story so a story found
    through a comment says why. One query for the page (two on SQLite: the page's
    comment ids first)."""
    if not stories or not words(q):
        return {}
    by_key = {(s.stream_id, s.external_id): s.id for s in stories}
    query = Comment.select().where(Comment.stream.in_(id_list({s.stream_id for s in stories})),
                                   Comment.story_external_id.in_({s.external_id for s in stories}))
    if on_postgres():
        query = query.where(NodeList((_search_words(Comment), SQL("@@"), _tsquery(q))))
    else:
        # The index is asked about the page's comments only: the rowid ranges they fall
        # in, one range per cluster of nearby ids (their stories' comments arrive at
        # about the same time). FTS5 reads the word's list between a range's ends, where
        # the whole list of a common word took 40 ms, and a lookup per comment 110 µs
        # each (8 ms for a page of a common word; now 1 ms).
        ids = sorted(i for (i,) in query.select(Comment.id).tuples())
        if not ids:
            return {}
        ranges = _clusters(ids, COMMENT_ID_GAP)
        match = fts5_query(q)
        hits = " UNION ALL ".join(['SELECT "rowid" FROM "comment_fts" WHERE "comment_fts" MATCH ? '
                                   'AND "rowid" BETWEEN ? AND ?'] * len(ranges))
        query = query.where(Comment.id.in_(SQL(f"({hits})", [v for lo, hi in ranges for v in (match, lo, hi)])))
    found: dict[int, list[Comment]] = {}
    for comment in query.order_by(Comment.created_at, Comment.id).limit(per_story * len(stories) * 4):
        story_id = by_key.get((comment.stream_id, comment.story_external_id))
        if story_id is not None and len(found.setdefault(story_id, [])) < per_story:
            found[story_id].append(comment)
    return found
