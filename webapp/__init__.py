"""Streamdesk: the Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, flash, g, has_request_context, redirect, request, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from . import assets, crypto
from .accounts import LOGIN_LIFETIME, user_of_login
from .config import Settings, is_sandbox, load_settings
from .db import database, open_database
from .plugins import Plugins

log = logging.getLogger(__name__)
csrf = CSRFProtect()
login_manager = LoginManager()
HSTS = "max-age=31536000; includeSubDomains"


class Response(Flask.response_class):
    """Cookies set in answer to an HTTPS request are Secure.

    Behind a proxy that terminates TLS only the request knows the scheme (its trusted
    X-Forwarded-Proto), so the session and remember-me cookies cannot take it from
    static configuration alone.
    """

    def set_cookie(self, key: str, value: str = "", **options) -> None:
        """Set a cookie as werkzeug does, made Secure when the request came over HTTPS."""
        options["secure"] = options.get("secure") or (has_request_context() and request.is_secure)
        super().set_cookie(key, value, **options)


def create_app(settings: Settings | None = None, plugins: Plugins | None = None) -> Flask:
    """Build the app from ``settings`` (default: the environment) and loaded plugins."""
    settings = settings or load_settings()
    plugins = plugins or Plugins()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.response_class = Response
    # People reach Streamdesk over HTTPS: cookies never travel over plain http.
    https_only = settings.public_url.lower().startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Lax keeps the session (and the OAuth state in it) across a provider's redirect back.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=https_only,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=https_only,
        # Each "Keep me logged in" cookie carries its own login, which ends with it.
        REMEMBER_COOKIE_DURATION=LOGIN_LIFETIME,
        # Tokens live as long as the session: a page left open for hours still works.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["streamdesk"] = settings
    app.extensions["streamdesk.plugins"] = plugins
    app.config["SANDBOX"] = is_sandbox(settings, plugins.services)
    crypto.init(settings.token_keys)

    # One pooled connection per web server thread, plus one for the thread that
    # builds the app (a CLI command, a test).
    db = open_database(settings.database_url, max_connections=settings.web_threads + 1)
    app.extensions["streamdesk.db"] = db

    @app.before_request
    def _connect():
        # Close only what this request opened: a caller (a test, a CLI command) may
        # already hold the connection of this thread. Closing hands the connection
        # back to the pool, where this thread's next request takes it again.
        g.opened_db = database.is_closed()
        if g.opened_db:
            database.connect()

    @app.teardown_request
    def _close(exc):
        if g.pop("opened_db", False) and not database.is_closed():
            database.close()

    if settings.trusted_proxies:
        # Behind a reverse proxy the client's address (rate limits) is in X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies)
    Htmx(app)
    csrf.init_app(app)
    from . import linking

    linking.init_app(app, settings, plugins)
    _init_login(app)

    from .views import (account, activity, analytics, auth, engage, errors, exports, feed, inbox, inputs, main,
                        personal, reports, saved_replies, streams, topics, webhooks)

    inputs.init_app(app)  # the ``id`` converter must exist before the blueprints' rules
    from .views import row_url

    app.add_template_global(row_url, "row_url")

    for blueprint in (auth.bp, main.bp, feed.bp, engage.bp, inbox.bp, personal.bp, account.bp, activity.bp,
                      saved_replies.bp, topics.bp, streams.bp, errors.bp, webhooks.bp, analytics.bp, exports.bp,
                      reports.bp):
        app.register_blueprint(blueprint)
    # Providers sign their deliveries; they have no session to carry a CSRF token.
    csrf.exempt(webhooks.bp)

    @app.after_request
    def _headers(response):
        # A URL that answers both a page and an htmx partial must not be cached as one.
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if https_only or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        return response

    def service_label(name: str) -> str:
        """A service's label as its plugin names it ("X (Twitter)"); the bare name when
        no loaded plugin provides it (a stream whose plugin was removed)."""
        loaded = plugins.services.get(name)
        return loaded.service.label if loaded is not None else name

    app.add_template_global(service_label, "service_label")

    @app.context_processor
    def _globals():
        return {
            "sandbox": app.config["SANDBOX"],
            "services": plugins.services,
            "assets_missing": assets.missing(),
        }

    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(login_id: str):
        # Every request checks that its login still exists: logging out, "Log out
        # everywhere" and a password change end logins, whichever cookie carries them.
        return user_of_login(login_id)

    @login_manager.unauthorized_handler
    def _unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if getattr(request, "htmx", False):
            # An htmx request must not swap a login form into a fragment: send the
            # whole browser to the login page instead.
            response = app.response_class("Your session has expired. Please log in again.", status=401)
            response.headers["HX-Redirect"] = url_for("auth.login")
            return response
        flash(login_manager.login_message, "info")
        return redirect(target)
