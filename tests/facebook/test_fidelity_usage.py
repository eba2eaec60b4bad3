"""Graph sends its usage headers only once an app (or page) has made enough calls."""
import json

from plugins.facebook import usage

from .conftest import ACME, BLUEBIRD, public

APP_TOKEN_CALLS_PER_PERCENT = 50  # 5000 calls an hour make 100 %


def test_usage_headers_appear_only_after_enough_calls(fb):
    """"If your app is making enough calls to be considered for rate limiting by our
    system, we return an X-App-Usage HTTP header" (developers.facebook.com/docs/graph-api/
    overview/rate-limiting, "Headers"): a fresh app gets no header, not a 0 %."""
    app = f"{fb.state.app_token()}"
    first = fb.get(ACME, app)
    assert first.ok and "x-app-usage" not in first.headers
    page_token = fb.page_token()
    assert "x-business-use-case-usage" not in fb.get(BLUEBIRD, page_token).headers
    for _ in range(APP_TOKEN_CALLS_PER_PERCENT):
        response = fb.get(ACME, app)
    assert json.loads(response.headers["x-app-usage"])["call_count"] == 1


def test_plugin_works_without_usage_headers(fb, fb_plugins, config):
    """The plugin crawls without a usage header and records no made-up reading."""
    usage.forget()
    pages = list(fb_plugins.call("streamdesk_crawl", "facebook", config, stream=public(ACME), credentials=None,
                                 cursor=None))
    assert sum(len(p.stories) for p in pages) == 100
    assert usage._readings == {}  # absent is not 0 %: nothing is remembered
    usage.before_call(config.api_url, "app", sleep=lambda s: (_ for _ in ()).throw(AssertionError("paused")))
