"""Query-parameter validation with X's exact 400 messages.

X validates every parameter and reports *all* problems at once in an ``errors`` array,
each naming the parameter and its value, e.g.
``The `max_results` query parameter value [0] is not between 5 and 100``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clock import parse_rfc3339
from .problems import InvalidRequest

ID_PATTERN = "^[0-9]{1,19}$"
USERNAME_PATTERN = "^[A-Za-z0-9_]{1,15}$"

TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
    "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
    "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
    "referenced_tweets", "reply_settings", "scopes", "source", "text", "withheld",
)
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities",
    "id", "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody",
    "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected", "public_metrics",
    "receives_your_dm", "subscription", "subscription_type", "url", "username", "verified",
    "verified_followers_count", "verified_type", "withheld",
)
TWEET_EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id",
    "entities.note.mentions.username", "referenced_tweets.id", "referenced_tweets.id.author_id",
)
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
DM_EVENT_FIELDS = ("attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id",
                   "participant_ids", "referenced_tweets", "sender_id", "text")
DM_EXPANSIONS = ("attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id")
DM_EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")
#: Field groups accepted wherever tweets are returned; nothing emulated has media, polls or places.
OTHER_FIELDS = ("media.fields", "poll.fields", "place.fields")
PRIVATE_TWEET_FIELDS = ("non_public_metrics", "organic_metrics", "promoted_metrics")

TOKEN_RE = re.compile(r"^([a-z0-9]+)$")


@dataclass
class Query:
    """The validated parameters of one request."""

    max_results: int = 10
    since_id: int | None = None
    until_id: int | None = None
    start_time: float | None = None
    end_time: float | None = None
    token: tuple[str, int] | None = None  # ("next"|"prev", boundary id)
    tweet_fields: set[str] = field(default_factory=set)
    user_fields: set[str] = field(default_factory=set)
    dm_fields: set[str] = field(default_factory=set)
    expansions: set[str] = field(default_factory=set)
    exclude: set[str] = field(default_factory=set)
    event_types: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    query: str = ""
    sort_order: str = "recency"


def encode_token(kind: str, boundary: int) -> str:
    """An opaque-looking pagination token (lower-case base 36, like X's)."""
    prefix = "7140dibdnow9c7btw" if kind == "next" else "77qpymm88g5h9vqklu"
    return prefix + _b36(boundary)


def decode_token(value: str) -> tuple[str, int] | None:
    """The (kind, boundary id) of a pagination token, or None if it is not one."""
    for kind, prefix in (("next", "7140dibdnow9c7btw"), ("prev", "77qpymm88g5h9vqklu")):
        if value.startswith(prefix) and TOKEN_RE.match(value[len(prefix):] or "!"):
            return kind, int(value[len(prefix):], 36)
    return None


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


def check_path_id(errors: InvalidRequest, name: str, value: str) -> None:
    """Report a path id that is not a 1–19 digit number."""
    if not re.match(ID_PATTERN, value):
        errors.add(name, value, f"The `{name}` query parameter value [{value}] does not match {ID_PATTERN}")


def parse(args, allowed: tuple[str, ...], path: dict[str, str] | None = None, *,
          max_range: tuple[int, int, int] | None = None, id_list: bool = False,
          expansions: tuple[str, ...] = TWEET_EXPANSIONS) -> Query:
    """Validate ``args`` (a MultiDict) for an endpoint accepting ``allowed`` parameters.

    ``path`` holds the path parameters (validated as ids unless named ``username``);
    ``max_range`` is (min, max, default) for ``max_results``; ``expansions`` the ones
    this endpoint offers (tweet expansions by default). Raises the 400 problem.
    """
    errors = InvalidRequest()
    query = Query()
    path = path or {}
    for name, value in path.items():
        if name == "username":
            if not re.match(USERNAME_PATTERN, value):
                errors.add(name, value,
                           f"The `{name}` query parameter value [{value}] does not match {USERNAME_PATTERN}")
        else:
            check_path_id(errors, name, value)
    names = list(path) + list(allowed)
    for name in args:
        values = args.getlist(name)
        if name not in allowed:
            errors.add(name, values[0], f"The query parameter [{name}] is not one of [{','.join(names)}]")
        elif len(values) > 1:
            errors.add({name: values}, None, f"Duplicate parameters are not allowed: the `{name}` query parameter")
    if max_range:
        low, high, query.max_results = max_range
        raw = args.get("max_results")
        if raw is not None:
            if not re.match(r"^-?\d+$", raw) or not low <= int(raw) <= high:
                errors.add("max_results", raw,
                           f"The `max_results` query parameter value [{raw}] is not between {low} and {high}")
            else:
                query.max_results = int(raw)
    for name in ("since_id", "until_id"):
        raw = args.get(name)
        if raw is not None:
            if re.match(ID_PATTERN, raw):
                setattr(query, name, int(raw))
            else:
                errors.add(name, raw, f"The `{name}` query parameter value [{raw}] does not match {ID_PATTERN}")
    for name in ("start_time", "end_time"):
        raw = args.get(name)
        if raw is not None:
            parsed = parse_rfc3339(raw)
            if parsed is None:
                errors.add(name, raw, f"The `{name}` query parameter value [{raw}] is not a valid RFC3339 date-time")
            setattr(query, name, parsed)
    if query.start_time and query.end_time and query.start_time >= query.end_time:
        errors.add({"start_time": [args["start_time"]], "end_time": [args["end_time"]]}, None,
                   f"Invalid 'start_time':'{args['start_time']}', 'end_time':'{args['end_time']}'. "
                   "'start_time' must be before 'end_time'.")
    for name in ("pagination_token", "next_token"):
        raw = args.get(name)
        if raw is not None:
            query.token = decode_token(raw)
            if query.token is None:
                errors.add(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
    # X accepts post.fields as an alias of tweet.fields (the 2024 "posts" renaming).
    for name in ("tweet.fields", "post.fields"):
        query.tweet_fields |= _listed(errors, args, name, TWEET_FIELDS)
    query.user_fields = _listed(errors, args, "user.fields", USER_FIELDS)
    query.dm_fields = _listed(errors, args, "dm_event.fields", DM_EVENT_FIELDS)
    query.event_types = _listed(errors, args, "event_types", DM_EVENT_TYPES)
    query.expansions = _listed(errors, args, "expansions", expansions)
    query.exclude = _listed(errors, args, "exclude", ("replies", "retweets"))
    if id_list:
        raw = args.get("ids")
        if not raw:
            errors.add("ids", "", "The `ids` query parameter can not be empty")
        else:
            query.ids = raw.split(",")
            for value in query.ids:
                if not re.match(ID_PATTERN, value):
                    errors.add("ids", value, f"The `ids` query parameter value [{value}] does not match {ID_PATTERN}")
            if len(query.ids) > 100:
                errors.add("ids", raw, f"The `ids` query parameter value [{raw}] is not between 1 and 100")
    if "query" in allowed:
        query.query = args.get("query", "")
        if not query.query:
            errors.add("query", "", "The `query` query parameter can not be empty")
        elif len(query.query) > 512:
            errors.add("query", query.query, f"The `query` query parameter value [{query.query}] is not valid")
        query.sort_order = args.get("sort_order", "recency")
        if query.sort_order not in ("recency", "relevancy"):
            errors.add("sort_order", query.sort_order,
                       f"The `sort_order` query parameter value [{query.sort_order}] is not one of [recency,relevancy]")
    errors.raise_if_any()
    return query


def _listed(errors: InvalidRequest, args, name: str, choices: tuple[str, ...]) -> set[str]:
    raw = args.get(name)
    if raw is None:
        return set()
    chosen = set()
    for value in raw.split(","):
        if value not in choices:
            # X lists the whole raw value under "parameters" and names the bad item.
            errors.add(name, raw, f"The `{name}` query parameter value [{value}] is not one of [{','.join(choices)}]")
        else:
            chosen.add(value)
    return chosen
