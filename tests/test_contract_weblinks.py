"""``streamdesk_contract.weblinks.SandboxLinks``: links moved to the emulator in sandbox
mode, kept as the service sent them otherwise. Both built-in plugins declare theirs with
it; tests/test_sandbox_links.py follows their links through the running emulators."""
from __future__ import annotations

import pytest

from streamdesk_contract.values import CrawlPage, ManagedPage, PageInfo, ServiceConfig, Story
from streamdesk_contract.weblinks import SandboxLinks

LINKS = SandboxLinks(production_hosts=frozenset({"api.example.social"}),
                     page_url=lambda origin, page: f"{origin}/@{page.handle}",
                     story_url=lambda origin, story: f"{origin}/statuses/{story.external_id}")
PAGE = PageInfo(page_id="7", name="Bluebird Coffee", handle="bluebird", url="https://example.social/@bluebird")
STORY = Story(external_id="70", created_at=None, url="https://example.social/statuses/70")


def sandbox(api_url: str) -> ServiceConfig:
    return ServiceConfig(api_url=api_url, sandbox=True)


@pytest.mark.parametrize("config, origin", [
    (sandbox("http://127.0.0.1:8025/v25.0"), "http://127.0.0.1:8025"),   # the path is the API's, not the site's
    (sandbox("https://emulator.test"), "https://emulator.test"),
    (sandbox("https://api.example.social"), None),                       # the real service: nothing to link
    (sandbox("127.0.0.1:8025"), None),                                   # no scheme: not a URL to link
    (sandbox(""), None),
    (ServiceConfig(api_url="http://127.0.0.1:8025"), None),              # not sandbox mode
])
def test_the_emulator_origin_comes_from_the_api_url_in_sandbox_mode_only(config, origin):
    assert LINKS.origin(config) == origin


def test_search_results_and_managed_pages_link_to_the_emulator():
    config = sandbox("http://127.0.0.1:8025")
    assert LINKS.pages(config, [PAGE]) == [PageInfo(page_id="7", name="Bluebird Coffee", handle="bluebird",
                                                     url="http://127.0.0.1:8025/@bluebird")]
    [managed] = LINKS.managed(config, [ManagedPage(page=PAGE, is_admin=True)])
    assert managed.page.url == "http://127.0.0.1:8025/@bluebird" and managed.is_admin


def test_crawl_pages_are_relinked_one_at_a_time():
    taken = []

    def crawl():
        for cursor in ("1", "2"):
            taken.append(cursor)
            yield CrawlPage(cursor=cursor, stories=(STORY,))

    pages = LINKS.crawl_pages(sandbox("http://127.0.0.1:8025"), crawl())
    first = next(iter(pages))
    assert taken == ["1"], "the crawl must stay lazy: one provider page at a time"
    assert first.cursor == "1" and first.stories[0].url == "http://127.0.0.1:8025/statuses/70"


def test_outside_sandbox_mode_everything_is_returned_as_it_came():
    config = ServiceConfig(api_url="https://api.example.social")
    found, crawled = [PAGE], iter([CrawlPage(cursor="1", stories=(STORY,))])
    assert LINKS.pages(config, found) is found
    assert LINKS.crawl_pages(config, crawled) is crawled
