"""Links people follow from Streamdesk to an account or a post.

The plugin builds them on ``https://x.com`` (``/<handle>``, ``/<handle>/status/<id>``).
In sandbox mode those would open the real X, where the emulator's accounts and posts
do not exist, so they are built on the emulator's base URL (``config.api_url``) instead:
the emulator serves the same paths as simple web pages (see ``emulators.twitter.site``).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from streamdesk_contract.values import CrawlPage, PageInfo, ServiceConfig

#: Where X serves profiles and posts.
X_SITE = "https://x.com"
#: X's production API host: a sandbox configured with it has no emulator pages to link.
PRODUCTION_API = "https://api.x.com"


def site(config: ServiceConfig) -> str | None:
    """The emulator's base URL to link to in sandbox mode; ``None`` keeps x.com links."""
    base = (config.api_url or "").rstrip("/")
    if not config.sandbox or not base.startswith(("http://", "https://")) or base == PRODUCTION_API:
        return None
    return base


def rebased(origin: str | None, url: str | None) -> str | None:
    """``url`` on x.com moved to ``origin`` (same path); anything else unchanged."""
    if origin is None or not url or not url.startswith(X_SITE + "/"):
        return url
    return origin + url[len(X_SITE):]


def pages(config: ServiceConfig, found: list[PageInfo]) -> list[PageInfo]:
    """Search results linked to the emulator in sandbox mode."""
    origin = site(config)
    return [dataclasses.replace(p, url=rebased(origin, p.url)) for p in found] if origin else found


def managed(config: ServiceConfig, listed: list) -> list:
    """Managed pages, their :class:`PageInfo` linked to the emulator in sandbox mode."""
    origin = site(config)
    if origin is None:
        return listed
    return [dataclasses.replace(m, page=dataclasses.replace(m.page, url=rebased(origin, m.page.url)))
            for m in listed]


def crawl_pages(config: ServiceConfig, crawled: Iterable[CrawlPage]) -> Iterable[CrawlPage]:
    """The crawl's pages, their stories linked to the emulator in sandbox mode (lazily)."""
    origin = site(config)
    return crawled if origin is None else _relinked(origin, crawled)


def _relinked(origin: str, crawled: Iterable[CrawlPage]) -> Iterator[CrawlPage]:
    for page in crawled:
        stories = tuple(dataclasses.replace(s, url=rebased(origin, s.url)) for s in page.stories)
        yield dataclasses.replace(page, stories=stories)
