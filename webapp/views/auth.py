"""Logging in and out."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..accounts import AccountError, TooManyAttempts, authenticate, end_login, start_login
from . import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; failed attempts are rate limited per e-mail and address."""
    if current_user.is_authenticated:
        return redirect(url_for("main.topics"))
    error, email, status = None, "", 200
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            user = authenticate(email, request.form.get("password", ""), request.remote_addr or "?")
        except AccountError as exc:
            error, status = str(exc), 429 if isinstance(exc, TooManyAttempts) else 400
        else:
            login_user(start_login(user), remember=bool(request.form.get("remember")))
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=email), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST only, with CSRF, so a link elsewhere cannot log people out).

    Ends the login itself, not just this browser's cookies: a copy of the session or
    remember-me cookie stops working too.
    """
    end_login(current_user)
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), code=303)
