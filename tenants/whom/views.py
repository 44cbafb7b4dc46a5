"""誰に連絡？ — the search page and its as-you-type results fragment."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, make_response, render_template, request
from markupsafe import Markup

from portal.accounts.models import Role
from portal.search import bounded_query, query_error
from portal.security.policy import allow
from portal.timeutil import today_jst
from portal.urls import url_pattern
from tenants.navigation import nav_item
from tenants.whom import services
from tenants.whom.highlight import highlight

bp = Blueprint("whom", __name__, url_prefix="/m/<code>")
nav_item("whom", "誰に連絡？", "whom.search", (Role.DESK, Role.ADMIN), order=30)


def _marker(terms: tuple[str, ...]) -> Callable[[str | None], Markup]:
    """highlight() for this page's terms, once per distinct text (categories and tags repeat on every card)."""
    marked: dict[str | None, Markup] = {}

    def mark(text: str | None) -> Markup:
        if text not in marked:
            marked[text] = highlight(text, terms)
        return marked[text]

    return mark


def _render(template: str) -> Response:
    raw = request.args.get("q", "")
    results = services.search(bounded_query(raw), today_jst())
    response = make_response(
        render_template(template, results=results, mark=_marker(results.terms), search_error=query_error(raw),
                        org_url=url_pattern("members.show", "org_id"))
    )
    # Names, phone numbers and e-mail addresses: kept by no cache, not even the back/forward one.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/whom")
@allow(Role.DESK, Role.ADMIN, tenant=True)
def search():
    return _render("whom/search.html")


@bp.get("/whom/results")
@allow(Role.DESK, Role.ADMIN, tenant=True)
def results():
    """The results alone (no layout), fetched by whom.js as the user types."""
    return _render("whom/_results.html")
