"""Who is acting: the signed-in user of the request, or nobody (CLI commands, imports run by commands)."""

from __future__ import annotations

from flask_login import current_user


def acting_user_id() -> int | None:
    try:
        return current_user.id if current_user.is_authenticated else None
    except (AttributeError, RuntimeError):  # outside a request (CLI)
        return None
