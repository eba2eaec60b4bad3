"""A protocol-faithful Facebook Graph API emulator (v25.0 subset Streamdesk uses).

It serves, on one origin, what Facebook serves from two hosts: the Graph API under
``/v25.0/…`` (graph.facebook.com) and the login dialog at ``/v25.0/dialog/oauth``
(www.facebook.com). State lives in memory, seeded deterministically
(:mod:`.seed`); the control API under ``/_control/…`` steers it for tests and demos.

Modules: :mod:`.seed` (data), :mod:`.model` and :mod:`.state` (objects, tokens, faults),
:mod:`.graph` (pipeline and reads), :mod:`.render`, :mod:`.fields`, :mod:`.paging`,
:mod:`.insights` (node rendering), :mod:`.actions` (writes), :mod:`.oauth` (dialog,
tokens), :mod:`.errors` (the error envelope), :mod:`.faults` (forced failures and damaged
answers), :mod:`.control` (control API), :mod:`.site` (the public web pages of pages and posts,
where Streamdesk's links go in sandbox mode).
"""
from __future__ import annotations

from html import escape

from flask import Flask

from streamdesk_contract.values import ServiceConfig

from .seed import APP_ID, APP_SECRET
from .state import State

VERSION = "v25.0"


def create_app(base_url: str, redirect_uris=()) -> Flask:
    """The emulator as a WSGI app reachable at ``base_url`` (used in paging links);
    ``redirect_uris`` are the app's Valid OAuth Redirect URIs (none: every one blocked)."""
    from . import control, graph, oauth, site, versions  # the blueprints import this package's modules

    app = Flask(__name__)
    app.config["FB_STATE"] = State(redirect_uris)
    app.config["EMULATOR_CLOCK"] = lambda: app.config["FB_STATE"].now().timestamp()  # the Date header
    app.config["FB_BASE_URL"] = base_url.rstrip("/")
    app.json.sort_keys = False  # keep Graph's field order
    app.register_blueprint(control.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(graph.bp)
    app.register_blueprint(site.bp)  # the web pages sandbox links open
    app.wsgi_app = versions.Unversioned(app.wsgi_app)

    @app.get("/_static/picture/<object_id>.svg")
    def picture(object_id: str):
        # Profile pictures are CDN images on Facebook; a local SVG keeps sandbox mode offline.
        """A generated avatar for a page or person."""
        obj = app.config["FB_STATE"].world.objects.get(object_id)
        initials = "".join(w[0] for w in getattr(obj, "name", "?").split()[:2]).upper()
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50">'
               '<rect width="50" height="50" fill="#1877f2"/><text x="25" y="32" font-size="18" fill="#fff" '
               f'text-anchor="middle" font-family="sans-serif">{escape(initials)}</text></svg>')
        return svg, 200, {"Content-Type": "image/svg+xml"}

    return app


def sandbox_config(base_url: str) -> ServiceConfig:
    """The ServiceConfig that points the Facebook plugin at an emulator on ``base_url``."""
    base = base_url.rstrip("/")
    return ServiceConfig(client_id=APP_ID, client_secret=APP_SECRET, api_url=f"{base}/{VERSION}",
                         auth_url=f"{base}/{VERSION}", sandbox=True)
