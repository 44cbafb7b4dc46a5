"""The landing page `/`: what the service is, and the way in; a logged-in user goes to their home."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template
from flask_login import current_user

from portal.accounts.views import home_for
from portal.security.policy import public

bp = Blueprint("landing", __name__)


@bp.get("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("landing/index.html")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
