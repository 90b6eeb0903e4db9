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

Every task is loaded through the plugin API (``tasks.plugins``), the built-in ones included: a
task module, a Python file, an installed package (entry point ``toolsweep.tasks``) or an MCP tool
server (``orchestrator.mcp_tools``), registered by name with :func:`register`.

Each built-in task lives in its own folder (environment and tools, dataset loader, ``data/*.jsonl``);
``typewriter_single`` and ``typewriter_26`` share the typewriter folder and its words. A task is
built for a dataset and a scoring profile (``tasks.variants``): ``toolsweep`` for both by default,
``paper`` for the published benchmark's data and evaluator.
"""

from __future__ import annotations

import threading
from functools import cache

from tasks.environment import (
    TOOL_CALL_KINDS,
    Environment,
    EnvironmentFailure,
    EpisodeEnvironment,
    LocalSession,
    Tool,
    ToolCallKind,
    ToolCallRecord,
    ToolResult,
)
from tasks.plugins import PluginError, TaskPlugin, TaskSource, entry_point_names, load_plugin, source_digest
from tasks.scoring import Score, StepRules, binomial_stderr
from tasks.task import Example, ExpectedCall, Task
from tasks.tooling import ToolError, tool
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, SCORING_PROFILES, UnknownVariantError

# The built-in tasks, loaded through the same plugin API as any other task module.
BUILTIN_SOURCES: tuple[TaskSource, ...] = (
    TaskSource("typewriter_single", module="tasks.typewriter.single", builtin=True),
    TaskSource("typewriter_26", module="tasks.typewriter.alphabet", builtin=True),
    TaskSource("relational_data", module="tasks.relational_data.task", builtin=True),
    TaskSource("multiverse_math", module="tasks.multiverse_math.task", builtin=True),
)
TASK_NAMES: tuple[str, ...] = tuple(source.name for source in BUILTIN_SOURCES)

_sources: dict[str, TaskSource] = {source.name: source for source in BUILTIN_SOURCES}
_lock = threading.Lock()


class UnknownTaskError(KeyError, ValueError):
    """A task name that is neither built in nor registered (catchable as KeyError or ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(source: TaskSource) -> None:
    """Make ``source``'s task known by its name in this process (a plugin or an MCP server).

    Registering the same source again is a no-op; another source under a plugin's name replaces
    it (and what was built from it); a built-in task cannot be replaced (``ValueError``).
    """
    with _lock:
        known = _sources.get(source.name)
        if known == source:
            return
        if known is not None and known.builtin:
            raise ValueError(f"task {source.name!r} is built in; give your task another name")
        _sources[source.name] = source
    if known is not None:
        plugin.cache_clear()
        get_task.cache_clear()


def unregister(name: str) -> None:
    """Forget a registered plugin task and everything built from it (for tests and long-lived
    processes that load another version); the built-ins stay."""
    with _lock:
        if name in _sources and not _sources[name].builtin:
            del _sources[name]
    plugin.cache_clear()
    get_task.cache_clear()


def task_names() -> tuple[str, ...]:
    """Every task known in this process: the built-ins, then the registered plugins."""
    return tuple(_sources)


def task_source(name: str) -> TaskSource:
    """Where task ``name`` comes from."""
    try:
        return _sources[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; valid tasks: {', '.join(_sources)}") from None


@cache
def plugin(name: str) -> TaskPlugin:
    """The loaded module of task ``name`` (imported once per process); ``PluginError`` when it
    cannot be loaded, or when its source differs from the one the sweep recorded."""
    source = task_source(name)
    loaded = load_plugin(source)
    if source.digest is not None and source_digest(loaded) != source.digest:
        raise PluginError(f"task {name!r}: the copy here (source hash {source_digest(loaded)}) differs from "
                          f"the one the sweep was planned with ({source.digest})")
    return loaded


def dataset_names(name: str) -> tuple[str, ...]:
    """The datasets task ``name`` offers, the default (``toolsweep``) first."""
    return plugin(name).datasets


@cache
def get_task(name: str, dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """The task called ``name`` on ``dataset`` under the ``scoring`` profile, built (and its data
    read) once per process."""
    datasets = dataset_names(name)
    if dataset not in datasets:
        raise UnknownVariantError(f"task {name!r} has no dataset {dataset!r}; its datasets: {', '.join(datasets)}")
    if scoring not in SCORING_PROFILES:
        raise UnknownVariantError(f"unknown scoring profile {scoring!r}; valid profiles: {', '.join(SCORING_PROFILES)}")
    return plugin(name).build(dataset, scoring)


def verify_task(name: str, dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """Build task ``name`` and run the checks that need more than its data (an MCP task starts its
    server once and checks the dataset against the tools it lists); ``PluginError`` on a problem."""
    task = get_task(name, dataset, scoring)
    verify = plugin(name).verify
    if verify is not None:
        verify(task)
    return task


__all__ = [
    "BUILTIN_SOURCES",
    "SCORING_PROFILES",
    "TASK_NAMES",
    "Environment",
    "EnvironmentFailure",
    "EpisodeEnvironment",
    "Example",
    "ExpectedCall",
    "LocalSession",
    "PluginError",
    "Score",
    "StepRules",
    "Task",
    "TaskSource",
    "Tool",
    "ToolCallRecord",
    "ToolError",
    "ToolResult",
    "ToolCallKind",
    "TOOL_CALL_KINDS",
    "UnknownTaskError",
    "UnknownVariantError",
    "binomial_stderr",
    "dataset_names",
    "entry_point_names",
    "get_task",
    "plugin",
    "register",
    "task_names",
    "task_source",
    "tool",
    "unregister",
    "verify_task",
]
