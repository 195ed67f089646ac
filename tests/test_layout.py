"""labkit's layout: no import cycle (function-level imports included) and the layers hold.

The library (everything outside ``labkit.teaching`` and ``labkit.tooling``) imports neither;
the teaching layer does not import the tooling. Read from the source with ``ast``, so an
import hidden inside a function counts too. (tests/test_tf_private.py checks the other rule:
only labkit/_tf_private.py touches TensorFlow's private API.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labkit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The labkit modules ``name`` imports, anywhere in its source (resolved to modules)."""
    tree = ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # ``from pkg import mod`` imports the module; ``from mod import name`` the module
            # (import-linter's convention: the package's __init__ is not an edge of its own)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name and t != "labkit":
                found.add(t)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def layer(name: str) -> int:
    if name.startswith("labkit.tooling") or name == "labkit.__main__":  # ``python -m labkit``
        return 2
    if name.startswith("labkit.teaching"):
        return 1
    return 0


def test_the_graph_is_read():
    assert "labkit.train.optimizer" in GRAPH["labkit.train.adam"]
    assert "labkit.train.saver" in GRAPH["labkit.checkpoints"] or "labkit.checkpoints" in GRAPH["labkit.train.saver"]


def test_no_import_cycle():
    """Tarjan's strongly connected components: every component is a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles: {cycles}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_respect_the_layers(name):
    upward = sorted(t for t in GRAPH[name] if layer(t) > layer(name))
    assert upward == [], f"{name} (layer {layer(name)}) imports a higher layer: {upward}"
