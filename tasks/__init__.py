"""ToolSweep's tool-use tasks: environments, tools, datasets and scoring, in pure Python.

    >>> import tasks
    >>> task = tasks.get_task("multiverse_math")
    >>> example = task.examples[0]
    >>> env = task.environment()
    >>> env.call("add", {"a": 7, "b": 5}).content
    '13.2'
    >>> task.score(example, "13.2", env).correct
    True
    >>> tasks.get_task("multiverse_math", dataset="paper").examples[14].question
    '131,778 + 22,312?'

Each task lives in its own folder (environment and tools, dataset loader, ``data/*.jsonl``);
``typewriter_single`` and ``typewriter_26`` share the typewriter folder and its words. A task is
built for a dataset and a scoring profile (``tasks.variants``): ``toolsweep`` for both by default,
``paper`` for the published benchmark's data and evaluator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from tasks.environment import Environment, Tool, ToolCallRecord, ToolResult
from tasks.multiverse_math import task as _multiverse_math
from tasks.relational_data import task as _relational_data
from tasks.scoring import Score, StepRules, binomial_stderr
from tasks.task import Example, ExpectedCall, Task
from tasks.tooling import ToolError, tool
from tasks.typewriter import task as _typewriter
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, SCORING_PROFILES, UnknownVariantError

# task name -> (builder taking dataset and scoring profile, the task's datasets)
_BUILDERS: dict[str, tuple[Callable[[str, str], Task], tuple[str, ...]]] = {
    "typewriter_single": (_typewriter.build_single, _typewriter.DATASETS),
    "typewriter_26": (_typewriter.build_alphabet, _typewriter.DATASETS),
    "relational_data": (_relational_data.build, _relational_data.DATASETS),
    "multiverse_math": (_multiverse_math.build, _multiverse_math.DATASETS),
}

TASK_NAMES: tuple[str, ...] = tuple(_BUILDERS)


class UnknownTaskError(KeyError, ValueError):
    """A task name that is not one of :data:`TASK_NAMES` (catchable as KeyError or ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])


def dataset_names(name: str) -> tuple[str, ...]:
    """The datasets task ``name`` offers, the default (``toolsweep``) first."""
    if name not in _BUILDERS:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {', '.join(TASK_NAMES)}")
    return _BUILDERS[name][1]


@cache
def get_task(name: str, dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """The task called ``name`` on ``dataset`` under the ``scoring`` profile, built (and its data
    read) once per process."""
    datasets = dataset_names(name)
    if dataset not in datasets:
        raise UnknownVariantError(f"task {name!r} has no dataset {dataset!r}; its datasets: {', '.join(datasets)}")
    if scoring not in SCORING_PROFILES:
        raise UnknownVariantError(f"unknown scoring profile {scoring!r}; valid profiles: {', '.join(SCORING_PROFILES)}")
    return _BUILDERS[name][0](dataset, scoring)


__all__ = [
    "SCORING_PROFILES",
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
    "UnknownVariantError",
    "binomial_stderr",
    "dataset_names",
    "get_task",
    "tool",
]
