"""The structure holds: no import cycle, no module over 500 lines, each side imports only what it may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trainer", "insight_ui")
MAX_LINES = 500
HEAVY = {"torch", "transformers", "captum", "peft", "accelerate", "umap"}


def modules() -> dict[str, Path]:
    """Every module of the two packages by dotted name (a package is its __init__)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> list[str]:
    """Every module named by an import statement anywhere in the file (lazy ones too)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (`from a import b` counts as a.b when b is a module)."""
    known = modules()
    edges = {}
    for name, path in known.items():
        targets = set()
        for imported in imports(path):
            if imported in known:
                targets.add(imported)
        # `from a.b import c` names both a.b and a.b.c: keep the most specific module named
        edges[name] = {t for t in targets if not any(o != t and o.startswith(t + ".") for o in targets)} - {
            name
        }
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_trainer_or_insight_ui():
    edges = graph()
    assert edges["trainer.cli"], "the graph is built"
    assert cycles(edges) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_500_lines(package):
    long = {
        name: n
        for name, path in modules().items()
        if name.split(".")[0] == package
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_app_never_imports_the_model_libraries_itself():
    offenders = {
        name: sorted(i for i in imports(path) if i.split(".")[0] in HEAVY)
        for name, path in modules().items()
        if name.startswith("insight_ui")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_model_side_never_imports_streamlit_or_the_app():
    offenders = {
        name: sorted(i for i in imports(path) if i.split(".")[0] in ("streamlit", "insight_ui"))
        for name, path in modules().items()
        if name.startswith("trainer")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_adapters_name_a_task():
    """Outside trainer/tasks no module compares a task name by hand: it asks the adapter."""
    comparisons = ("== TOKEN_TASK", "== TEXT_TASK", "!= TOKEN_TASK", "!= TEXT_TASK", '== "token-classification"',
                   '== "text-classification"', "is_token(")  # fmt: skip
    offenders = [
        name
        for name, path in modules().items()
        if not name.startswith("trainer.tasks")
        and any(c in path.read_text(encoding="utf-8") for c in comparisons)
    ]
    assert offenders == []
