"""Fixtures for the X provider: the emulator over real HTTP, its sandbox configuration,
and connected-profile credentials obtained through the real consent page and PKCE.
"""
from __future__ import annotations

import pytest

import emulators
from emulators.twitter import sandbox_config
from plugins.twitter.client import RATES
from streamdesk_contract.values import Credentials, ServiceConfig, StreamRef
from webapp.plugins import Plugins

from .x_helpers import REDIRECT_URI, Emulator, authorize


@pytest.fixture(scope="session")
def running_emulator():
    running = emulators.start("twitter", redirect_uris=[REDIRECT_URI])
    yield running
    running.stop()


@pytest.fixture
def emulator(running_emulator) -> Emulator:
    """The emulator, reset to its seed for this test."""
    emu = Emulator(running_emulator.url)
    emu.control("POST", "/reset")
    RATES.clear()  # the plugin's memory of rate-limit windows belongs to the previous world
    return emu


@pytest.fixture
def config(emulator) -> ServiceConfig:
    return sandbox_config(emulator.url)


@pytest.fixture(scope="session")
def plugins_registry() -> Plugins:
    """The plugins as the core loads them: through the ``streamdesk`` entry points."""
    return Plugins()


@pytest.fixture
def owner_token(emulator, config) -> dict:
    return authorize(emulator, config)


@pytest.fixture
def owner(emulator, config, owner_token, plugins_registry) -> Credentials:
    """The connected profile of @acmecoffee (all scopes), via streamdesk_link_profile."""
    profile = plugins_registry.call("streamdesk_link_profile", "twitter", config, token=owner_token)
    return profile.credentials


@pytest.fixture
def owner_stream(emulator) -> StreamRef:
    return StreamRef(page_id=emulator.user_id("acmecoffee"), authorized=True, handle="acmecoffee")
