"""One guard around every hook: an answer Facebook sent that the plugin cannot read.

Graph's answers are read as plain JSON. An answer with a field missing or of an odd
type (a feed item without ``created_time``, a search hit without ``id``, a paging link
without its position) would otherwise surface as KeyError, ValueError, AttributeError
or TypeError — which the core reports as a bug in the plugin. Such answers are
Facebook's (usually passing) problem, so the guard turns them into
:class:`~webapp.errors.ProviderUnavailable`, which the core retries later.

:func:`readable` wraps a hook; :func:`readable_pages` wraps the crawl's lazy iterator
while it runs. :class:`Malformed` is what the plugin's own checks raise.
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from webapp.errors import ProviderUnavailable

log = logging.getLogger(__name__)

MALFORMED_MESSAGE = "Facebook sent an answer Streamdesk could not read; it will be retried."
#: What reading an unexpected JSON shape raises in Python.
UNREADABLE = (LookupError, ValueError, AttributeError, TypeError, OverflowError)

T = TypeVar("T")


class Malformed(ValueError):
    """An answer that does not have the shape the Graph API documents."""


def unreadable(where: str, exc: BaseException) -> ProviderUnavailable:
    """The typed error for ``exc``; the log keeps what went wrong (never a token: these
    come from reading response bodies, not from requests)."""
    log.warning("Facebook answer unreadable in %s: %s: %.200s", where, type(exc).__name__, exc)
    return ProviderUnavailable(MALFORMED_MESSAGE)


def readable(hook: Callable[..., T]) -> Callable[..., T]:
    """Decorate a hook so that unreadable answers end in ProviderUnavailable."""
    signature = inspect.signature(hook)

    @functools.wraps(hook)
    def guarded(*args, **kwargs):
        signature.bind(*args, **kwargs)  # a call with wrong arguments is a bug, not Facebook's doing
        try:
            return hook(*args, **kwargs)
        except UNREADABLE as exc:
            raise unreadable(hook.__name__, exc) from exc
    return guarded


def readable_pages(pages: Iterable[T]) -> Iterator[T]:
    """The same guard for a lazy iterator, while the core consumes it."""
    try:
        yield from pages
    except UNREADABLE as exc:
        raise unreadable("streamdesk_crawl", exc) from exc
