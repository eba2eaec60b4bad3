"""The story view (a story's thread and figures), the Inbox's links into it, search,
the "new stories" notice, and every new route refusing another account's ids."""
from __future__ import annotations

import datetime
import re

import pytest
from conftest import PASSWORD, login

from webapp.accounts import create_account, create_user
from webapp.models import Comment, Figure, Story, Topic
from webapp import threads
from factories import new_stream

T = datetime.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def fb(topic):
    return new_stream(topic, service="facebook", page_id="page1", name="Acme Page", authorized=False, status="active")


@pytest.fixture
def post(fb):
    return Story.create(stream=fb, external_id="s1", created_at=T, text="Our spring sale starts today")


def comment(stream, ext, minutes, parent=None, author="u1", story="s1", **fields):
    return Comment.create(stream=stream, external_id=ext, story_external_id=story, parent_external_id=parent,
                          created_at=T + datetime.timedelta(minutes=minutes), author_id=author,
                          author_name=fields.pop("name", f"Person {ext}"), text=fields.pop("text", f"text {ext}"),
                          **fields)


def test_comments_show_as_a_thread_oldest_first(member_client, topic, fb, post):
    a = comment(fb, "a", 1)
    b = comment(fb, "b", 2)
    a1 = comment(fb, "a1", 3, parent="a", author=fb.page_id, name="Acme Page")
    hidden = comment(fb, "a2", 4, parent="a", is_hidden=True)
    html = member_client.get(f"/topics/{topic.id}/stories/{post.id}").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'id="comment-(\d+)"', html)]
    assert order == [a.id, a1.id, hidden.id, b.id]
    replies = html[html.index(f'id="comment-{a.id}"'):html.index(f'id="comment-{b.id}"')]
    assert '<ol class="replies"' in replies and f'id="comment-{a1.id}"' in replies
    assert "Hidden" in html[html.index(f'id="comment-{hidden.id}"'):]


def test_long_threads_show_more_on_request(member_client, topic, fb, post):
    for n in range(threads.THREAD_SIZE + 4):
        comment(fb, f"c{n}", n)
    html = member_client.get(f"/topics/{topic.id}/stories/{post.id}").get_data(as_text=True)
    assert len(re.findall(r'id="comment-\d+"', html)) == threads.THREAD_SIZE
    assert "Show 4 more comments" in html
    every = member_client.get(f"/topics/{topic.id}/stories/{post.id}?comments=all").get_data(as_text=True)
    assert len(re.findall(r'id="comment-\d+"', every)) == threads.THREAD_SIZE + 4


def test_post_figures_with_provider_metric_and_the_capability_note(member_client, topic, fb, post):
    Figure.create(stream=fb, level="post", object_id="s1", name="reach", value=None, provider_metric="post_total_media_view_unique",
                  note="Facebook shares insights only with the page's own admins.")
    Figure.create(stream=fb, level="post", object_id="s1", name="likes", value=42, provider_metric="public_metrics.like_count")
    html = member_client.get(f"/topics/{topic.id}/stories/{post.id}").get_data(as_text=True)
    assert "post_total_media_view_unique" in html and "public_metrics.like_count" in html and ">42<" in html
    assert "not provided" in html
    assert "updates to the 100 most recent posts" in html  # the Facebook plugin's own note


def test_inbox_comments_link_to_their_place_in_the_thread(member_client, topic, fb, post):
    c = comment(fb, "a", 1)
    orphan = comment(fb, "z", 2, story="not-crawled")
    html = member_client.get("/inbox").get_data(as_text=True)
    link = f'/topics/{topic.id}/stories/{post.id}#comment-{c.id}'
    assert f'href="{link}"' in html
    assert html.count("Open in its thread") == 1  # the orphan's story is not there to open
    assert f'id="comment-{c.id}"' in member_client.get(link.split("#")[0]).get_data(as_text=True)
    assert orphan.id


def test_search_finds_story_and_comment_text_ranked_and_marked(member_client, topic, fb, post):
    other = Story.create(stream=fb, external_id="s2", created_at=T + datetime.timedelta(hours=1),
                         text="Nothing about it here")
    comment(fb, "k", 1, story="s2", text="is the SALE on?")
    Story.create(stream=fb, external_id="s3", created_at=T, text="unrelated")
    html = member_client.get(f"/topics/{topic.id}?q=sale").get_data(as_text=True)
    found = [int(i) for i in re.findall(r'id="story-(\d+)"', html)]
    assert found == [post.id, other.id]  # own text first, then the comment's
    assert "spring <mark>sale</mark> starts" in html
    assert "is the <mark>SALE</mark> on?" in html  # why the second one was found


def test_search_keeps_up_with_edits_and_deletes(member_client, topic, fb, post):
    Story.update(text="autumn clearance").where(Story.id == post.id).execute()
    assert 'id="story-' not in member_client.get(f"/topics/{topic.id}?q=sale").get_data(as_text=True)
    assert f'id="story-{post.id}"' in member_client.get(f"/topics/{topic.id}?q=clearance").get_data(as_text=True)
    Story.delete().where(Story.id == post.id).execute()
    assert 'id="story-' not in member_client.get(f"/topics/{topic.id}?q=clearance").get_data(as_text=True)


@pytest.mark.parametrize("q", ['"', "sale*", "NEAR(", "-x", "a OR", "<b>amp</b>", "'; drop"])
def test_search_syntax_is_plain_text(member_client, topic, fb, post, q):
    response = member_client.get(f"/topics/{topic.id}", query_string={"q": q})
    assert response.status_code == 200


def test_highlight_never_makes_markup():
    from webapp.search import highlight

    from markupsafe import escape

    raw = '<img src=x onerror="alert(1)"> amp &amp; sale'
    out = str(highlight(raw, "amp img sale"))
    assert "<img" not in out and "<mark>img</mark>" in out and "<mark>sale</mark>" in out
    # Marks only: without them, exactly the escaped text (no mark inside an entity).
    assert out.replace("<mark>", "").replace("</mark>", "") == str(escape(raw))


def test_new_stories_notice(member_client, topic, fb, post):
    after = f"{post.created_at.isoformat()},{post.id}"
    url = f"/topics/{topic.id}/new?after={after}"
    assert member_client.get(url, headers={"HX-Request": "true"}).status_code == 204
    page = member_client.get(f"/topics/{topic.id}").get_data(as_text=True)
    assert f'hx-get="/topics/{topic.id}/new?after=' in page and 'hx-trigger="every 15s"' in page
    s2 = Story.create(stream=fb, external_id="s2", created_at=T + datetime.timedelta(minutes=5), text="fresh")
    s3 = Story.create(stream=fb, external_id="s3", created_at=T + datetime.timedelta(minutes=6), text="fresher")
    notice = member_client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "2 new stories — show" in notice
    rows = member_client.get(url + "&show=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="story-(\d+)"', rows)] == [s3.id, s2.id]
    assert 'hx-swap-oob="true"' in rows and f"after={s3.created_at.isoformat()},{s3.id}" in rows
    assert member_client.get(url + "x").status_code == 400  # a position it never gave


def test_the_poll_counts_only_the_topics_streams_and_its_filters(member_client, topic, fb, post, caplog):
    import logging

    other_topic = Topic.create(account=topic.account, name="Elsewhere")
    elsewhere = new_stream(other_topic, service="facebook", page_id="page9", name="Elsewhere Page")
    tw = new_stream(topic, service="twitter", page_id="tw1", name="Acme X", authorized=True)
    for n, stream in enumerate((elsewhere, elsewhere, tw, fb)):
        Story.create(stream=stream, external_id=f"n{n}", created_at=T + datetime.timedelta(minutes=n + 1), text="x")
    Story.create(stream=fb, external_id="same-time", created_at=T, text="same time, higher id")
    url = f"/topics/{topic.id}/new?after={post.created_at.isoformat()},{post.id}"
    htmx = {"HX-Request": "true"}
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        notice = member_client.get(url, headers=htmx).get_data(as_text=True)
    # Not the other topic's two: tw's, fb's, and the one at the same time with a higher id.
    assert "3 new stories — show" in notice
    # The login, the topic, the count: no stream rows for a poll without filters.
    assert len([r for r in caplog.records if r.name == "peewee"]) == 3, [r.getMessage() for r in caplog.records]
    assert "1 new story — show" in member_client.get(url + "&service=twitter", headers=htmx).get_data(as_text=True)
    assert "2 new stories — show" in member_client.get(url + f"&stream={fb.id}", headers=htmx).get_data(as_text=True)
    assert member_client.get(url + "&connection=authorized&to=2026-02-01", headers=htmx).status_code == 204


def test_every_new_route_refuses_another_accounts_ids(client, topic, fb, post, account):
    other = create_account("Other")
    create_user(other, "eve@other.test", PASSWORD, role="admin")
    c = comment(fb, "a", 1)
    assert login(client, "eve@other.test").status_code == 302
    after = f"{post.created_at.isoformat()},{post.id}"
    own_topic = Topic.create(account=other, name="Mine")
    for method, url in [("GET", f"/topics/{topic.id}"), ("GET", f"/topics/{topic.id}?stream={fb.id}"),
                        ("GET", f"/topics/{topic.id}/new?after={after}"),
                        ("GET", f"/topics/{topic.id}/stories/{post.id}"),
                        ("GET", f"/topics/{own_topic.id}/stories/{post.id}"),
                        ("POST", f"/topics/{topic.id}"), ("POST", f"/topics/{topic.id}/new"),
                        ("POST", f"/topics/{topic.id}/stories/{post.id}")]:
        response = client.open(url, method=method, headers={"HX-Request": "true"} if "new" in url else {})
        if method == "POST":  # read-only routes: no POST at all, for anyone
            assert response.status_code == 405, (method, url)
        else:
            assert response.status_code == 404, (method, url, response.status_code)
    html = client.get(f"/topics/{own_topic.id}?stream={fb.id}").get_data(as_text=True)
    assert "not in this topic" in html and "Acme" not in html
    assert f"comment-{c.id}" not in client.get("/inbox").get_data(as_text=True)


def test_a_search_page_costs_the_same_queries_however_many_results(member_client, topic, fb, caplog):
    import logging

    def count(url):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert member_client.get(url).status_code == 200
        return len([r for r in caplog.records if r.name == "peewee"])

    Story.create(stream=fb, external_id="only", created_at=T, text="sale")
    comment(fb, "k", 0, story="only", text="no word here")  # the page's comments are looked up (SQLite: ids first)
    few = count(f"/topics/{topic.id}?q=sale")
    for n in range(20):
        Story.create(stream=fb, external_id=f"x{n}", created_at=T, text=f"sale {n}")
        comment(fb, f"k{n}", n, story=f"x{n}", text="sale?")
    assert count(f"/topics/{topic.id}?q=sale") == few


def test_a_story_view_costs_the_same_queries_however_long_its_thread(member_client, topic, fb, post, caplog):
    import logging

    def count():
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert member_client.get(f"/topics/{topic.id}/stories/{post.id}").status_code == 200
        return len([r for r in caplog.records if r.name == "peewee"])

    comment(fb, "first", 0)
    few = count()
    for n in range(40):
        comment(fb, f"c{n}", n, parent="first" if n % 2 else None)
    assert count() == few
    print(f"queries per story view: {few}")


def test_search_reads_the_full_text_index(db, topic, fb, post):
    """The search's condition is one the full-text index serves: FTS5's MATCH on SQLite;
    on PostgreSQL the GIN index on the stored search words (migration 0020), which the
    planner picks for a rare word among many stories."""
    from webapp.feed import Filters, stories_query
    from webapp.search import search_parts

    postgres = "postgres" in type(db).__name__.lower()
    if postgres:  # many stories and comments without the word, statistics up to date
        Story.insert_many([dict(stream=fb.id, external_id=f"h{n}", created_at=T, text=f"hello {n}")
                           for n in range(3000)]).execute()
        Comment.insert_many([dict(stream=fb.id, external_id=f"hc{n}", story_external_id=f"h{n}", created_at=T,
                                  text=f"hello {n}") for n in range(3000)]).execute()
        db.execute_sql("ANALYZE story")
        db.execute_sql("ANALYZE comment")
    own, by_comment = search_parts(stories_query([fb.id], Filters()), "sale")

    def plan(query) -> str:
        sql, params = query.limit(25).sql()
        return " ".join(str(row) for row in db.execute_sql(
            ("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params).fetchall())

    print(plan(own), plan(by_comment))
    if postgres:
        assert "story_text_search" in plan(own) and "comment_text_search" in plan(by_comment)
    else:
        assert "story_fts VIRTUAL TABLE INDEX" in plan(own)
        assert "comment_fts VIRTUAL TABLE INDEX" in plan(by_comment)


def test_search_pages_on_with_more_results_without_repeats(member_client, topic, fb):
    """Ranked results page by keyset on (score, time, id): "More results" is a plain link
    (no JavaScript), and for htmx the next rows alone, to append in its place."""
    from webapp.feed import PAGE_SIZE

    for n in range(PAGE_SIZE + 7):  # ties in score and time: the id still orders them
        Story.create(stream=fb, external_id=f"x{n}", created_at=T + datetime.timedelta(hours=n % 3),
                     text="sale " * (1 + n % 4) + f"number {n}")
        comment(fb, f"k{n}", n, story=f"x{n}", text="sale?" if n % 5 == 0 else "hello")
    Story.create(stream=fb, external_id="only-comment", created_at=T, text="hello")
    comment(fb, "oc", 1, story="only-comment", text="sale")
    html = member_client.get(f"/topics/{topic.id}?q=sale").get_data(as_text=True)
    first = [int(i) for i in re.findall(r'id="story-(\d+)"', html)]
    assert len(first) == PAGE_SIZE
    link = re.search(r'<a href="([^"]+)"\s+hx-get="([^"]+)"[^>]*>More results</a>', html)
    assert link and link.group(1) == link.group(2) and "q=sale" in link.group(1)
    href = link.group(1).replace("&amp;", "&")
    rest_page = member_client.get(href)
    assert rest_page.status_code == 200
    rest = [int(i) for i in re.findall(r'id="story-(\d+)"', rest_page.get_data(as_text=True))]
    assert len(rest) == 8 and not set(first) & set(rest)
    assert set(first) | set(rest) == {s.id for s in Story.select(Story.id)}
    assert rest[-1] == Story.get(Story.external_id == "only-comment").id  # found by its comment: last
    assert "More results" not in rest_page.get_data(as_text=True)
    rows = member_client.get(href, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in rows and [int(i) for i in re.findall(r'id="story-(\d+)"', rows)] == rest
    bad = member_client.get(f"/topics/{topic.id}?q=sale&more=1,x,2")
    assert bad.status_code == 400 and "is not one this page gave" in bad.get_data(as_text=True)


@pytest.mark.parametrize("q, found", [
    ("script", {"tags"}), ("pwned", {"tags"}), ("inj", {"tags"}), ("hx get", {"tags"}),
    ("b com", {"mail"}), ("path", {"url"}), ("e test", {"url"}), ("https", {"url"}), ("ñandú", {"tags"}),
])
def test_both_databases_find_the_words_of_tag_mail_and_url_like_text(member_client, topic, fb, q, found):
    """Words are runs of letters and digits on both databases: PostgreSQL's parser alone
    would drop ``<script>`` as a tag and keep ``a@b.com`` or a URL as one token."""
    texts = {"tags": '<script>window.__pwned = 1</script> <b id="inj" hx-get="/x">Ñandú</b>',
             "mail": "write to a@b.com", "url": "see https://e.test/path", "plain": "nothing here"}
    ids = {Story.create(stream=fb, external_id=name, created_at=T, text=text).id: name for name, text in texts.items()}
    html = member_client.get(f"/topics/{topic.id}", query_string={"q": q}).get_data(as_text=True)
    assert {ids[int(i)] for i in re.findall(r'id="story-(\d+)"', html)} == found


def test_a_search_ranks_the_newest_matches_and_says_when_there_are_more(member_client, topic, fb, monkeypatch):
    """A common word ranks the newest RANKED stories whose text matches (not every one:
    that took 0.7 s at 1,000,000 stories), still finds stories through their comments,
    says that more match, and a date range reaches the older ones."""
    from webapp import feed, search

    ranked = feed.PAGE_SIZE + 2  # the window spills onto a second page
    monkeypatch.setattr(search, "RANKED", ranked)
    monkeypatch.setattr(feed, "RANKED", ranked)
    day = datetime.timedelta(days=1)
    # Stories are crawled newest last (ids grow with time): the window is the newest by id.
    texts = [Story.create(stream=fb, external_id=f"d{n}", created_at=T + n * day, text=f"sale day {n}")
             for n in range(ranked + 4)]
    old_with_comment = texts[1]
    comment(fb, "k1", 1, story=old_with_comment.external_id, text="is the sale still on?")
    html = member_client.get(f"/topics/{topic.id}?q=sale").get_data(as_text=True)
    assert f"More than {ranked} stories match: these are the" in html and f"best of the newest {ranked}" in html
    seen = [int(i) for i in re.findall(r'id="story-(\d+)"', html)]
    assert len(seen) == feed.PAGE_SIZE
    # The pages after it: the rest of the window, then the story found through its comment.
    link = re.search(r'<a href="([^"]+)"[^>]*>More results</a>', html)
    while link:
        rows = member_client.get(link.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        rows = rows.get_data(as_text=True)
        assert "More than" not in rows  # said once, on the first page
        seen += [int(i) for i in re.findall(r'id="story-(\d+)"', rows)]
        link = re.search(r'<a href="([^"]+)"[^>]*>More results</a>', rows)
    assert set(seen[:ranked]) == {s.id for s in texts[4:]} and len(seen[:ranked]) == ranked
    assert seen[ranked:] == [old_with_comment.id]
    # A date range ending before the window reaches the older ones, and says nothing more.
    older = member_client.get(f"/topics/{topic.id}?q=sale&to={(T + 3 * day).date().isoformat()}")
    body = older.get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'id="story-(\d+)"', body)) == sorted(s.id for s in texts[:4])
    assert "More than" not in body


def test_a_search_pages_comments_are_found_however_scattered_their_ids(db, topic, fb, monkeypatch):
    """The comments shown under a page's stories are those that match, whichever id
    ranges they fall in (SQLite asks the index range by range, merging ranges when
    there would be too many)."""
    from webapp import search

    stories = [Story.create(stream=fb, external_id=f"p{n}", created_at=T, text=f"post {n}") for n in range(6)]
    for round_ in range(4):  # ids interleave across stories, and the unrelated ones push them apart
        for n, story in enumerate(stories):
            comment(fb, f"c{round_}-{n}", round_ * 10 + n, story=story.external_id,
                    text="latte please" if (round_ + n) % 3 == 0 else "nothing")
            for k in range(3):
                comment(fb, f"x{round_}-{n}-{k}", 0, story="elsewhere", text="latte elsewhere")
    expected = {s.id: [c.external_id for c in Comment.select().where(Comment.story_external_id == s.external_id,
                                                                     Comment.text == "latte please")
                       .order_by(Comment.created_at, Comment.id)][:2] for s in stories}
    expected = {k: v for k, v in expected.items() if v}
    for gap, most in ((2000, 100), (1, 100), (1, 2)):  # one range; one per comment; merged to fit
        monkeypatch.setattr(search, "COMMENT_ID_GAP", gap)
        monkeypatch.setattr(search, "MAX_RANGES", most)
        found = search.matching_comments(stories, "latte")
        assert {k: [c.external_id for c in v] for k, v in found.items()} == expected, (gap, most)
    assert search._clusters([1, 2, 10, 11, 30], 3) == [(1, 11), (30, 30)]  # three would be over MAX_RANGES (2)
    monkeypatch.setattr(search, "MAX_RANGES", 100)
    assert search._clusters([1, 2, 10, 11, 30], 3) == [(1, 2), (10, 11), (30, 30)]
    assert search._clusters([1, 2, 10, 11, 30], 100) == [(1, 30)]
