"""Graph API versions: expired versions are served by the oldest usable one, calls without
a version by the app's default; the plugin pins one version whatever the base URL says."""
from dataclasses import replace
from datetime import date

import pytest

from emulators.facebook import versions as served_versions
from plugins.facebook import versions
from webapp.diagnostics import api_version_warnings
from webapp.plugins import Plugins

from .conftest import BLUEBIRD


def test_expired_unknown_and_unversioned_calls(fb):
    """developers.facebook.com/docs/apps/versions ("Version Schedules"): "A version will no
    longer be usable two years after the date that the subsequent version is released …
    once a version is no longer usable, any calls made to it will be defaulted to the next
    oldest, usable version"; "if you do not specify a version, the call defaults to the
    app's version" (Making Versioned Requests). The ``facebook-api-version`` header names
    the version that served the call."""
    token = fb.page_token()
    today = fb.state.now().date()
    oldest = served_versions.live(today)[0]
    for expired in ("v19.0", "v2.5"):
        response = fb.http.get(f"{fb.url}/{expired}/{BLUEBIRD}", params={"access_token": token})
        assert response.status_code == 200 and response.headers["facebook-api-version"] == oldest
    unversioned = fb.http.get(f"{fb.url}/{BLUEBIRD}", params={"access_token": token})
    assert unversioned.status_code == 200
    assert unversioned.headers["facebook-api-version"] == served_versions.served(served_versions.APP_DEFAULT, today)
    unknown = fb.http.get(f"{fb.url}/v99.0/{BLUEBIRD}", params={"access_token": token})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 2500
    assert "facebook-api-version" not in unknown.headers
    current = fb.get(BLUEBIRD, token)
    assert current.headers["facebook-api-version"] == "v25.0"


def test_version_table_follows_the_two_year_rule():
    assert served_versions.expires("v24.0") == date(2028, 2, 18)  # two years after v25.0's release
    assert served_versions.served("v20.0", date(2026, 11, 1)) == "v21.0"
    assert served_versions.served("v21.0", date(2026, 11, 1)) == "v21.0"


def test_plugin_pins_its_version_whatever_the_base_url(fb, fb_plugins, config):
    """The plugin calls its pinned version even when FACEBOOK_API_URL names none or
    another one (Graph would otherwise serve the app's default version)."""
    for api_url in (fb.url, f"{fb.url}/", f"{fb.url}/v20.0", f"{fb.url}/v25.0"):
        fb.clear_calls()
        config = replace(config, api_url=api_url, auth_url=api_url)
        fb_plugins.call("streamdesk_search", "facebook", config, query="Bluebird Coffee", credentials=None)
        paths = {r["path"] for r in fb.requests()}
        assert f"/{versions.PINNED}/pages/search" in paths and all(p.startswith(f"/{versions.PINNED}/") for p in paths)
        details = fb_plugins.call("streamdesk_link_details", "facebook", config)
        assert details.authorize_url == f"{fb.url}/{versions.PINNED}/dialog/oauth"


def test_the_pinned_version_and_its_end_of_life_are_declared():
    """Release and end-of-life dates come from the Graph API changelog; a version ends two
    years after the next one's release (v26.0: 29 July 2026)."""
    service = Plugins().get("facebook").service
    assert service.api_version == versions.PINNED == "v25.0"
    assert service.api_version_end_of_life == date(2028, 7, 29)


@pytest.mark.parametrize("today,warn", [(date(2028, 4, 30), False), (date(2028, 5, 1), True),
                                        (date(2028, 7, 28), True)])
def test_admins_are_warned_from_ninety_days_before_the_end(today, warn):
    services = Plugins().services
    warnings = api_version_warnings(services, today)
    assert bool([w for w in warnings if "Facebook" in w and "(v25.0)" in w]) is warn
