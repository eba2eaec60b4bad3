"""A small subset of X's search query language, enough for account monitoring.

Supported: keywords and "quoted phrases", ``@username``, ``from:`` and ``to:`` (username
or numeric id), ``is:reply``, ``is:retweet``, ``is:quote``, negation with ``-``,
implicit AND, ``OR`` and parentheses — with X's precedence (AND binds tighter than OR).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .problems import invalid_request
from .state import State, Tweet

TOKEN_RE = re.compile(r'\s*(\(|\)|-?"[^"]*"|-?[^\s()]+)')

Predicate = Callable[[Tweet], bool]


class QueryError(Exception):
    """A search query the emulated operators cannot parse."""


def compile_query(state: State, query: str) -> Predicate:
    """A predicate for ``query``; raises X's 400 problem for what it cannot parse."""
    try:
        tokens = _tokens(query)
        predicate, rest = _or(state, tokens)
        if rest:
            raise QueryError(f"Unexpected token '{rest[0]}'")
        return predicate
    except QueryError as exc:
        raise invalid_request([{"parameters": {"query": [query]},
                                "message": f"There were errors processing your request: {exc}"}]) from None


def _tokens(query: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(query):
        match = TOKEN_RE.match(query, pos)
        if not match or not match.group(1):
            break
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _or(state: State, tokens: list[str]) -> tuple[Predicate, list[str]]:
    left, tokens = _and(state, tokens)
    alternatives = [left]
    while tokens and tokens[0] == "OR":
        right, tokens = _and(state, tokens[1:])
        alternatives.append(right)
    if len(alternatives) == 1:
        return left, tokens
    return (lambda t: any(p(t) for p in alternatives)), tokens


def _and(state: State, tokens: list[str]) -> tuple[Predicate, list[str]]:
    parts = []
    while tokens and tokens[0] not in ("OR", ")"):
        if tokens[0] == "(":
            inner, tokens = _or(state, tokens[1:])
            if not tokens or tokens[0] != ")":
                raise QueryError("Unbalanced parentheses")
            parts.append(inner)
            tokens = tokens[1:]
        else:
            parts.append(_term(state, tokens[0]))
            tokens = tokens[1:]
    if not parts:
        raise QueryError("Ambiguous use of OR")
    return (lambda t: all(p(t) for p in parts)), tokens


def _term(state: State, token: str) -> Predicate:
    negate = token.startswith("-") and len(token) > 1
    word = token[1:] if negate else token
    predicate = _atom(state, word)
    return (lambda t: not predicate(t)) if negate else predicate


def _user_id(state: State, value: str) -> str | None:
    user = state.users.get(value) or state.user_by_name(value)
    return user.id if user else None


def _atom(state: State, word: str) -> Predicate:
    if word.startswith('"'):
        phrase = word.strip('"').lower()
        return lambda t: phrase in t.text.lower()
    if word.startswith("@"):
        user_id = _user_id(state, word[1:])
        return lambda t: user_id is not None and user_id in state.mention_ids(t)
    operator, colon, value = word.partition(":")
    if not colon:
        lowered = word.lower()
        return lambda t: lowered in t.text.lower()
    if operator == "from":
        user_id = _user_id(state, value)
        return lambda t: t.author_id == user_id
    if operator == "to":
        user_id = _user_id(state, value)
        return lambda t: t.in_reply_to_user_id is not None and t.in_reply_to_user_id == user_id
    if operator == "is" and value in ("reply", "retweet", "quote"):
        kind = {"reply": "replied_to", "retweet": "retweeted", "quote": "quoted"}[value]
        return lambda t: t.ref(kind) is not None
    raise QueryError(f"Reference to invalid operator '{operator}'. Operator is not available in current "
                     "product or product packaging. Please refer to complete available operator list "
                     "at https://developer.twitter.com/en/docs/twitter-api/rules-and-filtering/operators-by-product.")
