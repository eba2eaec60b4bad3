"""Page-post comments come ranked whatever ``order`` asks; the crawler must not rely on
time order to decide where the new comments end."""
from .conftest import ACME, BLUEBIRD, authorized, public
from .test_plugin_crawl import Drained, crawl, drain


def busy_post(fb, page_id: str):
    """A post of ``page_id`` with more comments than the crawler reads nested (25)."""
    return next(p for p in fb.state.world.posts(page_id)
                if len(fb.state.world.comments(p.id)) > 60 and p.is_published and not p.is_hidden)


def test_page_post_comments_are_ranked_regardless_of_order(fb):
    """Graph reference, Object Comments edge (developers.facebook.com/docs/graph-api/
    reference/object/comments): "order … chronological / reverse_chronological. If the
    comments can be ranked, then the order will always be ranked irrespective of this
    modifier. The summary data contains the ordering used"; the live API reports
    ``"order": "ranked"`` in the summary (docs/provider-apis A3)."""
    post = busy_post(fb, BLUEBIRD)
    token = fb.page_token()
    for order in ("chronological", "reverse_chronological"):
        body = fb.get(f"{post.id}/comments", token, order=order, filter="stream", summary="true",
                      limit=100, fields="id,created_time").json()
        assert body["summary"]["order"] == "ranked"
        times = [c["created_time"] for c in body["data"]]
        assert times != sorted(times) and times != sorted(times, reverse=True)
    # Replies to one comment are not ranked: their order is honoured.
    parent = next(c for c in fb.state.world.comments(post.id)
                  if sum(1 for r in fb.state.world.comments(post.id) if r.parent_id == c.id) > 1)
    replies = fb.get(f"{parent.id}/comments", token, order="reverse_chronological", summary="true",
                     fields="id,created_time").json()
    assert replies["summary"]["order"] == "reverse_chronological"
    times = [c["created_time"] for c in replies["data"]]
    assert times == sorted(times, reverse=True)


def _late_comments(fb, post, n: int = 4) -> set[str]:
    # Several new comments: under ranking some land behind old ones, past the nested page.
    return {fb.control("comments", post_id=post.id, message=f"Late comment {i}")["id"] for i in range(n)}


def test_crawler_finds_new_comments_wherever_the_ranking_puts_them(fb, fb_plugins, config, page_credentials):
    """The re-crawl reads every new comment although Graph ranks them among old ones (an
    early stop at the first comment already seen would miss those ranked lower)."""
    credentials = page_credentials()
    first = drain(crawl(fb_plugins, config, authorized(), credentials))
    post = busy_post(fb, BLUEBIRD)
    new = _late_comments(fb, post)
    ranked, body = [], fb.get(f"{post.id}/comments", fb.page_token(), filter="stream", limit=100,
                              fields="id").json()
    while True:
        ranked += [c["id"] for c in body["data"]]
        if "next" not in body.get("paging", {}):
            break
        body = fb.http.get(body["paging"]["next"]).json()
    assert max(ranked.index(c) for c in new) >= 25  # some are past the 25 read nested
    again = drain(crawl(fb_plugins, config, authorized(), credentials, first.cursor))
    assert new <= set(again.comments)


def test_crawler_finds_them_on_public_pages_too(fb, fb_plugins, config):
    first = drain(crawl(fb_plugins, config, public(ACME), None))
    post = busy_post(fb, ACME)
    new = _late_comments(fb, post)
    again = drain(crawl(fb_plugins, config, public(ACME), None, first.cursor), Drained())
    assert new <= set(again.comments)
