"""Security headers on every response. No CDN anywhere, so 'self' is enough."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    _cache_policy(response)
    if request.is_secure and current_app.config["KOSODATE_ENV"] == "production" and current_app.config["HSTS_SECONDS"]:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains")
    return response


def _cache_policy(response: Response) -> None:
    """Pages and downloads for a signed-in user stay out of every cache (shared PCs, proxies, back button).

    Only assets that chose to be cached (static files, the versioned plotly
    bundle: ``max-age`` set by their view) keep their own policy.
    """
    if request.endpoint == "static" or response.cache_control.max_age:
        return
    # The user as already loaded by the policy check or the page (never a new
    # query here: this also runs on error responses after a failed transaction).
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"


def register_security_headers(app: Flask) -> None:
    app.after_request(_add_headers)
