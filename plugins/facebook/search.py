"""Finding public pages (unauthorized streams) by URL, handle or name.

A URL or handle is looked up directly (one call); a name goes through ``/pages/search``
(which returns few fields) and one batched lookup of the hits for their pictures and
follower counts. The text typed is never fetched as a URL.
"""
from __future__ import annotations

from streamdesk_contract.errors import NotFound
from streamdesk_contract.values import Credentials, PageInfo, ServiceConfig

from .client import GraphClient
from .convert import PAGE_FIELDS, items, node_id, page_info
from .graph_errors import GraphRequestError
from .guard import Malformed
from .urls import parse_query

MAX_RESULTS = 10


def _lookup(client: GraphClient, ident: str) -> PageInfo | None:
    try:
        node = client.get(f"/{ident}", {"fields": PAGE_FIELDS})
    except NotFound:
        return None
    except GraphRequestError as exc:
        if exc.code == 100:
            return None  # the id names something that is not a page (a person, a post)
        raise
    return page_info(node)


def _text_search(client: GraphClient, text: str) -> list[PageInfo]:
    hits = items(client.get("/pages/search", {"q": text, "fields": "id,name,link", "limit": MAX_RESULTS}))
    ids = [node_id(hit) for hit in hits][:MAX_RESULTS]
    if not ids:
        return []
    try:
        nodes = client.get("/", {"ids": ",".join(ids), "fields": PAGE_FIELDS})
    except NotFound:
        return [page_info(hit) for hit in hits]  # one vanished between the calls: keep the basics
    if not isinstance(nodes, dict):
        raise Malformed("a lookup by ids that is not an object of nodes")
    return [page_info(nodes[i]) for i in ids if i in nodes]


def search(config: ServiceConfig, query: str, credentials: Credentials | None) -> list[PageInfo]:
    """The pages ``query`` names, most relevant first (raises InvalidQuery for bad input)."""
    parsed = parse_query(query)
    # The person's user token when there is one (their own quota and access); the app
    # token only for calls made without a person.
    client = GraphClient(config, credentials.access_token if credentials and credentials.access_token else None)
    if parsed.kind in ("id", "username"):
        found = _lookup(client, parsed.value)
        if found is not None:
            return [found]
        if not parsed.loose:
            return []
    return _text_search(client, parsed.value)
