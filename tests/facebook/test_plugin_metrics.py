"""Impressions and reach, post and page level, read from the current Graph metric names."""
import pytest

from emulators.facebook.insights import post_views
from plugins.facebook.metrics import metric_value
from streamdesk_contract.errors import PermissionMissing

from .conftest import ACME, BLUEBIRD, authorized, public


def metrics(plugins, config, stream, credentials, story_ids):
    return plugins.call("streamdesk_metrics", "facebook", config, stream=stream, credentials=credentials,
                        story_ids=story_ids, history_since=None)


def by_key(figures):
    """Readings of now by (name, level, object id); daily figures are left out."""
    return {(f.name, f.level, f.object_id): f for f in figures if f.day is None}


def test_post_and_page_figures_with_their_provider_metrics(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    stories = fb.state.world.posts(BLUEBIRD)[:60]
    ids = [p.id for p in stories]
    fb.clear_calls()
    figures = by_key(metrics(fb_plugins, config, authorized(), credentials, ids))
    for story in stories:
        views, viewers = post_views(story)
        impressions = figures[("impressions", "post", story.id)]
        reach = figures[("reach", "post", story.id)]
        assert (impressions.value, impressions.provider_metric) == (views, "post_media_view")
        assert (reach.value, reach.provider_metric) == (viewers, "post_total_media_view_unique")
    page = figures[("impressions", "page", BLUEBIRD)]
    assert page.provider_metric == "page_media_view" and page.value > 0 and "28 days" in page.note
    assert figures[("reach", "page", BLUEBIRD)].provider_metric == "page_total_media_view_unique"
    combined = figures[("impressions_from_posts", "page", BLUEBIRD)]
    assert combined.value == sum(post_views(p)[0] for p in stories) and combined.provider_metric == "post_media_view"
    assert figures[("reach_from_posts", "page", BLUEBIRD)].value == sum(post_views(p)[1] for p in stories)
    # 60 posts: two batched ?ids= lookups (50 + 10), the page's insights (28 days, and
    # the latest days), and the page node for its followers.
    assert fb.calls() == {"GET /v25.0/": 2, f"GET /v25.0/{BLUEBIRD}/insights": 2, f"GET /v25.0/{BLUEBIRD}": 1}


def test_deleted_post_gets_no_value_and_others_still_count(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials()
    first, second = (p.id for p in fb.state.world.posts(BLUEBIRD)[:2])
    fb.state.world.objects[first].deleted = True
    figures = by_key(metrics(fb_plugins, config, authorized(), credentials, [first, second]))
    assert figures[("impressions", "post", first)].value is None
    assert "no longer exists" in figures[("impressions", "post", first)].note
    assert figures[("impressions", "post", second)].value == post_views(fb.state.world.objects[second])[0]


def test_unauthorized_streams_get_no_made_up_figures(fb, fb_plugins, config):
    story = fb.state.world.posts(ACME)[0].id
    figures = metrics(fb_plugins, config, public(ACME), None, [story])
    insights = [f for f in figures if f.name in ("impressions", "reach")]
    assert insights and all(f.value is None and f.note and f.provider_metric for f in insights)
    # Insights are never asked for without the page's token; public counts are.
    assert not any("insights" in call for call in fb.calls())


def test_missing_read_insights_is_named(fb, fb_plugins, config, page_credentials):
    credentials = page_credentials(permissions=("pages_show_list", "pages_read_engagement"))
    with pytest.raises(PermissionMissing) as caught:
        metrics(fb_plugins, config, authorized(), credentials, [fb.state.world.posts(BLUEBIRD)[0].id])
    assert caught.value.permission == "read_insights"


def test_metric_values_in_both_breakdown_shapes():
    rows = [{"name": "page_media_view", "period": "day", "values": [{"value": 5, "end_time": "t1"}],
             "breakdown": {"is_from_ads": "0"}},
            {"name": "page_media_view", "period": "day", "values": [{"value": 7, "end_time": "t1"}],
             "breakdown": {"is_from_ads": "1"}}]
    assert metric_value(rows, "page_media_view") == (12, "t1")
    assert metric_value([{"name": "x", "values": [{"value": {"a": 2, "b": 3}}]}], "x") == (5, None)
    assert metric_value([], "x") == (None, None)
