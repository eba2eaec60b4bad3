"""The bare route benchmarks compare pages with: a route of the same app, behind the
same login, rendering the same base layout with an empty body. Registered by the
benchmark only (never in the app), before the app's first request."""
from __future__ import annotations

#: Where :func:`add_bare_route` puts it.
BARE_PATH = "/bench/bare"


def add_bare_route(app) -> str:
    """Register the bare route on ``app``; returns its path."""
    from flask import render_template
    from flask_login import login_required

    @login_required
    def bare():
        return render_template("base.html")

    app.add_url_rule(BARE_PATH, "bench_bare", bare)
    return BARE_PATH
