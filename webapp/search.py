"""Text search over stories and their comments, with the database's full-text index.

SQLite: FTS5 tables ``story_fts`` and ``comment_fts`` (external content over
``story.text`` and ``comment.text``, kept in sync by triggers; migration 0011), ranked
by ``bm25``. PostgreSQL: GIN indexes on ``to_tsvector('simple', words_only(text))``
(migration 0014), ranked by ``ts_rank``. The ``simple`` configuration (no stemming, no stop words) because crawled
text comes in any language. Either way a story matches when its text does, or the text
of one of its comments; stories matched by their own text rank first.

Both find the same words: runs of letters and digits. FTS5's unicode61 tokenizer reads
text that way; PostgreSQL's parser would read ``<script>`` as a tag (dropped), an
e-mail or a URL as one token, so its index and queries read the text with every other
character made a space (:func:`words_only`, the expression of migration 0014's GIN
indexes). One difference stays: FTS5 folds diacritics (``cafe`` finds ``café``).

What people type never reaches the query syntax: it is cut into words, and each word is
searched as a quoted term, so ``"``, ``*``, ``NEAR`` or ``-`` are plain text.
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape
from peewee import SQL, NodeList, PostgresqlDatabase, Select, Value, fn

from .db import database, id_list
from .models import Comment, Story

WORD = re.compile(r"\w+", re.UNICODE)


def words(q: str) -> list[str]:
    """The words of a search, at most 12 (a longer search finds nothing more)."""
    return WORD.findall(q or "")[:12]


def _postgres() -> bool:
    return isinstance(getattr(database, "obj", database), PostgresqlDatabase)


def words_only(text):
    """PostgreSQL: ``text`` (a column or a value) with every run of characters that are
    not letters or digits made one space — exactly the expression the GIN indexes of
    migration 0014 are built on, so the planner can use them."""
    return fn.regexp_replace(text, "[^[:alnum:]]+", " ", "g")


def _tsvector(column):
    return fn.to_tsvector("simple", words_only(column))


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


def matching_stories(stories, q: str, limit: int, after: RankCursor | None = None) -> list[Story]:
    """``stories`` (a Story query) that match ``q``, best first, at most ``limit``;
    with ``after``, those ranked after it (keyset on the search's order, never OFFSET).
    Each story has its ``search_score`` (for the next page's cursor).

    Stories whose own text matches come first, by the index's score; then stories found
    only through a comment (score 0), newest first. Each kind is ranked and cut to
    ``limit`` on its own, from the full-text index (the story ids it gives, and the
    stories of the comments it gives, joined by the story's unique key), and only those
    two are put one after the other: ranking every story of a common word together with
    every story of its comments took longer than the rest of the page. The second query
    runs only when the first does not fill the page (so a page costs one or two).
    """
    found: list[Story] = []
    for part in search_parts(stories, q, after):
        found.extend(part.limit(limit - len(found)))
        if len(found) >= limit:
            break
    return found


def search_parts(stories, q: str, after: RankCursor | None = None) -> list:
    """The queries of :func:`matching_stories`, in its order, not yet limited: the
    stories whose own text matches (by score) unless ``after`` is past them, then those
    found only through a comment (newest first). None for a search without words."""
    if not words(q):
        return []
    HitStory = Story.alias("hit_story")
    by_comment = (HitStory.select(HitStory.id)
                  .join(Comment, on=((Comment.stream == HitStory.stream)
                                     & (Comment.story_external_id == HitStory.external_id))))
    if _postgres():
        tsquery = _tsquery(q)
        OwnStory = Story.alias("own")
        vector = _tsvector(OwnStory.text)  # the GIN index's expression
        # ts_rank is higher for better matches: negated, lower is better as with bm25.
        own = (OwnStory.select(OwnStory.id.alias("id"), (0 - fn.ts_rank(vector, tsquery)).alias("score"))
               .where(NodeList((vector, SQL("@@"), tsquery))))
        by_comment = by_comment.where(NodeList((_tsvector(Comment.text), SQL("@@"), tsquery)))
        own_ids = OwnStory.select(OwnStory.id).where(NodeList((vector, SQL("@@"), tsquery)))
    else:
        match = fts5_query(q)
        # bm25 is lower (more negative) for better matches.
        own = Select([SQL('"story_fts"')], [SQL('"rowid" AS "id"'), SQL('bm25("story_fts") AS "score"')]).where(
            SQL('"story_fts" MATCH ?', [match]))
        by_comment = by_comment.where(Comment.id.in_(SQL('(SELECT "rowid" FROM "comment_fts" '
                                                         'WHERE "comment_fts" MATCH ?)', [match])))
        own_ids = SQL('(SELECT "rowid" FROM "story_fts" WHERE "story_fts" MATCH ?)', [match])
    newest = (Story.created_at.desc(), Story.id.desc())
    parts = []
    if after is None or after.score < 0:  # own matches (scores below 0) are not all shown yet
        own = own.alias("own_hits")
        best_own = (stories.select_extend(own.c.score.alias("search_score"))
                    .join_from(Story, own, on=(own.c.id == Story.id)))
        if after is not None:
            best_own = best_own.where((own.c.score > after.score)
                                      | ((own.c.score == after.score) & _older(after)))
        parts.append(best_own.order_by(own.c.score, *newest))
    # The stories of the matching comments, gathered from the comment index first.
    found = by_comment.distinct().alias("by_comment")
    only_comments = (stories.select_extend(Value(0).alias("search_score"))
                     .join_from(Story, found, on=(found.c.id == Story.id))
                     .where(Story.id.not_in(own_ids)))
    if after is not None and after.score >= 0:
        only_comments = only_comments.where(_older(after))
    parts.append(only_comments.order_by(*newest))
    # objects(): the score lands on each Story, not on a joined object.
    return [part.objects() for part in parts]


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


def matching_comments(stories, q: str, per_story: int = 2) -> dict[int, list[Comment]]:
    """For the stories of a search page, their comments that match ``q`` (oldest first,
    at most ``per_story`` each), by story id: shown under the story so a story found
    through a comment says why. One query for the page."""
    if not stories or not words(q):
        return {}
    by_key = {(s.stream_id, s.external_id): s.id for s in stories}
    query = Comment.select().where(Comment.stream.in_(id_list({s.stream_id for s in stories})),
                                   Comment.story_external_id.in_({s.external_id for s in stories}))
    if _postgres():
        query = query.where(NodeList((_tsvector(Comment.text), SQL("@@"), _tsquery(q))))
    else:
        # Asked of the page's few comments, row by row: FTS5 looks a rowid up in the
        # word's list, where the whole list of a common word took milliseconds to read.
        in_index = Select([SQL('"comment_fts"')], [SQL("1")]).where(
            SQL('"comment_fts" MATCH ?', [fts5_query(q)]), SQL('"comment_fts"."rowid"') == Comment.id)
        query = query.where(fn.EXISTS(in_index))
    found: dict[int, list[Comment]] = {}
    for comment in query.order_by(Comment.created_at, Comment.id).limit(per_story * len(stories) * 4):
        story_id = by_key.get((comment.stream_id, comment.story_external_id))
        if story_id is not None and len(found.setdefault(story_id, [])) < per_story:
            found[story_id].append(comment)
    return found
