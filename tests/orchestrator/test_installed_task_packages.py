"""The suite passes whatever task packages the machine has installed: the tests that list the known
tasks run again here with one more installed (a dist-info registering it under the entry-point
group, on the path of a child process, as pip would leave it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tasks.plugins import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parents[2]
# the tests whose messages list the known tasks
AFFECTED = ("tests/orchestrator/test_config.py", "tests/tasks/test_tasks_registry.py")


def test_the_config_tests_pass_with_a_task_package_installed(tmp_path):
    info = tmp_path / "extra_task-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-task\nVersion: 1.0\n")
    # an importable task module: the installed task is a working one
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nextra_installed = tasks.typewriter.single\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}

    seen = subprocess.run([sys.executable, "-c", "import tasks; print(tasks.entry_point_names())"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "extra_installed" in seen.stdout  # the package is installed for the run below

    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *AFFECTED],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]


def test_tasks_lists_installed_entry_point_tasks_and_a_sweeps_own(tmp_path):
    info = tmp_path / "extra_task-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-task\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nextra_installed = tasks.typewriter.single\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    listed = subprocess.run([sys.executable, "-m", "orchestrator", "tasks", "examples/tasks/inventory.yaml"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert rows["typewriter_single"].endswith("built in")
    assert rows["extra_installed"].split()[1] == "24" and rows["extra_installed"].endswith("installed (entry point)")
    assert rows["inventory"].endswith("examples/tasks/inventory.yaml (path)")
