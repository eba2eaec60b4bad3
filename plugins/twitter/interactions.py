"""What a team sends as the connected X account: publish, reply, like, hide, delete, message.

``target_id`` is a tweet id (reply, like, hide, delete) or, for a message, the DM
conversation id (``"<id>-<id>"``, as crawled) or the other person's user id. ``undo``
turns like into unlike and hide into unhide.
"""
from __future__ import annotations

from streamdesk_contract.errors import InvalidQuery, NotFound, TokenExpired
from streamdesk_contract.values import (
    Credentials,
    Interaction,
    InteractionResult,
    ServiceConfig,
    StreamRef,
)

from .client import XClient, lookup_failed
from .handles import shown

MAX_CHARS = 280
MAX_DM_CHARS = 10000


def _text(interaction: Interaction, limit: int = MAX_CHARS) -> str:
    text = (interaction.text or "").strip()
    what = "message" if limit == MAX_DM_CHARS else "post"
    if not text:
        raise InvalidQuery(f"Write something first: X does not accept an empty {what}.")
    if len(text) > limit:
        raise InvalidQuery(f"An X {what} has at most {limit} characters; this one has {len(text)}.")
    return text


def _target(interaction: Interaction) -> str:
    target = (interaction.target_id or "").strip()
    if not target:
        raise InvalidQuery(f"Choose the post to {interaction.kind}.")
    # It goes into the URL path; str.isdigit alone would take other scripts' digits.
    if interaction.kind != "message" and not (target.isascii() and target.isdigit()):
        raise InvalidQuery(f"“{shown(target)}” is not an X post id.")
    return target


def _checked(body: dict, what: str) -> dict:
    if "data" not in body and body.get("errors"):
        raise lookup_failed(body, what)
    return body.get("data") or {}


def _participant(target: str, me: str) -> str:
    """The other person of a one-to-one conversation id ``"<a>-<b>"`` (or a user id)."""
    ids = target.split("-")
    if not all(part.isascii() and part.isdigit() for part in ids) or len(ids) > 2:
        raise InvalidQuery("That is not an X conversation or account id.")
    others = [part for part in ids if part != me]
    if len(others) != 1:
        raise InvalidQuery("X messages go to one other person at a time.")
    return others[0]


def interact(config: ServiceConfig, stream: StreamRef, credentials: Credentials | None,
             interaction: Interaction) -> InteractionResult:
    """Send ``interaction`` as the account of ``stream``."""
    if not stream.authorized or credentials is None:
        raise TokenExpired("Interactions need an authorized stream with a connected X profile: reconnect the "
                           "X account.")
    # X's 400s here are about what the team wrote or chose: InvalidQuery says so.
    client = XClient(config, credentials.access_token, invalid_query=True)
    me = stream.page_id
    kind = interaction.kind
    if kind == "publish":
        data = client.request("POST", "/2/tweets", "POST /2/tweets", json={"text": _text(interaction)},
                              scope="tweet.write")["data"]
        return InteractionResult(ok=True, external_id=data["id"])
    if kind == "reply":
        payload = {"text": _text(interaction), "reply": {"in_reply_to_tweet_id": _target(interaction)}}
        data = client.request("POST", "/2/tweets", "POST /2/tweets", json=payload, scope="tweet.write")["data"]
        return InteractionResult(ok=True, external_id=data["id"])
    if kind == "like":
        target = _target(interaction)
        if interaction.undo:
            body = client.request("DELETE", f"/2/users/{me}/likes/{target}", "DELETE /2/users/:id/likes/:tweet_id",
                                  scope="like.write")
            return InteractionResult(ok=_checked(body, "The post").get("liked") is False, external_id=target)
        body = client.request("POST", f"/2/users/{me}/likes", "POST /2/users/:id/likes",
                              json={"tweet_id": target}, scope="like.write")
        return InteractionResult(ok=bool(_checked(body, "The post").get("liked")), external_id=target)
    if kind == "hide":
        target = _target(interaction)
        body = client.request("PUT", f"/2/tweets/{target}/hidden", "PUT /2/tweets/:id/hidden",
                              json={"hidden": not interaction.undo}, scope="tweet.moderate.write")
        return InteractionResult(ok=_checked(body, "The reply").get("hidden") is (not interaction.undo),
                                 external_id=target)
    if kind == "delete":
        target = _target(interaction)
        body = client.request("DELETE", f"/2/tweets/{target}", "DELETE /2/tweets/:id", scope="tweet.write")
        data = _checked(body, "The post")
        if not data.get("deleted"):
            raise NotFound("X did not delete the post (it may be gone already).")
        return InteractionResult(ok=True, external_id=target)
    if kind == "message":
        participant = _participant(_target(interaction), me)
        body = client.request("POST", f"/2/dm_conversations/with/{participant}/messages",
                              "POST /2/dm_conversations/with/:participant_id/messages",
                              json={"text": _text(interaction, MAX_DM_CHARS)}, scope="dm.write")
        return InteractionResult(ok=True, external_id=_checked(body, "The person").get("dm_event_id"))
    raise InvalidQuery(f"X does not support “{kind}” here: use reply to answer a post.")
