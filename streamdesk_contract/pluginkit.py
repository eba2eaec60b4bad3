"""Helpers for provider plugin authors (the built-in plugins use them too).

:func:`readable_answers` guards a plugin's hooks against answers of the provider that do
not have the documented shape: reading such JSON raises KeyError, ValueError, TypeError
or AttributeError, which the core would report as a bug in the plugin. The guard turns
them into :class:`~streamdesk_contract.errors.ProviderUnavailable` with a readable message (the core
retries later) and logs what went wrong. It also guards the lazy iterator a crawl hook
returns, while the core consumes it.
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator

from .errors import ProviderUnavailable

log = logging.getLogger(__name__)

#: What reading an unexpected JSON shape raises in Python.
UNREADABLE = (LookupError, ValueError, AttributeError, TypeError, OverflowError)


class Malformed(ValueError):
    """An answer that does not have the shape the provider's reference documents."""


def unreadable_message(label: str) -> str:
    """The message people read when ``label`` (Facebook, X, …) sent an unreadable answer."""
    return f"{label} sent an answer Streamdesk could not read; it will be retried."


def _unreadable(label: str, where: str, exc: BaseException) -> ProviderUnavailable:
    # The log keeps what went wrong; these come from reading bodies, never from tokens.
    log.warning("%s answer unreadable in %s: %s: %.200s", label, where, type(exc).__name__, exc, exc_info=exc)
    return ProviderUnavailable(unreadable_message(label))


def readable_pages(label: str, pages, where: str = "streamdesk_crawl") -> Iterator:
    """``pages`` (a lazy iterator), with the guard applied while it is consumed."""
    try:
        yield from pages
    except UNREADABLE as exc:
        raise _unreadable(label, where, exc) from exc


def readable_answers(label: str) -> Callable:
    """A decorator for hooks: unreadable answers of ``label`` end in ProviderUnavailable.

    A call with the wrong arguments still raises TypeError (that is a bug, not the
    provider's doing); an iterator returned by the hook is guarded as it is consumed.
    """

    def decorate(hook: Callable) -> Callable:
        signature = inspect.signature(hook)

        @functools.wraps(hook)
        def guarded(*args, **kwargs):
            signature.bind(*args, **kwargs)
            try:
                result = hook(*args, **kwargs)
            except UNREADABLE as exc:
                raise _unreadable(label, hook.__name__, exc) from exc
            if isinstance(result, Iterator):
                return readable_pages(label, result, hook.__name__)
            return result

        return guarded

    return decorate
