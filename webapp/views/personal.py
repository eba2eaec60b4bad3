"""Personal settings: the user's own profile, password and connected profiles."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..accounts import AccountError, change_password
from . import plugins, render

bp = Blueprint("personal", __name__, url_prefix="/personal")


@bp.route("/")
@login_required
def index():
    """Personal settings: profile and password."""
    return render("personal/index.html", "personal/_password.html")


@bp.route("/password", methods=["POST"])
@login_required
def password():
    """Change the user's own password."""
    try:
        if request.form.get("new_password") != request.form.get("confirm_password"):
            raise AccountError("The new passwords do not match.")
        change_password(current_user, request.form.get("current_password", ""),
                        request.form.get("new_password", ""))
    except AccountError as exc:
        return render("personal/index.html", "personal/_password.html", status=400, error=str(exc))
    flash("Your password has been changed.", "success")
    if request.htmx:
        return render("personal/index.html", "personal/_password.html", message="Your password has been changed.")
    return redirect(url_for("personal.index"), code=303)


@bp.route("/connected-profiles")
@login_required
def connected_profiles():
    """The services a user can link a personal profile with."""
    return render("personal/connected_profiles.html", "personal/_services.html",
                  loaded=plugins().services.values())
