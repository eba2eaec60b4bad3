"""The main navigation: Topics, Inbox, Metrics."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import login_required

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return redirect(url_for("main.topics"))


@bp.route("/topics")
@login_required
def topics():
    """The account's topics and the state of their streams."""
    return render_template("main/topics.html")


@bp.route("/inbox")
@login_required
def inbox():
    """Comments and messages to answer, from the account's streams."""
    return render_template("main/inbox.html")


@bp.route("/metrics")
@login_required
def metrics():
    """Post- and page-level figures of the account's streams."""
    return render_template("main/metrics.html")
