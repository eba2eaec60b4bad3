"""Graph "Webhooks for Pages" deliveries → :class:`~streamdesk_contract.values.WebhookUpdate`.

A delivery is ``{"object": "page", "entry": [{"id": page_id, "time": …, "changes":
[{"field": "feed", "value": {…}}], "messaging": [{…}]}]}``. Feed changes carry
``item`` (comment, status, post, photo, video, reaction, …) and ``verb`` (add, edited,
remove, hide, unhide); messages carry ``sender``, ``recipient``, ``timestamp`` (ms) and
``message{mid, text}``. The ids are the ones the crawl reads (a comment's id, a post's
``{page}_{post}`` id, a message's ``mid``), so the core's upsert merges the two.
"""
from __future__ import annotations

from datetime import datetime, timezone

from streamdesk_contract.times import parse_time
from streamdesk_contract.values import Comment, Message, Story, WebhookUpdate

from .guard import Malformed

#: Feed items that are stories of the page's feed (a post, a photo, a status update…).
STORY_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
#: Verbs that bring a new or changed item; "remove" deletes, hide/unhide carry no text.
STORING_VERBS = frozenset({"add", "edited"})


def updates(payload) -> list[WebhookUpdate]:
    """Every page's update in one Graph delivery (events it does not store are skipped)."""
    if not isinstance(payload, dict) or payload.get("object") != "page":
        raise Malformed("a webhook delivery that is not about pages")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise Malformed("a webhook delivery without its entry list")
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not _text_id(entry.get("id")):
            raise Malformed("a webhook entry without its page id")
        update = _entry(str(entry["id"]), entry)
        if update is not None:
            found.append(update)
    return found


def _entry(page_id: str, entry: dict) -> WebhookUpdate | None:
    stories, comments, messages, removed = [], [], [], []
    for change in _list(entry, "changes"):
        value = change.get("value")
        if change.get("field") != "feed" or not isinstance(value, dict):
            continue  # another field the app subscribed to: nothing Streamdesk stores
        item, verb = value.get("item"), value.get("verb")
        if item == "comment" and verb == "remove":
            removed.append(_required(value, "comment_id"))
        elif item == "comment" and verb in STORING_VERBS:
            comments.append(_comment(value))
        elif item in STORY_ITEMS and verb in STORING_VERBS:
            stories.append(_story(value))
    for event in _list(entry, "messaging"):
        if isinstance(event.get("message"), dict) and not event["message"].get("is_echo"):
            messages.append(_message(page_id, event))
    if not (stories or comments or messages or removed):
        return None
    return WebhookUpdate(page_id=page_id, stories=tuple(stories), comments=tuple(comments),
                         messages=tuple(messages), removed_comments=tuple(removed))


def _comment(value: dict) -> Comment:
    post_id = _required(value, "post_id")
    parent = value.get("parent_id")
    author = value.get("from") if isinstance(value.get("from"), dict) else {}
    # Graph names the post as the parent of a top-level comment; the crawl leaves it unset.
    return Comment(external_id=_required(value, "comment_id"), story_id=post_id,
                   created_at=_time(value.get("created_time")), text=_str(value.get("message")),
                   author_id=_opt_id(author.get("id")), author_name=author.get("name"),
                   parent_id=str(parent) if parent and str(parent) != post_id else None)


def _story(value: dict) -> Story:
    post_id = _required(value, "post_id")
    author = value.get("from") if isinstance(value.get("from"), dict) else {}
    created = _time(value.get("created_time"))
    return Story(external_id=post_id, created_at=created, text=_str(value.get("message")),
                 author_id=_opt_id(author.get("id")), author_name=author.get("name"),
                 url=value.get("link") if isinstance(value.get("link"), str) else f"https://www.facebook.com/{post_id}",
                 raw_type=value.get("item"), updated_at=created if value.get("verb") == "edited" else None)


def _message(page_id: str, event: dict) -> Message:
    sender = (event.get("sender") or {}).get("id")
    recipient = (event.get("recipient") or {}).get("id")
    message = event["message"]
    if not _text_id(message.get("mid")) or not _text_id(sender):
        raise Malformed("a webhook message without its mid or sender")
    # Messenger names the conversation by the person (their page-scoped id).
    person = str(recipient) if str(sender) == page_id else str(sender)
    stamp = event.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        raise Malformed("a webhook message without its timestamp")
    return Message(external_id=str(message["mid"]), conversation_id=f"psid:{person}",
                   created_at=datetime.fromtimestamp(stamp / 1000, tz=timezone.utc),
                   text=_str(message.get("text")), sender_id=str(sender))


def _time(value) -> datetime:
    """Feed webhooks send unix seconds; some items an ISO 8601 time."""
    if isinstance(value, bool):
        raise Malformed("a webhook time that is not a time")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return parse_time(value)


def _list(entry: dict, key: str) -> list[dict]:
    found = entry.get(key, [])
    if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
        raise Malformed(f"a webhook entry whose {key} is not a list of objects")
    return found


def _required(value: dict, key: str) -> str:
    if not _text_id(value.get(key)):
        raise Malformed(f"a webhook change without its {key}")
    return str(value[key])


def _text_id(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (str, int)) and bool(str(value).strip())


def _opt_id(value) -> str | None:
    return str(value) if _text_id(value) else None


def _str(value) -> str:
    return value if isinstance(value, str) else ""
