"""Links people follow from Streamdesk to a page or a story, in sandbox mode.

In production a plugin returns the service's own links (``PageInfo.url``, ``Story.url``).
In sandbox mode those would open the real service, where the emulator's pages and posts
do not exist, so they must point at the emulator's own web pages instead. The emulator's
origin comes from ``config.api_url`` like every other URL of the plugin, so it is reached
wherever it runs; a sandbox configured with the production API has no emulator to link.

A plugin declares its :class:`SandboxLinks` (its production API hosts and how it builds an
emulator link) and passes what its hooks return through it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from .values import CrawlPage, ManagedPage, PageInfo, ServiceConfig, Story


@dataclasses.dataclass(frozen=True)
class SandboxLinks:
    """How one plugin moves its links to its emulator in sandbox mode.

    ``production_hosts``: the service's API hosts (``graph.facebook.com``).
    ``page_url(origin, page)`` and ``story_url(origin, story)``: the emulator's link for a
    page or a story, given the emulator's origin (``http://127.0.0.1:8025``).
    """

    production_hosts: frozenset[str]
    page_url: Callable[[str, PageInfo], str | None]
    story_url: Callable[[str, Story], str | None]

    def origin(self, config: ServiceConfig) -> str | None:
        """The emulator's origin to link to; ``None`` keeps the service's own links."""
        if not config.sandbox or not config.api_url:
            return None
        parts = urlsplit(config.api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.hostname in self.production_hosts:
            return None
        return f"{parts.scheme}://{parts.netloc}"

    def pages(self, config: ServiceConfig, found: list[PageInfo]) -> list[PageInfo]:
        """``found`` (search results), linked to the emulator in sandbox mode."""
        origin = self.origin(config)
        if origin is None:
            return found
        return [self._page(origin, p) for p in found]

    def managed(self, config: ServiceConfig, listed: list[ManagedPage]) -> list[ManagedPage]:
        """Managed pages, their :class:`PageInfo` linked to the emulator in sandbox mode."""
        origin = self.origin(config)
        if origin is None:
            return listed
        return [dataclasses.replace(m, page=self._page(origin, m.page)) for m in listed]

    def crawl_pages(self, config: ServiceConfig, crawled: Iterable[CrawlPage]) -> Iterable[CrawlPage]:
        """The crawl's pages, their stories linked to the emulator in sandbox mode (lazily:
        the crawl stays one provider page at a time)."""
        origin = self.origin(config)
        if origin is None:
            return crawled
        return self._relinked(origin, crawled)

    def _page(self, origin: str, page: PageInfo) -> PageInfo:
        return dataclasses.replace(page, url=self.page_url(origin, page))

    def _relinked(self, origin: str, crawled: Iterable[CrawlPage]) -> Iterator[CrawlPage]:
        for page in crawled:
            if page.stories:
                page = dataclasses.replace(page, stories=tuple(_with_url(s, self.story_url(origin, s))
                                                               for s in page.stories))
            yield page


def _with_url(story: Story, url: str | None) -> Story:
    """``story`` with another ``url``. Not ``dataclasses.replace``: that runs ``__init__``
    again for every story of every sandbox crawl (a tenth of a 20,000-post crawl's CPU);
    a Story is a plain frozen dataclass (no ``__post_init__`` to run), so copying its
    fields is the same value."""
    copy = object.__new__(Story)
    copy.__dict__.update(story.__dict__, url=url)
    return copy
