"""webapp.prepared on the real database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
a prepared query gives the rows peewee gives for the same query, an id list slot takes
any number of ids, and a query's shapes are built once each."""
import datetime

from webapp.models import Story, Stream, Topic, TopicStream
from webapp.prepared import Prepared, PreparedShapes, ids_slot, slot, values_slot

T = datetime.datetime(2026, 11, 1, 12, 0, 30, 250)


def _streams(account, n):
    topic = Topic.create(account=account, name="Ours")
    streams = [Stream.create(account=account, service="facebook", page_id=f"p{i}", name=f"Page {i}",
                             authorized=i % 2 == 0) for i in range(n)]
    for stream in streams:
        TopicStream.create(topic=topic, stream=stream)
    return topic, streams


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in obj._meta.fields}


def test_model_rows_equal_peeweees_own_and_behave_as_models(account):
    topic, streams = _streams(account, 3)
    Story.create(stream=streams[0], external_id="s1", created_at=T, updated_at=None, text="Hello <b>",
                 author_id=None, is_hidden=True, views=7)
    query = (Story.select(Story).join(Stream).where(Stream.account == slot("account_id"))
             .order_by(Story.id))
    prepared = Prepared(lambda: query)
    ours = list(prepared.rows(account_id=account.id))
    theirs = list(Story.select(Story).join(Stream).where(Stream.account == account.id).order_by(Story.id))
    assert [_fields(s) for s in ours] == [_fields(s) for s in theirs]
    story = ours[0]
    assert story.created_at == T and story.is_hidden is True and story.updated_at is None
    assert story.stream_id == streams[0].id and story.stream.name == "Page 0"  # the foreign key still loads
    assert not story.is_dirty()
    story.text = "Changed"  # and a change is saved like any model's
    assert story.dirty_fields == [Story.text]
    story.save()
    assert Story.get_by_id(story.id).text == "Changed"


def test_joined_columns_keep_peewees_own_rows(account):
    """A query selecting another model's columns is left to peewee (its rows nest them)."""
    topic, streams = _streams(account, 2)
    prepared = Prepared(lambda: Stream.select(Stream, TopicStream).join(TopicStream)
                        .where(TopicStream.topic == slot("topic_id")).order_by(Stream.id))
    rows = list(prepared.rows(topic_id=topic.id))
    assert [row.topicstream.topic_id for row in rows] == [topic.id, topic.id]


def test_an_ids_slot_takes_any_number_of_ids(account):
    topic, streams = _streams(account, 5)
    prepared = Prepared(lambda: Stream.select(Stream.id).where(Stream.id.in_(ids_slot("ids")),
                                                               Stream.authorized == slot("authorized"))
                        .order_by(Stream.id).tuples())
    ids = [s.id for s in streams]
    assert [i for (i,) in prepared.rows(ids=ids, authorized=True)] == ids[0::2]
    assert [i for (i,) in prepared.rows(ids=ids[1:2], authorized=False)] == ids[1:2]
    assert list(prepared.rows(ids=[], authorized=True)) == []  # no ids match nothing


def test_each_shape_is_built_once(account):
    topic, streams = _streams(account, 4)
    built = []

    def build(authorized: bool):
        built.append(authorized)
        query = Stream.select().where(Stream.id.in_(ids_slot("ids")))
        if authorized:
            query = query.where(Stream.authorized == True)  # noqa: E712
        return query.order_by(Stream.id)

    shapes = PreparedShapes(build)
    ids = [s.id for s in streams]
    for _ in range(3):
        assert [s.id for s in shapes.of(authorized=True).rows(ids=ids)] == ids[0::2]
        assert [s.id for s in shapes.of(authorized=False).rows(ids=ids)] == ids
    assert sorted(built) == [False, True]


def test_a_values_slot_takes_any_number_of_values(account):
    topic, streams = _streams(account, 4)
    prepared = Prepared(lambda: Stream.select(Stream.id).where(Stream.page_id.in_(values_slot("pages")),
                                                               Stream.account == slot("account_id"))
                        .order_by(Stream.id).tuples())
    assert [i for (i,) in prepared.rows(pages={"p1", "p3", "nope"}, account_id=account.id)] == \
        [streams[1].id, streams[3].id]
    assert [i for (i,) in prepared.rows(pages=["p0"], account_id=account.id)] == [streams[0].id]
    assert list(prepared.rows(pages=[], account_id=account.id)) == []
    # A value is a parameter, never SQL.
    assert list(prepared.rows(pages=["p0') OR ('1'='1"], account_id=account.id)) == []


def test_another_tables_column_under_an_alias_lands_on_the_object(account):
    """As ``.objects()`` puts it: the Topics page lists each stream under its topic."""
    topic, streams = _streams(account, 2)
    prepared = Prepared(lambda: Stream.select(Stream.id, Stream.name, TopicStream.topic.alias("held_by"))
                        .join(TopicStream).where(Stream.account == slot("account_id")).order_by(Stream.id)
                        .objects())
    rows = list(prepared.rows(account_id=account.id))
    assert [(s.id, s.name, s.held_by) for s in rows] == [(s.id, s.name, topic.id) for s in streams]
    assert rows[0].access_token is None  # a column not selected reads as unset, never raises
