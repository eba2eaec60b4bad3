"""Encryption of tokens at rest (Fernet: AES-128-CBC + HMAC-SHA256, from cryptography)."""
from __future__ import annotations

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from peewee import TextField

log = logging.getLogger(__name__)
_fernet: MultiFernet | None = None


def init(keys: tuple[str, ...]) -> None:
    """Install the keys of this process: the first encrypts, every one decrypts."""
    global _fernet
    _fernet = MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str) -> str:
    """Encrypt a secret for storage."""
    if _fernet is None:
        raise RuntimeError("webapp.crypto.init() was not called")
    return _fernet.encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Decrypt a stored secret; raises ValueError when no key fits (key lost or changed)."""
    if _fernet is None:
        raise RuntimeError("webapp.crypto.init() was not called")
    try:
        return _fernet.decrypt(value.encode()).decode()
    except InvalidToken:
        raise ValueError("a stored token cannot be decrypted with the configured TOKEN_KEY") from None


class EncryptedTextField(TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def db_value(self, value):
        return None if value is None else encrypt(value)

    def python_value(self, value):
        # A token no key opens (TOKEN_KEY changed or lost) reads as missing: the page
        # still renders and the stream asks for a reconnect, instead of a 500 everywhere.
        if value is None:
            return None
        try:
            return decrypt(value)
        except ValueError:
            log.warning("a stored token cannot be decrypted with the configured TOKEN_KEY")
            return None
