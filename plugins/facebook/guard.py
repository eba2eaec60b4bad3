"""One guard around every hook: an answer Facebook sent that the plugin cannot read.

Graph's answers are read as plain JSON. An answer with a field missing or of an odd
type (a feed item without ``created_time``, a search hit without ``id``, a paging link
without its position) ends in :class:`~streamdesk_contract.errors.ProviderUnavailable`, which the core
retries later, through the shared guard of :mod:`streamdesk_contract.pluginkit`.
"""
from __future__ import annotations

from streamdesk_contract.pluginkit import Malformed, readable_answers, unreadable_message

__all__ = ["MALFORMED_MESSAGE", "Malformed", "readable"]

MALFORMED_MESSAGE = unreadable_message("Facebook")
#: Decorates every hook (and guards the crawl's iterator while it runs).
readable = readable_answers("Facebook")
