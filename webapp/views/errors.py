"""Error pages (403, 404, 405, 500, CSRF) in the site's layout, or as htmx partials."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import render

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
}


def _page(code: int, message: str):
    return render("errors/page.html", "errors/_message.html", status=code,
                  code=code, title=TITLES.get(code, "Error"), message=message)


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    # A session that expired took its CSRF token with it: that is a login problem,
    # answered like any request without a session (HX-Redirect for htmx).
    if not current_user.is_authenticated and request.endpoint != "auth.login":
        return current_app.login_manager.unauthorized()
    return _page(400, "The form has expired or was not sent from Streamdesk "
                      f"({exc.description}). Reload the page and try again.")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    code = exc.code or 500
    defaults = {
        403: "You do not have access to this page.",
        404: "There is nothing at this address.",
    }
    description = exc.description if exc.description and not exc.description.startswith(
        ("The server", "The requested URL", "You don't have", "The method")) else None
    return _page(code, description or defaults.get(code, TITLES.get(code, "Error") + "."))


@bp.app_errorhandler(InternalServerError)
def server_error(exc):
    log.exception("unhandled error", exc_info=getattr(exc, "original_exception", exc))
    return _page(500, "An unexpected error happened; it has been logged. Please try again.")
