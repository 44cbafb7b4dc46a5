from __future__ import annotations

from flask import Blueprint

bp = Blueprint("transfer", __name__, url_prefix="/m/<code>")
