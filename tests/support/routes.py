"""Walking ``app.url_map``: every route, with a URL that reaches it."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, Rule

from tests.factories import NIIZA


def routes(app, method: str) -> list[Rule]:
    """The routes answering ``method``, static files aside."""
    return [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"]


def path_for(rule: Rule, **overrides) -> str:
    """A URL for ``rule``: Niiza for the municipality, 1 for ids, "x" for words, unless told."""
    path = rule.rule
    for arg in rule.arguments:
        if arg in overrides:
            value = overrides[arg]
        elif arg in ("code", "mcode"):
            value = NIIZA
        elif isinstance(rule._converters[arg], IntegerConverter):
            value = 1
        else:
            value = "x"
        path = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", str(value), path)
    return path
