"""A protocol-faithful emulator of the X API v2 subset Streamdesk uses.

``create_app(base_url)`` returns the WSGI app: API paths as on api.x.com (``/2/…``,
``/oauth2/token``), the consent page as on x.com (``/i/oauth2/authorize``), simple web
pages of accounts and posts on x.com's paths (``/<handle>``, ``/<handle>/status/<id>``:
:mod:`.site`) and a control API under ``/_control``. ``sandbox_config(base_url)`` is the plugin configuration that
talks to it: the client the emulator pre-registers and its base URLs.

Run it alone with ``streamdesk emulate twitter --port N``.
"""
from __future__ import annotations

import time

from flask import Flask

from streamdesk_contract.values import ServiceConfig

from . import activity_api, control, oauth, reads, site, writes
from .activity import Activity
from .problems import ApiError, problem
from .seed import seed
from .state import State

#: The confidential OAuth 2.0 client the emulator pre-registers (sandbox mode uses it).
CLIENT_ID = "c2FuZGJveC1zdHJlYW1kZXNrOjE6Y2k"
CLIENT_SECRET = "sandbox-client-secret-7Qm2xZrV0pL9wT4k"
#: A public (no secret) client, for PKCE without client authentication.
PUBLIC_CLIENT_ID = "cHVibGljLXN0cmVhbWRlc2s6MTpjaQ"
#: The app's consumer keys (API key and secret) and the app-only bearer token they yield.
CONSUMER_KEY = "sandboxConsumerKey8Hd2"
CONSUMER_SECRET = "sandboxConsumerSecret1Wq9Xv5Lm3Rt7Yb2Nc4"
APP_TOKEN = "AAAAAAAAAAAAAAAAAAAAAStreamdeskSandboxAppOnlyBearerToken%3Demulated"


def fresh_state(now: float | None = None, redirect_uris=()) -> State:
    """A seeded world with the pre-registered app (``now``: the moment to seed around)
    whose clients accept ``redirect_uris`` as callback URLs (User authentication
    settings → Callback URI / Redirect URL in the developer portal)."""
    state = State()
    state.clients = {
        CLIENT_ID: {"secret": CLIENT_SECRET, "name": "Streamdesk (sandbox)", "callbacks": list(redirect_uris)},
        PUBLIC_CLIENT_ID: {"secret": None, "name": "Streamdesk (public client)", "callbacks": list(redirect_uris)},
    }
    state.consumer_keys = {CONSUMER_KEY: CONSUMER_SECRET}
    state.app_token = APP_TOKEN
    state.app_tokens = {APP_TOKEN}
    seed(state, now if now is not None else state.clock.now())
    state.activity = Activity(state)  # after the seed: the seed's posts are history, not events
    return state


def _anchor() -> float:
    # Seed around the start of the current hour: the same ids for every reset within a
    # run (and within the hour across runs), while "an hour ago" stays recent.
    return float(int(time.time()) // 3600 * 3600)


def create_app(base_url: str, now: float | None = None, redirect_uris=()) -> Flask:
    """The emulator as a Flask app reachable at ``base_url`` (``now``: seed around it);
    ``redirect_uris`` are the app's registered callback URLs (none: every one refused)."""
    app = Flask(__name__)
    app.config["TWITTER_BASE_URL"] = base_url.rstrip("/")
    anchor = {"now": now if now is not None else _anchor()}
    app.config["TWITTER_STATE"] = fresh_state(anchor["now"], redirect_uris)

    def reset() -> None:
        # A long-running sandbox re-anchors once a day so its seed stays recent.
        """Replace the world with a fresh seed (control API)."""
        if now is None and time.time() - anchor["now"] > 86400:
            anchor["now"] = _anchor()
        app.config["TWITTER_STATE"].activity.stop()  # the old world's deliveries end with it
        app.config["TWITTER_STATE"] = fresh_state(anchor["now"], redirect_uris)

    app.config["TWITTER_RESET"] = reset
    # site: the web pages (x.com's paths) that Streamdesk's links open in sandbox mode.
    for module in (oauth, reads, writes, activity_api, control, site):
        app.register_blueprint(module.bp)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        """Render an ApiError as X's problem response."""
        return exc.response()

    @app.errorhandler(404)
    def not_found(_exc):
        """Unknown paths answer like X: a 404 problem."""
        return problem(404, "Not Found Error", "Sorry, that page does not exist").response()

    @app.errorhandler(405)
    def not_allowed(_exc):
        """A known path with the wrong method: a 405 problem."""
        return problem(405, "Method Not Allowed", "Method Not Allowed").response()

    return app


def sandbox_config(base_url: str) -> ServiceConfig:
    """How the twitter plugin reaches this emulator: pre-registered client, base URLs."""
    base = base_url.rstrip("/")
    return ServiceConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_url=base,
                         auth_url=base + "/i/oauth2", sandbox=True, app_token=APP_TOKEN)
