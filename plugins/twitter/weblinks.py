"""Links people follow from Streamdesk to an account or a post.

The plugin builds them on ``https://x.com`` (``/<handle>``, ``/<handle>/status/<id>``).
In sandbox mode they move to the emulator's origin (:mod:`streamdesk_contract.weblinks`),
which serves the same paths as simple web pages (see ``emulators.twitter.site``).
"""
from __future__ import annotations

from streamdesk_contract.weblinks import SandboxLinks

#: Where X serves profiles and posts.
X_SITE = "https://x.com"


def rebased(origin: str, url: str | None) -> str | None:
    """``url`` on x.com moved to ``origin`` (same path); anything else unchanged."""
    if not url or not url.startswith(X_SITE + "/"):
        return url
    return origin + url[len(X_SITE):]


#: X's production API host: a sandbox configured with it has no emulator pages to link.
LINKS = SandboxLinks(production_hosts=frozenset({"api.x.com"}),
                     page_url=lambda origin, page: rebased(origin, page.url),
                     story_url=lambda origin, story: rebased(origin, story.url))
