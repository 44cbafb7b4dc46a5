"""The import graph has the arrows dashboard → tenants → portal only (issue 13).

Every import counts, also one inside a function. ``tenants/core`` is what the
features share and imports no feature; a feature may use another's domain
(e.g. members' services), but no two features import each other, directly or
round a loop. ``portal/__init__.py`` wires the features into the application
(``create_app``) and is the one module of the shell allowed to name them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("portal", "tenants", "dashboard")
WIRING = {"portal/__init__.py"}


def _module_exists(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                # ``from tenants import demo`` imports the module tenants.demo.
                found.add(f"{base}.{alias.name}" if _module_exists(f"{base}.{alias.name}") else base)
    return found


def _graph() -> dict[str, set[str]]:
    """{file relative to the root: modules of the checked packages it imports}."""
    out = {}
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            out[path.relative_to(ROOT).as_posix()] = {m for m in _imported(path) if m.split(".")[0] in CHECKED}
    return out


FEATURES = frozenset(
    p.name for p in (ROOT / "tenants").iterdir() if (p / "__init__.py").is_file() and p.name != "core"
)


def _feature(name: str) -> str | None:
    """The feature package a module (dotted) or file (path) belongs to, or None."""
    parts = name.replace("/", ".").removesuffix(".py").split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "tenants" and parts[1] in FEATURES else None


def _arrows(source: str, target: str) -> list[tuple[str, str]]:
    return sorted(
        (path, module) for path, modules in _graph().items() if path.startswith(f"{source}/") and path not in WIRING
        for module in modules if module == target or module.startswith(f"{target}.")
    )


def test_the_features_are_found():
    assert {"members", "network", "handovers", "audit"} <= FEATURES


def test_the_shell_imports_neither_the_tenants_nor_the_dashboard():
    wrong = list(_arrows("portal", "tenants") + _arrows("portal", "dashboard"))
    assert wrong == []


def test_the_tenants_never_import_the_dashboard():
    assert _arrows("tenants", "dashboard") == []


def test_the_core_imports_no_feature():
    wrong = [(path, m) for path, modules in _graph().items() if path.startswith("tenants/core/")
             for m in sorted(modules) if _feature(m)]
    assert wrong == []


def _feature_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {f: set() for f in FEATURES}
    for path, modules in _graph().items():
        source = _feature(path)
        for m in modules:
            target = _feature(m)
            if source and target and target != source:
                edges[source].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[str]:
    """Every loop of ``edges`` once, written from its smallest name (``a → b → a``)."""
    found = []

    def visit(trail: list[str]) -> None:
        for nxt in sorted(edges.get(trail[-1], ())):
            if nxt in trail:
                loop = trail[trail.index(nxt):]
                if min(loop) == loop[0]:
                    found.append(" → ".join([*loop, nxt]))
            else:
                visit([*trail, nxt])

    for node in sorted(edges):
        visit([node])
    return sorted(set(found))


def test_loops_are_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a → b → c → a"]
    assert _cycles({"members": {"network"}, "network": {"members"}}) == ["members → network → members"]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_two_features_import_each_other_directly_or_round_a_loop():
    assert _cycles(_feature_edges()) == []
