"""Answers Facebook sent in a shape the plugin cannot read end in the shared, readable
ProviderUnavailable — never in KeyError, ValueError, AttributeError or TypeError.

The emulator damages real 200 answers on request (``kind: malformed``)."""
import pytest

import plugins.facebook as facebook_plugin
from plugins.facebook.guard import MALFORMED_MESSAGE
from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import Credentials, Interaction

from .conftest import ACME, ALEX, BLUEBIRD, authorized, public
from .test_plugin_crawl import crawl, drain

ACME_FEED = f"/v25.0/{ACME}/feed"
BLUEBIRD_NODE = f"/v25.0/{BLUEBIRD}"


def unreadable(call):
    with pytest.raises(ProviderUnavailable) as caught:
        call()
    assert caught.value.message == MALFORMED_MESSAGE


@pytest.mark.parametrize("damage", [
    {"field": "created_time"},                      # missing
    {"field": "created_time", "value": "yesterday"},  # not Graph's time layout
    {"field": "created_time", "value": 1625428258},   # a number, not a string
    {"field": "updated_time", "value": ["2021"]},
    {"field": "id"},
    {"field": "id", "value": None},
    {"field": "id", "value": {"id": "1"}},
    {"field": "comments", "value": {"data": "none"}},
    {"body": ["not", "an", "object"]},
    {"body": "just text"},
])
def test_a_public_feed_item_that_cannot_be_read(fb, fb_plugins, config, damage):
    fb.fault("malformed", path=ACME_FEED, **damage)
    unreadable(lambda: drain(crawl(fb_plugins, config, public(ACME), None)))
    assert drain(crawl(fb_plugins, config, public(ACME), None)).stories  # the next answer is fine again


@pytest.mark.parametrize("damage", [
    {"within": "feed", "field": "created_time"},
    {"within": "feed", "field": "id"},
    {"within": "feed", "next_drop": ["until"]},
    {"within": "conversations", "field": "id"},
    {"field": "feed", "value": "many"},
])
def test_an_owned_page_answer_that_cannot_be_read(fb, fb_plugins, config, page_credentials, damage):
    fb.fault("malformed", path=BLUEBIRD_NODE, **damage)
    unreadable(lambda: drain(crawl(fb_plugins, config, authorized(), page_credentials())))


def test_an_older_page_or_a_swept_page_that_cannot_be_read(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    fb.fault("malformed", path=f"/v25.0/{BLUEBIRD}/feed", field="created_time", value="2021-13-45T99:00:00+0000")
    unreadable(lambda: drain(crawl(fb_plugins, config, authorized(), credentials)))
    complete = drain(crawl(fb_plugins, config, authorized(), credentials))
    fb.fault("malformed", path=f"/v25.0/{BLUEBIRD}/feed", field="id")  # the next crawl's sweep
    unreadable(lambda: drain(crawl(fb_plugins, config, authorized(), credentials, complete.cursor)))


def test_a_search_hit_without_id(fb, fb_plugins, config):
    fb.fault("malformed", path="/v25.0/pages/search", field="id")
    unreadable(lambda: fb_plugins.call("streamdesk_search", "facebook", config, query="globex coffee",
                                       credentials=None))
    fb.fault("malformed", path="/v25.0/", body={"101938475620394": "not a node"})
    unreadable(lambda: fb_plugins.call("streamdesk_search", "facebook", config, query="globex coffee",
                                       credentials=None))
    fb.fault("malformed", path="/v25.0/acmeoutdoor", field="id", value=True)
    unreadable(lambda: fb_plugins.call("streamdesk_search", "facebook", config, query="@acmeoutdoor",
                                       credentials=None))


@pytest.mark.parametrize("damage", [{"field": "permission"}, {"field": "status", "value": 1},
                                    {"body": {"data": {"permission": "x"}}}])
def test_a_permissions_row_without_permission(fb, fb_plugins, config, damage):
    fb.fault("malformed", path="/v25.0/me/permissions", count=2, **damage)
    token = fb.user_token(ALEX)
    unreadable(lambda: fb_plugins.call("streamdesk_link_profile", "facebook", config, token={"access_token": token}))
    unreadable(lambda: fb_plugins.call("streamdesk_managed_pages", "facebook", config,
                                       credentials=Credentials(access_token=token)))


def test_managed_pages_with_odd_tasks(fb, fb_plugins, config):
    fb.fault("malformed", path="/v25.0/me/accounts", field="tasks", value="MANAGE")
    unreadable(lambda: fb_plugins.call("streamdesk_managed_pages", "facebook", config,
                                       credentials=Credentials(access_token=fb.user_token(ALEX))))


def test_metrics_and_interactions_with_answers_that_are_not_objects(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    story = fb.state.world.posts(BLUEBIRD)[0].id
    fb.fault("malformed", path="/v25.0/", body=[])
    unreadable(lambda: fb_plugins.call("streamdesk_metrics", "facebook", config, stream=authorized(),
                                       credentials=credentials, story_ids=[story], history_since=None))
    fb.fault("malformed", path=f"/v25.0/{BLUEBIRD}/feed", body=["ok"])
    unreadable(lambda: fb_plugins.call("streamdesk_interact", "facebook", config, stream=authorized(),
                                       credentials=credentials, interaction=Interaction("publish", text="Hi")))


def test_a_call_with_wrong_arguments_stays_a_bug(fb_plugins, config):
    with pytest.raises(TypeError):
        facebook_plugin.streamdesk_search(service="facebook", config=config)
