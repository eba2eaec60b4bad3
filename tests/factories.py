"""Rows for tests, made the way the application makes them."""
from webapp.models import Stream, TopicStream


def new_stream(topic, **fields) -> Stream:
    """A stream of ``topic``'s account held by ``topic`` — what Add stores once the
    provider has confirmed the page (tests that need no provider make it directly)."""
    stream = Stream.create(account=topic.account_id, **fields)
    TopicStream.create(topic=topic, stream=stream)
    return stream
