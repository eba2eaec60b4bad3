"""The plugin contract: loading through entry points and validation."""
import re
import subprocess
import sys

import pytest
from conftest import ROOT, STREAMDESK, login

from streamdesk_contract.errors import InvalidQuery
from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.values import Service, ServiceConfig
from webapp import create_app
from webapp.db import migrate
from webapp.plugins import PluginError, Plugins

FIXTURE_PLUGIN = ROOT / "tests" / "fixtures" / "thirdparty-plugin"


def test_builtin_plugins_load_through_entry_points():
    services = Plugins().services
    assert {"facebook", "twitter"} <= set(services)
    for name in ("facebook", "twitter"):
        assert services[name].plugin_name == name
        assert services[name].distribution.startswith("streamdesk ")  # loaded from the installed distribution


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """The throwaway plugin, pip-installed (with its entry point) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(FIXTURE_PLUGIN)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert list(target.glob("streamdesk_fixture_social-0.0.1.dist-info/entry_points.txt"))
    return target


def test_third_party_plugin_is_offered_in_the_ui(installed_plugin, monkeypatch, environ):
    monkeypatch.syspath_prepend(str(installed_plugin))
    plugins = Plugins()
    loaded = plugins.get("fixture-social")
    assert loaded.distribution == "streamdesk-fixture-social 0.0.1"
    assert loaded.capabilities == ["search", "public pages: 40 most recent posts"]
    pages = plugins.call("streamdesk_search", "fixture-social", ServiceConfig(), query="@bakery", credentials=None)
    assert [p.name for p in pages] == ["Fixture Bakery"]
    with pytest.raises(InvalidQuery, match="not a Fixture Social handle"):
        plugins.call("streamdesk_search", "fixture-social", ServiceConfig(), query="<b>", credentials=None)

    from webapp.accounts import create_account, create_user
    from webapp.config import load_settings

    app = create_app(load_settings(environ), plugins)
    with app.extensions["streamdesk.db"].connection_context():
        migrate(app.extensions["streamdesk.db"])
        create_user(create_account("Acme"), "x@acme.test", "correct horse battery", "member")
        client = app.test_client()
        login(client, "x@acme.test")
        html = client.get("/personal/connected-profiles").get_data(as_text=True)
    assert 'data-service="fixture-social"' in html and "Fixture Social" in html


def test_plugins_command_lists_services_and_capabilities(installed_plugin, tmp_path):
    import os

    env = dict(os.environ, PYTHONPATH=str(installed_plugin), STREAMDESK_INSTANCE=str(tmp_path))
    out = subprocess.run([STREAMDESK, "plugins"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Fixture Social (fixture-social) — plugin 'fixture-social' from streamdesk-fixture-social 0.0.1" in out.stdout
    assert "  - public pages: 40 most recent posts" in out.stdout
    assert "Facebook (facebook) — plugin 'facebook' from streamdesk 0.1.0" in out.stdout
    # The Graph API version the plugin is pinned to, and when Facebook stops serving it.
    assert "  API version v25.0 (served until 2028-07-29)" in out.stdout


class Misspelled:
    @hookimpl
    def streamdesk_services(self):
        return Service(name="oops", label="Oops")

    @hookimpl
    def streamdesk_serch(self, service, config, query, credentials):
        return []


class Duplicate:
    @hookimpl
    def streamdesk_services(self):
        return Service(name="facebook", label="Another Facebook")


class Boastful:
    @hookimpl
    def streamdesk_services(self):
        return Service(name="boast", label="Boast", interactions=frozenset({"like"}))


class BadName:
    @hookimpl
    def streamdesk_services(self):
        return Service(name="Bad Name!", label="Bad")


class NoDeclaration:
    @hookimpl
    def streamdesk_search(self, service, config, query, credentials):
        return None


@pytest.mark.parametrize("plugin, message", [
    (Misspelled(), "unknown hook implemented"),
    (Duplicate(), "service 'facebook' is declared by both"),
    (Boastful(), "declares interactions but does not implement streamdesk_interact"),
    (BadName(), "invalid service name 'Bad Name!'"),
    (NoDeclaration(), "implements no streamdesk_services hook"),
])
def test_broken_plugins_are_refused_with_a_clear_message(plugin, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        Plugins(extra=[plugin])


def test_calling_a_hook_the_service_lacks_is_an_error():
    with pytest.raises(LookupError, match="does not implement streamdesk_crawl"):
        Plugins().call("streamdesk_crawl", "nowhere", ServiceConfig(), stream=None, credentials=None, cursor=None)
