"""The structure a maintainer relies on: one owner of the database, one module importing Streamlit, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vsdash"


def module_name(path: Path) -> str:
    """`vsdash/store/rows.py` -> `vsdash.store.rows`; a package's `__init__` is the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (function-level imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def importers_of(prefix: str) -> set[str]:
    """The vsdash modules that import `prefix` or anything under it."""
    return {m for m, found in MODULES.items() if any(i == prefix or i.startswith(prefix + ".") for i in found)}


@pytest.mark.parametrize(
    "library, owners",
    [
        ("sqlalchemy", "vsdash.store"),  # the store owns every SQL statement
        ("adbc_driver_sqlite", "vsdash.store"),
        ("adbc_driver_manager", "vsdash.store"),
        ("adbc_driver_postgresql", "vsdash.store"),
        ("psycopg", "vsdash.store"),
        ("streamlit", "vsdash.ui"),  # one module draws; the rest is testable without Streamlit
    ],
)
def test_one_owner_imports_each_library(library, owners):
    outside = {m for m in importers_of(library) if m != owners and not m.startswith(owners + ".")}
    assert not outside, f"{library} is imported outside {owners}: {sorted(outside)}"


def test_the_vsdash_modules_import_each_other_without_a_cycle():
    graph = {m: {i for i in found if i in MODULES and i != m} for m, found in MODULES.items()}
    # A package's modules may import their package's public names (store/__init__ re-exports them).
    graph = {m: {i for i in deps if not m.startswith(i + ".")} for m, deps in graph.items()}
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_checks_above_can_fail(tmp_path):
    """The import finder sees an import inside a function, the kind a cycle hides behind."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from sqlalchemy import select\n    import streamlit as st\n", encoding="utf-8")
    assert {"sqlalchemy", "sqlalchemy.select", "streamlit"} <= imports(source)
