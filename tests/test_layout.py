"""The arrows of docs/design.md ("Layers"): tasks and providers never import each other, analysis reads files only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tasks", "providers", "orchestrator", "analysis")
FORBIDDEN = {
    "tasks": {"providers", "orchestrator", "analysis"},
    "providers": {"tasks", "orchestrator", "analysis"},
    "analysis": {"tasks", "providers", "orchestrator"},
    "orchestrator": set(),
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
