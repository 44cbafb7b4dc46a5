"""Security headers on every response. No CDN anywhere, so 'self' is enough."""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# Added unless the response set its own (a view may, e.g. a download's CSP).
ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    # What Headers.setdefault does, with one look at the names instead of two scans (and a
    # KeyError raised and caught) per header.
    present = {name.lower() for name, _ in headers.items()}
    for name, value in ALWAYS:
        if name.lower() not in present:
            headers.add(name, value)
    _cache_policy(response)
    if request.is_secure and current_app.config["KOSODATE_ENV"] == "production" and current_app.config["HSTS_SECONDS"] \
            and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains")
    return response


def _cache_policy(response: Response) -> None:
    """Pages and downloads for a signed-in user stay out of every cache (shared PCs, proxies, back button).

    Only assets that chose to be cached (static files, the versioned plotly
    bundle: ``max-age`` set by their view) keep their own policy.
    """
    if request.endpoint == "static" or response.cache_control.max_age:
        return
    # Signed in = flask-login's id in the session; read from the cookie, never a
    # query (this also runs on error pages after a failed transaction).
    if session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"


def register_security_headers(app: Flask) -> None:
    app.after_request(_add_headers)
