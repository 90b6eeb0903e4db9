"""ToolSweep's tool-use tasks: environments, tools, datasets and scoring, in pure Python.

    >>> import tasks
    >>> task = tasks.get_task("multiverse_math")
    >>> example = task.examples[0]
    >>> env = task.environment()
    >>> env.call("add", {"a": 7, "b": 5}).content
    '13.2'
    >>> task.score(example, "13.2", env).correct
    True

Each task lives in its own folder (environment and tools, dataset loader, ``data/*.jsonl``);
``typewriter_single`` and ``typewriter_26`` share the typewriter folder and its words.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from tasks.environment import Environment, Tool, ToolCallRecord, ToolResult
from tasks.multiverse_math.task import build as _build_multiverse_math
from tasks.relational_data.task import build as _build_relational_data
from tasks.scoring import Score, StepRules, binomial_stderr
from tasks.task import Example, ExpectedCall, Task
from tasks.tooling import ToolError, tool
from tasks.typewriter.task import build_alphabet as _build_typewriter_26
from tasks.typewriter.task import build_single as _build_typewriter_single

_BUILDERS: dict[str, Callable[[], Task]] = {
    "typewriter_single": _build_typewriter_single,
    "typewriter_26": _build_typewriter_26,
    "relational_data": _build_relational_data,
    "multiverse_math": _build_multiverse_math,
}

TASK_NAMES: tuple[str, ...] = tuple(_BUILDERS)


class UnknownTaskError(KeyError, ValueError):
    """A task name that is not one of :data:`TASK_NAMES` (catchable as KeyError or ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def get_task(name: str) -> Task:
    """The task called ``name``, built (and its dataset read) once per process."""
    if name not in _BUILDERS:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {', '.join(TASK_NAMES)}")
    return _BUILDERS[name]()


__all__ = [
    "TASK_NAMES",
    "Environment",
    "Example",
    "ExpectedCall",
    "Score",
    "StepRules",
    "Task",
    "Tool",
    "ToolCallRecord",
    "ToolError",
    "ToolResult",
    "UnknownTaskError",
    "binomial_stderr",
    "get_task",
    "tool",
]
