"""The public surface: task names, lookup, caching, example lookup, fresh environments, imports."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import tasks

TASKS_DIR = Path(tasks.__file__).parent


def test_task_names_are_the_four_tasks():
    assert tasks.TASK_NAMES == ("typewriter_single", "typewriter_26", "relational_data", "multiverse_math")
    assert [tasks.get_task(n).name for n in tasks.TASK_NAMES] == list(tasks.TASK_NAMES)


def test_get_task_builds_each_task_once():
    assert tasks.get_task("relational_data") is tasks.get_task("relational_data")


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(KeyError) as caught:
        tasks.get_task("typewriter")
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "'typewriter'" in message
    assert all(name in message for name in tasks.TASK_NAMES)


def test_example_lookup_by_id():
    task = tasks.get_task("multiverse_math")
    first = task.examples[0]
    assert task.example(first.id) is first
    with pytest.raises(KeyError, match="no-such-id"):
        task.example("no-such-id")


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
def test_example_ids_are_unique_and_difficulty_counts_the_steps(task_name):
    examples = tasks.get_task(task_name).examples
    assert len({e.id for e in examples}) == len(examples)
    assert all(e.difficulty == len(e.expected_steps) for e in examples)


def test_a_task_refuses_duplicate_ids_and_examples_without_steps():
    task = tasks.get_task("typewriter_single")
    with pytest.raises(ValueError, match="duplicate example ids"):
        replace(task, examples=task.examples[:2] + task.examples[:1])
    with pytest.raises(ValueError, match="no expected steps"):
        tasks.Example(id="empty", question="?", reference="", expected_steps=())


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
def test_each_environment_is_fresh(task_name):
    task = tasks.get_task(task_name)
    used = task.environment()
    step = task.examples[0].expected_steps[0]
    used.call(step.name, dict(step.arguments))
    fresh = task.environment()
    assert fresh is not used
    assert fresh.calls == []
    assert len(used.calls) == 1
    if task.examples[0].expected_state is not None:
        assert fresh.state == ""
        assert used.state != ""


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
def test_instructions_and_tools_are_described(task_name):
    task = tasks.get_task(task_name)
    assert len(task.instructions) > 50
    for tool in task.environment().tools:
        assert tool.description
        assert tool.parameters["type"] == "object"
        assert set(tool.parameters["required"]) <= set(tool.parameters["properties"])


def _imported_top_levels(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_tasks_imports_only_the_standard_library_and_itself():
    # tasks/ is installed with --no-deps and must not reach into the rest of ToolSweep.
    for path in TASKS_DIR.rglob("*.py"):
        outside = _imported_top_levels(path) - set(sys.stdlib_module_names) - {"__future__", "tasks"}
        assert not outside, f"{path.relative_to(TASKS_DIR.parent)} imports {sorted(outside)}"
