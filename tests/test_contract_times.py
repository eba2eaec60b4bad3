"""``streamdesk_contract.times.parse_time``: the one parser of provider times.

Each provider's own shapes (from its reference and the emulators), other offsets, the
RFC 3339 shapes that take the second try, and what must be refused: the plugins' guard
turns that refusal into ProviderUnavailable (tests/facebook/test_plugin_malformed.py and
tests/twitter/test_malformed.py check it through the emulators).
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulators.facebook.render import graph_time
from emulators.twitter.clock import x_time
from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.pluginkit import Malformed, readable_answers
from streamdesk_contract.times import parse_time

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, expected", [
    ("2024-05-01T12:00:00+0000", NOON),                                  # Graph
    ("2024-05-01T12:00:00.000Z", NOON),                                  # X
    ("2024-05-01T12:00:00.250Z", NOON.replace(microsecond=250_000)),
    ("2024-05-01T14:00:00+0200", NOON),                                  # another offset: read as UTC
    ("2024-05-01T08:00:00-04:00", NOON),
    ("2024-05-01T12:00:00Z", NOON),
    ("2024-05-01t12:00:00z", NOON),                                      # RFC 3339 allows lower case
    (" 2024-05-01T12:00:00Z\n", NOON),
])
def test_provider_times_become_aware_utc(value, expected):
    parsed = parse_time(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_what_the_emulators_send_reads_back_to_the_same_instant():
    at = datetime(2026, 3, 8, 7, 59, 58, tzinfo=UTC)
    assert parse_time(graph_time(at)) == at
    assert parse_time(x_time(at.timestamp())) == at


@pytest.mark.parametrize("value, message", [
    ("yesterday", "not a date and time: 'yesterday'"),
    ("2021-13-45T99:00:00+0000", "not a date and time"),
    ("", "not a date and time"),
    ("2024-05-01T12:00:00", "a time without its UTC offset"),
    ("2024-05-01", "a time without its UTC offset"),
    (1625428258, "a time that is not a string: int"),
    (None, "a time that is not a string: NoneType"),
])
def test_what_is_not_a_provider_time_is_malformed(value, message):
    with pytest.raises(Malformed, match=message.replace("(", r"\(")):
        parse_time(value)


def test_a_malformed_time_in_a_guarded_hook_is_a_readable_provider_error():
    @readable_answers("Mastodon")
    def streamdesk_crawl(service, config, stream, credentials, cursor):
        yield parse_time("2024-05-01T12:00:00Z")
        yield parse_time("not a time")

    pages = streamdesk_crawl(service="mastodon", config=None, stream=None, credentials=None, cursor=None)
    assert next(pages) == NOON
    with pytest.raises(ProviderUnavailable, match="Mastodon sent an answer Streamdesk could not read"):
        next(pages)
