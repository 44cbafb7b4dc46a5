"""A real threaded server and a plain HTTP client, for tests of concurrent requests.

The server is werkzeug's threaded one (as the browser tests' live_server):
each request in its own thread, the app's own database connections.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from tests.factories import PASSWORD

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@contextmanager
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class WebClient:
    """One browser: its own cookies; answers are (status, body), redirects not followed."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        self.base = base
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=self.timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def csrf(self, path: str) -> str:
        status, html = self.request(path)
        match = CSRF.search(html)
        assert match, f"no CSRF token on {path} ({status})"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, token_from: str | None = None) -> tuple[int, str]:
        token = self.csrf(token_from or path)
        return self.request(path, {**(data or {}), "csrf_token": token})

    def login(self, email: str, password: str = PASSWORD) -> None:
        status, _ = self.post("/login", {"email": email, "password": password})
        assert status == 302, f"login of {email} answered {status}"
