"""Finding a public X account by profile URL or handle.

X has one answer per handle, so a search is one lookup — ``/2/users/by/username/:name``
(or ``/2/users/:id`` for ``x.com/i/user/<id>`` links) — made only once the query is
known to name an X account (see :mod:`.handles`).
"""
from __future__ import annotations

from streamdesk_contract.values import Credentials, PageInfo, ServiceConfig

from .client import XClient
from .handles import parse_query
from .link import USER_FIELDS, page_info


def search(config: ServiceConfig, query: str, credentials: Credentials | None) -> list[PageInfo]:
    """The account ``query`` names, as a one-item list; [] when X has no such account."""
    ref = parse_query(query)  # InvalidQuery before any call
    client = XClient.for_credentials(config, credentials, invalid_query=True)
    params = {"user.fields": USER_FIELDS}
    if ref.user_id:
        body = client.get(f"/2/users/{ref.user_id}", "GET /2/users/:id", params)
    else:
        body = client.get(f"/2/users/by/username/{ref.username}", "GET /2/users/by/username/:username", params)
    # Unknown and suspended accounts come back as HTTP 200 with only an errors array.
    user = body.get("data")
    return [page_info(user)] if user else []
