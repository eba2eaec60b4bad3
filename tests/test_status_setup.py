"""Account settings → Status warns admins when a plugin's pinned provider API version
ends within 90 days."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streamdesk_contract.hookspecs import hookimpl
from webapp.plugins import Plugins
from streamdesk_contract.values import Service


class Legacy:
    """A third-party plugin pinned to an API version that ends in 30 days."""

    @hookimpl
    def streamdesk_services(self):
        """Declare the service."""
        return Service(name="legacy", label="Legacy Social", api_version="v7",
                       api_version_end_of_life=datetime.now(UTC).date() + timedelta(days=30))


@pytest.fixture
def plugins():
    return Plugins(extra=[Legacy()])


def test_status_warns_of_an_api_version_near_its_end(admin_client, emulator):
    html = admin_client.get("/account/status").get_data(as_text=True)
    assert "Legacy Social: the API version Streamdesk uses (v7) ends on" in html and "(30 days from now)" in html
    assert "Facebook: the API version" not in html  # v25.0 is served until 2028
