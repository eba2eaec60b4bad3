"""Links people follow from Streamdesk to a page or a story.

In production they are the links Graph returns (``link``, ``permalink_url`` on
www.facebook.com). In sandbox mode they are built on the emulator's origin instead
(:mod:`streamdesk_contract.weblinks`), which serves ``/_web/pages/<id>`` and
``/_web/posts/<id>`` (see ``emulators.facebook.site``).
"""
from __future__ import annotations

from urllib.parse import quote

from streamdesk_contract.values import PageInfo, Story
from streamdesk_contract.weblinks import SandboxLinks


def page_url(origin: str, page: PageInfo) -> str:
    """The emulator's page for ``page``."""
    return f"{origin}/_web/pages/{quote(page.page_id, safe='')}"


def post_url(origin: str, story: Story) -> str:
    """The emulator's page for ``story`` (its id is ``<page id>_<post id>``)."""
    return f"{origin}/_web/posts/{quote(story.external_id, safe='')}"


#: Graph's production host: a sandbox configured with it has no emulator pages to link.
LINKS = SandboxLinks(production_hosts=frozenset({"graph.facebook.com"}), page_url=page_url, story_url=post_url)
