"""The installed package ships the task data: install into a fresh venv and load every task."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "tasks", "providers", "orchestrator", "analysis"]

CHECK = """
import pathlib, sys
import tasks
counts = {name: len(tasks.get_task(name).examples) for name in tasks.TASK_NAMES}
assert all(n > 0 for n in counts.values()), counts
assert pathlib.Path(tasks.__file__).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve()), tasks.__file__
print(counts)
"""


@pytest.mark.slow
def test_non_editable_install_ships_the_datasets(tmp_path):
    # Build from a copy so the build leaves nothing behind in the working tree.
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")

    # the fresh environment sees only what it installed: a PYTHONPATH (a developer's checkout)
    # would put the working tree's packages first
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", str(source)],
        capture_output=True, text=True, timeout=240, env=clean,
    )
    assert install.returncode == 0, install.stderr

    check = subprocess.run([python, "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=clean)
    assert check.returncode == 0, check.stderr
    assert "'multiverse_math'" in check.stdout
