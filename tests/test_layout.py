"""The arrows of docs/design.md ("Layers"): tasks and providers never import each other, analysis reads
files only; and no import circle inside a package."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tasks", "providers", "orchestrator", "analysis")
FORBIDDEN = {
    "tasks": {"providers", "orchestrator", "analysis"},
    "providers": {"tasks", "orchestrator", "analysis"},
    "analysis": {"tasks", "providers", "orchestrator"},
    "orchestrator": set(),  # wires tasks and providers; its CLI and closing summary call analysis
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names imported anywhere in the module, function-level imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_import_directions(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in modules(package)
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert not offenders, f"{package} must not import {sorted(FORBIDDEN[package])}: {offenders}"


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from providers.types import Message\n    import tasks.base\n")
    assert imported_packages(module) == {"providers", "tasks"}



def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> Iterator[str]:
    """The dotted names one import statement names, relative imports resolved (``from a import b``
    names ``a.b``, which is module ``a.b`` or a name inside module ``a``)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    for alias in node.names:
        yield f"{source}.{alias.name}"


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the modules of the same package it imports anywhere: at module level, inside
    functions, under ``if TYPE_CHECKING``, absolute or relative. ``from a import b`` counts as
    importing module ``a.b`` when there is one, else ``a``."""
    paths = {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in imported_names(node, name, path.name == "__init__.py"):
                while target and target not in paths:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(package: str) -> None:
    found = circles(import_graph(ROOT, package))
    assert not found, f"import circles in {package}/: {[sorted(circle) for circle in found]}"


def test_the_driver_knows_runners_through_the_pool_alone() -> None:
    """docs/design.md ("The sweep"): the driver's loop is driven by fakes in tests, so it may not
    import a runner or Ray."""
    imports = import_graph(ROOT, "orchestrator")["orchestrator.driver"]
    assert "orchestrator.pool" in imports
    assert not imports & {"orchestrator.runner", "orchestrator.ray_pool", "orchestrator.agent"}
    assert "ray" not in imported_packages(ROOT / "orchestrator" / "driver.py")


def test_the_circle_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import leaf\n")
    (package / "sub" / "leaf.py").write_text("")
    (package / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n")
    (package / "b.py").write_text("def f():\n    from .sub.c import C\n")
    (package / "sub" / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from pkg import a\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.sub.c"} and graph["pkg.sub.c"] == {"pkg.a"}
    assert graph["pkg.sub"] == {"pkg.sub.leaf"} and graph["pkg.d"] == {"pkg.a"}
    assert circles(graph) == [frozenset({"pkg.a", "pkg.b", "pkg.sub.c"})]
    (package / "sub" / "c.py").write_text("")
    assert circles(import_graph(tmp_path, "pkg")) == []
