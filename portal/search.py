"""Search boxes (members, 誰に連絡？, the dashboard): one length limit, one message.

A pasted paragraph used to be cut silently (or, URL-encoded past gunicorn's
request line, answered with an English 414). The inputs carry ``maxlength``
and the server answers a longer query with this message on the normal page,
searching for nothing rather than for a fragment the user never chose.
"""

from __future__ import annotations

SEARCH_MAX_CHARS = 100
MSG_QUERY_TOO_LONG = f"検索することばが長すぎます（{SEARCH_MAX_CHARS}文字まで）。短くして、もう一度お試しください。"


def query_too_long(value: str | None) -> bool:
    return len((value or "").strip()) > SEARCH_MAX_CHARS


def bounded_query(value: str | None) -> str:
    """The query as searched: stripped, or empty when over the limit."""
    return "" if query_too_long(value) else (value or "").strip()


def query_error(value: str | None) -> str | None:
    return MSG_QUERY_TOO_LONG if query_too_long(value) else None
