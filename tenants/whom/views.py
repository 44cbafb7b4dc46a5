from __future__ import annotations

from flask import Blueprint

bp = Blueprint("whom", __name__, url_prefix="/m/<code>")
