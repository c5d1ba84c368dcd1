"""The package's shape: no import cycles, no oversized module, a docstring each.

These are the rules of DEVELOPERS.md's style section that a tool can check;
they keep "any behaviour in one obvious module" true as the code grows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gnet"
MAX_LINES = 700


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(), str(path))
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(module: str, tree: ast.Module, known: set[str]) -> set[str]:
    """gnet modules imported at import time (not under TYPE_CHECKING, not inside functions)."""
    package = module if module + ".__init__" in known or module == "gnet" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    for candidate in (f"{base}.{alias.name}", base):
                        if candidate in known:
                            found.add(candidate)
                            break
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)

    visit(tree.body)
    found.discard(module)
    return found


def test_no_import_cycles() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _runtime_imports(name, tree, known) for name, tree in modules.items()}
    # The package's __init__ imports everything; cycles through it are not cycles of design.
    graph = {name: deps - {"gnet"} for name, deps in graph.items() if name != "gnet"}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                walk(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_size_and_docstring(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{path.name} is over {MAX_LINES} lines: split it by concern"
    if path.name != "__main__.py":
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring saying its role"
