"""A stream's id names that stream forever: ids are never reused, and a crawl or metrics
job of a removed stream writes nothing, even if another account's new stream could
have taken its place (issue 8, item 1)."""
import datetime
import itertools

import pytest
from conftest import login
from test_crawl import Scripted

from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.values import Comment as CommentValue
from streamdesk_contract.values import CrawlPage
from streamdesk_contract.values import Figure as FigureValue
from streamdesk_contract.values import Message as MessageValue
from streamdesk_contract.values import Story as StoryValue
from webapp.accounts import create_account, create_user
from webapp.config import load_settings
from webapp.crawl import crawl, crawl_stream, job_id
from webapp.metrics import refresh
from webapp.models import Account, Comment, Figure, Message, Story, Stream, Topic, User
from webapp.plugins import Plugins
from webapp.streams import Runtime
from factories import new_stream

T = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)


def page(cursor: str, secret: str) -> CrawlPage:
    return CrawlPage(cursor=cursor, stories=(StoryValue(f"s-{cursor}", T, text=secret),),
                     comments=(CommentValue(f"c-{cursor}", f"s-{cursor}", T, text=secret),),
                     messages=(MessageValue(f"m-{cursor}", "t1", T, text=secret),))


class Interleaved(Scripted):
    """The scripted provider, with metrics that run ``between`` first, as another
    request would while the job waits on the provider."""

    between = staticmethod(lambda: None)

    @hookimpl
    def streamdesk_metrics(self, service, config, stream, credentials, story_ids):
        if service != "scripted":
            return None
        self.between()
        return [FigureValue(name="followers", value=7, provider_metric="followers", level="page",
                            object_id=stream.page_id)]


@pytest.fixture
def runtime(environ):
    return Runtime(load_settings(environ), Plugins(extra=[Interleaved()]))


_made = itertools.count()


def _newest_stream(account: Account, name: str) -> Stream:
    return new_stream(Topic.create(account=account, name=f"{name}'s topic {next(_made)}"), service="scripted",
                         page_id=f"page-{name}", name=name, status="queued")


def test_ids_of_removed_rows_are_never_given_again(db, account):
    for model, make in ((Account, lambda: Account.create(name="x")),
                        (Topic, lambda: Topic.create(account=account, name=f"t{next(_made)}")),
                        (Stream, lambda: _newest_stream(account, "s"))):
        first = make()
        first.delete_instance(recursive=True)
        assert make().id > first.id, f"{model.__name__} reused the id of a removed row"


@pytest.fixture
def meanwhile(db):
    """Account A's newest stream, and what happens during its job: A removes it and
    account B adds a stream at once (on SQLite it used to get the same id)."""
    a, b = create_account("A"), create_account("B")
    theirs = _newest_stream(a, "A's page")
    created = {}

    def a_removes_b_adds():
        Stream.get_by_id(theirs.id).delete_instance(recursive=True)
        created["b"] = _newest_stream(b, "B's page")

    Interleaved.between = staticmethod(a_removes_b_adds)
    Interleaved.script = [page("1", "A's first secret"), a_removes_b_adds, page("2", "A's second secret")]
    return theirs, b, created


def test_an_idle_crawl_of_a_stream_removed_meanwhile_says_it_is_gone(client, runtime, meanwhile):
    """A crawl whose pages hold no rows writes only at its end: that UPDATE finds the
    stream removed and the crawl ends as "gone", not as "active"."""
    theirs, b, created = meanwhile
    Interleaved.script = [CrawlPage(cursor="1"), Interleaved.between]
    assert crawl(runtime, Stream.get_by_id(theirs.id)) == "gone"
    assert created["b"].cursor is None  # nothing of A's crawl landed on B's stream


def test_a_crawl_of_a_removed_stream_never_writes_into_a_new_one(client, runtime, meanwhile):
    """None of A's stories, comments or messages may land in B's stream or Inbox."""
    theirs, b, created = meanwhile
    assert crawl(runtime, Stream.get_by_id(theirs.id)) == "gone"
    mine = created["b"]
    assert mine.id != theirs.id
    for model in (Story, Comment, Message):
        assert not model.select().where(model.stream == mine.id).exists()
        assert not model.select().where(model.text.contains("second secret")).exists()
    fresh = Stream.get_by_id(mine.id)
    assert fresh.status == "queued" and fresh.cursor is None  # the old crawl did not touch it either
    create_user(b, "b@b.test", "correct horse battery", role="admin")
    login(client, "b@b.test")
    assert "secret" not in client.get("/inbox").get_data(as_text=True)


def test_a_metrics_refresh_of_a_removed_stream_writes_nothing(runtime, meanwhile):
    theirs, _, created = meanwhile
    Stream.update(status="active").where(Stream.id == theirs.id).execute()
    assert refresh(runtime, Stream.get_by_id(theirs.id)) == "gone"
    assert Figure.select().count() == 0
    assert Stream.get_by_id(created["b"].id).next_metrics_at is None


def test_a_job_carries_its_streams_key(db, account, environ, monkeypatch):
    """A job queued for a stream that is gone (or a job from before keys existed) does
    nothing, and two streams never share a job id, even with the same numeric id."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    stream = _newest_stream(account, "Ours")
    assert stream.job_key and len(stream.job_key) >= 16
    assert job_id(stream.id, stream.job_key) != job_id(stream.id, "another-key")
    assert crawl_stream(stream.id, "another-key") == "gone"
    assert crawl_stream(stream.id) == "gone"  # queued by an older version: no key, no write
    assert Stream.get_by_id(stream.id).status == "queued"
    assert User.select().count() == 0
