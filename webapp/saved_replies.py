"""Saved replies: texts an admin keeps for the team to insert into a reply."""
from __future__ import annotations

from .models import SavedReply, User

TITLE_LIMIT = 80
TEXT_LIMIT = 5000


class SavedReplyError(ValueError):
    """A saved reply that cannot be stored (the message says why)."""


def of_account(account_id: int) -> list[SavedReply]:
    """The account's saved replies, by title."""
    return list(SavedReply.select().where(SavedReply.account == account_id).order_by(SavedReply.title,
                                                                                      SavedReply.id))


def get(account_id: int, reply_id: int | None) -> SavedReply | None:
    """One saved reply of the account (None for another account's, or none)."""
    if reply_id is None:
        return None
    return SavedReply.get_or_none((SavedReply.id == reply_id) & (SavedReply.account == account_id))


def _checked(title: str, text: str) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text:
        raise SavedReplyError("A saved reply needs a title and a text.")
    if len(title) > TITLE_LIMIT:
        raise SavedReplyError(f"The title may have at most {TITLE_LIMIT} characters; this one has {len(title)}.")
    if len(text) > TEXT_LIMIT:
        raise SavedReplyError(f"The text may have at most {TEXT_LIMIT:,} characters; this one has {len(text):,}.")
    return title, text


def create(admin: User, title: str, text: str) -> SavedReply:
    """Store a new saved reply for ``admin``'s account."""
    title, text = _checked(title, text)
    return SavedReply.create(account=admin.account_id, title=title, text=text)


def update(reply: SavedReply, title: str, text: str) -> None:
    """Change a saved reply's title and text."""
    reply.title, reply.text = _checked(title, text)
    reply.save()


def delete(reply: SavedReply) -> None:
    """Remove a saved reply (replies already sent with it are unchanged)."""
    reply.delete_instance()


def with_saved(text: str, saved: SavedReply | None) -> str:
    """The reply text with the chosen saved reply inserted after what was typed."""
    if saved is None:
        return text
    return f"{(text or '').rstrip()}\n\n{saved.text}".strip()
