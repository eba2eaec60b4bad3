"""Crawl semantics: upserts by provider id, the cursor moving with its rows, errors mapped."""
import datetime
import re

import pytest

from streamdesk_contract.errors import NotFound, RateLimited
from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.values import Comment as CommentValue
from streamdesk_contract.values import CrawlPage, Service
from streamdesk_contract.values import Message as MessageValue
from streamdesk_contract.values import Story as StoryValue
from webapp.config import load_settings
from webapp.crawl import crawl, ingest
from webapp.models import Comment, Message, Story, Stream, Topic
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream

T = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)


def page(cursor, n, text="hello"):
    return CrawlPage(cursor=cursor,
                     stories=tuple(StoryValue(f"s{i}", T, text=f"{text} {i}") for i in range(n)),
                     comments=(CommentValue("c1", "s0", T, text=text), CommentValue("c2", "s0", T, parent_id="c1")),
                     messages=(MessageValue("m1", "t1", T, text=text),))


@pytest.fixture
def stream(account):
    return new_stream(Topic.create(account=account, name="T"), service="scripted", page_id="p1", name="P")


def test_ingest_is_idempotent_and_keeps_stories_current(stream):
    ingest(stream, page("1", 3))
    ingest(stream, page("1", 3))
    ingest(stream, page("2", 3, text="edited"))
    assert Story.select().count() == 3 and Comment.select().count() == 2 and Message.select().count() == 1
    assert Story.get(Story.external_id == "s2").text == "edited 2"
    assert Story.get(Story.external_id == "s2").created_at == T.replace(tzinfo=None)
    assert Comment.get(Comment.external_id == "c2").parent_external_id == "c1"


class Scripted:
    """A provider plugin whose crawl replays a script of pages and errors."""

    script: list = []

    @hookimpl
    def streamdesk_services(self):
        return Service(name="scripted", label="Scripted")

    @hookimpl
    def streamdesk_crawl(self, service, config, stream, credentials, cursor):
        if service != "scripted":
            return None
        return self._pages()

    def _pages(self):
        for step in self.script:
            if isinstance(step, Exception):
                raise step
            if callable(step):  # something that happens meanwhile, as the next page is fetched
                step()
                continue
            yield step


def run(environ, stream, *script) -> str:
    Scripted.script = list(script)
    return crawl(Runtime(load_settings(environ), Plugins(extra=[Scripted()])), Stream.get_by_id(stream.id))


def test_a_crawl_interrupted_midway_keeps_what_it_stored(environ, stream):
    outcome = run(environ, stream, page("c1", 2), page("c2", 4), RuntimeError("worker killed"))
    fresh = Stream.get_by_id(stream.id)
    assert outcome == "error" and fresh.status == "error"
    assert fresh.cursor == "c2" and Story.select().count() == 4  # both pages, with their cursor
    assert "failed unexpectedly" in fresh.status_message
    assert run(environ, stream, page("c3", 5)) == "active"
    assert Stream.get_by_id(stream.id).cursor == "c3" and Story.select().count() == 5


def test_rate_limits_reschedule_without_failing(environ, stream):
    Stream.update(status="active", last_crawled_at=T.replace(tzinfo=None)).where(Stream.id == stream.id).execute()
    assert run(environ, stream, page("c1", 1), RateLimited(900)) == "rate limited"
    fresh = Stream.get_by_id(stream.id)
    assert fresh.status == "active" and fresh.cursor == "c1"
    assert re.search(r"Waiting for \w+.s rate limit until \d\d:\d\d UTC", fresh.status_message)
    wait = fresh.next_crawl_at - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert 850 < wait.total_seconds() <= 900


def test_provider_errors_are_shown_and_retried_soon_then_less_often(environ, stream):
    def retried_in():
        fresh = Stream.get_by_id(stream.id)
        assert fresh.status == "error" and fresh.status_message == "The page no longer exists."
        return (fresh.next_crawl_at - datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)).total_seconds()

    assert run(environ, stream, NotFound("The page no longer exists.")) == "error"
    assert 50 < retried_in() <= 60  # a first failure: most 5xx storms are over within a minute
    assert run(environ, stream, NotFound("The page no longer exists.")) == "error"
    assert 590 < retried_in() <= 600  # still failing: no point asking every minute


def test_a_page_that_fails_midway_stores_nothing_and_keeps_the_cursor(environ, stream):
    broken = CrawlPage(cursor="c2", stories=(StoryValue("ok", T), StoryValue("bad", None)))  # NOT NULL violated
    assert run(environ, stream, page("c1", 2), broken) == "error"
    fresh = Stream.get_by_id(stream.id)
    assert fresh.cursor == "c1"  # the cursor never passes rows it did not store
    assert not Story.select().where(Story.external_id == "ok").exists()
    assert Story.select().count() == 2
