"""The package's shape, checked: small modules, no import cycle, no private name used across modules.

These are the rules of README "How it works" that a reviewer would otherwise grep for. They read the
source with ``ast`` (nothing is imported), so they hold for code paths no other test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rag"
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (``rag.answer.cite``), package ``__init__`` files included."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its body (type-checking and deferred imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                targets.add(child if child in known else base)
    return {t for t in targets if t in known and t != name}


def test_no_module_over_the_line_limit():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_import_cycle():
    known = modules()
    # The root package's __init__ re-exports the public API lazily and is imported by every submodule's
    # own import statement, so it is no edge of the architecture; sub-package __init__ files are docstrings.
    graph = {name: imported_modules(name, path, known) - {"rag"} for name, path in known.items() if name != "rag"}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def private_definitions(tree: ast.AST) -> set[str]:
    """Private names a module defines: its own functions, classes and globals, and its classes' ``self._x`` attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def private_offences(path: Path) -> list[str]:
    """Private names of other modules that the file at ``path`` imports or reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = private_definitions(tree)
    offences = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("rag") or node.level):
            offences += [f"line {node.lineno}: imports {alias.name}" for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not on_self and node.attr not in own:
                offences.append(f"line {node.lineno}: {ast.unparse(node)}")
    return offences


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_private_name_used_across_modules(name):
    offences = private_offences(modules()[name])
    assert not offences, f"{name} reaches into other modules' private names: {offences}"


def test_benchmarks_use_the_public_api():
    offences = {path.name: found for path in sorted((PACKAGE.parent / "benchmarks").glob("*.py")) if (found := private_offences(path))}
    assert not offences, f"benchmarks reach into private names: {offences}"
