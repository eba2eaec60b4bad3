"""Links people follow from Streamdesk to a page or a story.

In production they are the links Graph returns (``link``, ``permalink_url`` on
www.facebook.com). In sandbox mode those would open the real Facebook, where the
emulator's pages and posts do not exist, so the links are built on the emulator's own
origin instead — it serves ``/pages/<id>`` and ``/posts/<id>`` (see
``emulators.facebook.site``). The origin comes from ``config.api_url`` like every other
URL of the plugin, so the emulator is reached wherever it runs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from urllib.parse import quote, urlsplit

from streamdesk_contract.values import CrawlPage, PageInfo, ServiceConfig

#: Graph's production host: a sandbox configured with it has no emulator pages to link.
PRODUCTION_HOSTS = {"graph.facebook.com"}


def site(config: ServiceConfig) -> str | None:
    """The emulator's origin to link to in sandbox mode; ``None`` keeps Facebook's links."""
    if not config.sandbox or not config.api_url:
        return None
    parts = urlsplit(config.api_url)
    if not parts.scheme or not parts.netloc or parts.hostname in PRODUCTION_HOSTS:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def page_url(origin: str, page_id: str) -> str:
    """The emulator's page for ``page_id``."""
    return f"{origin}/_web/pages/{quote(page_id, safe='')}"


def post_url(origin: str, story_id: str) -> str:
    """The emulator's page for the story ``story_id`` (``<page id>_<post id>``)."""
    return f"{origin}/_web/posts/{quote(story_id, safe='')}"


def pages(config: ServiceConfig, found: list[PageInfo]) -> list[PageInfo]:
    """``found`` (search results), linked to the emulator in sandbox mode."""
    origin = site(config)
    if origin is None:
        return found
    return [dataclasses.replace(p, url=page_url(origin, p.page_id)) for p in found]


def managed(config: ServiceConfig, listed: list) -> list:
    """Managed pages, their :class:`PageInfo` linked to the emulator in sandbox mode."""
    origin = site(config)
    if origin is None:
        return listed
    return [dataclasses.replace(m, page=dataclasses.replace(m.page, url=page_url(origin, m.page.page_id)))
            for m in listed]


def crawl_pages(config: ServiceConfig, crawled: Iterable[CrawlPage]) -> Iterable[CrawlPage]:
    """The crawl's pages, their stories linked to the emulator in sandbox mode (lazily:
    the crawl stays one provider page at a time)."""
    origin = site(config)
    if origin is None:
        return crawled
    return _relinked(origin, crawled)


def _relinked(origin: str, crawled: Iterable[CrawlPage]) -> Iterator[CrawlPage]:
    for page in crawled:
        stories = tuple(dataclasses.replace(s, url=post_url(origin, s.external_id)) for s in page.stories)
        yield dataclasses.replace(page, stories=stories)
