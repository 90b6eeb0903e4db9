"""Task plugins: where a task comes from, and how its module becomes a :class:`~tasks.task.Task`.

Every task, the four built-in ones included, is loaded here from a :class:`TaskSource`: a module
to import (``module``), a Python file (``path``), an installed package registered under the
entry-point group ``toolsweep.tasks``, or an MCP tool server (``mcp``: a spec and the loader the
orchestrator gives it, ``orchestrator.mcp_tools.task``).

A task module takes one of two forms.

*Declarative* (what a plugin usually writes)::

    INSTRUCTIONS = "You manage a warehouse ..."        # the system prompt
    environment = Inventory                            # fresh-environment factory: an Environment subclass
    DATASET = "inventory.jsonl"                        # JSONL beside the module, or a list of row dicts
    # optional
    DATASETS = {"toolsweep": "inventory.jsonl", "hard": "hard.jsonl"}   # several named datasets
    answer_matcher = my_matcher                        # (answer, reference) -> bool; None: judged by state
    state_matcher = my_state_check                     # (state, expected_state) -> bool; default: equality
    STEP_RULES = StepRules(...)                        # aliases, commutative tools, free arguments

The environment's tools are ``@tool`` methods: typed parameters and a docstring, from which the
schema is derived (``tasks.tooling``). A dataset row is ``{"id", "question", "reference",
"expected_steps": [{"name", "arguments"}], ...}`` (``tasks.dataset``).

*Builder* (what the built-in tasks use, for datasets that need code to read)::

    DATASETS = ("toolsweep", "paper")
    def build(dataset: str, scoring: str) -> Task: ...

Loading checks what it can without running a model — dataset ids unique, every expected step
names a tool the environment offers with arguments that fit its schema, every reference accepted
by the answer matcher — and a problem is a :class:`PluginError` whose one-line message names the
file and line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from tasks.dataset import example_from_row, parse_rows
from tasks.environment import Environment
from tasks.scoring import StepRules
from tasks.task import Example, Task
from tasks.tooling import ToolDefinition, ToolError
from tasks.variants import DEFAULT_DATASET

ENTRY_POINT_GROUP = "toolsweep.tasks"
# (task name, server spec) -> the task module of that server: see ``TaskSource.loader``
SpecLoader = Callable[[str, Any], "TaskPlugin"]


class PluginError(ValueError):
    """A task that cannot be loaded or fails its checks; the message is one line, with file and line."""


@dataclass(frozen=True)
class TaskSource:
    """Where task ``name`` comes from: exactly one of ``module``, ``path`` (an absolute ``.py``
    path), ``entry_point`` (the name under ``toolsweep.tasks``) or ``mcp`` (a server spec, loaded
    by ``loader``).

    ``digest`` is the source hash the driver saw; a process that builds the task from a copy with
    another hash refuses it (a cluster node holding a stale copy). Sources are small and picklable:
    they travel to every runner.
    """

    name: str
    module: str | None = None
    path: str | None = None
    entry_point: str | None = None
    mcp: Any = None  # a server spec (orchestrator.mcp_tools.spec.McpServer), opaque to tasks
    # How ``mcp`` becomes a task: a module-level function (so the source pickles it by name and a
    # runner imports its module when it unpickles the source), e.g. orchestrator.mcp_tools.task.load_mcp_plugin.
    loader: SpecLoader | None = None
    digest: str | None = None
    builtin: bool = False
    search_path: str | None = None  # the folder the driver imported ``module``/``entry_point`` from

    @property
    def kind(self) -> str:
        return "mcp" if self.mcp is not None else "path" if self.path else "entry_point" if self.entry_point else "module"


@dataclass(frozen=True)
class TaskPlugin:
    """A loaded task module: its datasets, how to build it, and the files its results depend on."""

    name: str
    datasets: tuple[str, ...]
    build: Callable[[str, str], Task]  # (dataset, scoring) -> Task
    files: tuple[Path, ...] = ()  # hashed into the run directory's manifest
    root: Path | None = None  # the directory a cluster needs: the module's package or folder
    search_path: Path | None = None  # the sys.path entry the module was imported from
    check: bool = True  # run the dataset checks (the built-ins have their own tests)
    extra: Mapping[str, Any] = field(default_factory=dict)  # settings hashed with the files
    verify: Callable[[Task], None] | None = None  # checks that need more than the data (an MCP server's tools)


def load_plugin(source: TaskSource) -> TaskPlugin:
    """Load the task ``source`` names; ``PluginError`` (one line) when it cannot be."""
    if source.mcp is not None:
        # The MCP client lives with the orchestrator (tasks needs nothing beyond the standard
        # library): the source names the loader of its spec.
        if source.loader is None:
            raise PluginError(f"task {source.name!r}: a server spec needs its loader")
        return source.loader(source.name, source.mcp)
    if source.search_path is not None and source.search_path not in sys.path and Path(source.search_path).is_dir():
        # a runner on the driver's machine (or a shared file system) finds the module where the driver did
        sys.path.append(source.search_path)
        importlib.invalidate_caches()
    origin: Path | None
    if source.path is not None:
        module, origin = _import_path(Path(source.path)), Path(source.path)
    elif source.entry_point is not None:
        module = _load_entry_point(source.entry_point)
        origin = _module_file(module)
    else:
        assert source.module is not None
        module = _import_module(source.module)
        origin = _module_file(module)
    return plugin_from_module(source.name, module, origin, check=not source.builtin)


def plugin_from_module(name: str, module: ModuleType, origin: Path | None, *, check: bool = True) -> TaskPlugin:
    """The :class:`TaskPlugin` of an imported task module (either form; see the module docstring)."""
    where = str(origin) if origin else module.__name__
    root = _package_root(module, origin)
    search = origin.parents[module.__name__.count(".") + (1 if hasattr(module, "__path__") else 0)] if origin else None
    files = _source_files(module, origin)
    if callable(getattr(module, "build", None)):
        raw = getattr(module, "DATASETS", (DEFAULT_DATASET,))
        datasets = tuple(raw) if not isinstance(raw, str) else (raw,)
        builder: Callable[[str, str], Task] = module.build

        def build(dataset: str, scoring: str) -> Task:
            task = builder(dataset, scoring)
            if not isinstance(task, Task):
                raise PluginError(f"{where}: build() returned {type(task).__name__}, not a tasks.Task")
            return task if task.name == name else replace(task, name=name)

        return TaskPlugin(name, datasets, build, files, root, search_path=search, check=check)
    declared = _declared(module, where)
    data_files = tuple(p for p in declared["datasets"].values() if isinstance(p, Path))
    return TaskPlugin(name, tuple(declared["datasets"]), lambda dataset, scoring: _build_declared(
        name, declared, dataset, scoring, where), files + data_files, root, search_path=search, check=check)


def _declared(module: ModuleType, where: str) -> dict[str, Any]:
    """The declarative form's parts, each checked for its kind."""
    instructions = getattr(module, "INSTRUCTIONS", None)
    if not isinstance(instructions, str) or not instructions.strip():
        raise PluginError(f"{where}: INSTRUCTIONS: missing (a task module defines INSTRUCTIONS, environment "
                          "and DATASET, or build() and DATASETS)")
    factory = getattr(module, "environment", None)
    if not callable(factory):
        raise PluginError(f"{where}: environment: missing (the fresh-environment factory, e.g. an Environment subclass)")
    if isinstance(factory, type) and not issubclass(factory, Environment):
        raise PluginError(f"{where}: environment: {factory.__name__} is not a tasks.Environment subclass")
    base = Path(where).parent
    if hasattr(module, "DATASETS"):
        raw = module.DATASETS
        if not isinstance(raw, Mapping) or not raw:
            raise PluginError(f"{where}: DATASETS: expected a mapping of dataset name to a JSONL file or rows")
    elif hasattr(module, "DATASET"):
        raw = {DEFAULT_DATASET: module.DATASET}
    else:
        raise PluginError(f"{where}: DATASET: missing (a JSONL file beside the module, or a list of rows)")
    datasets: dict[str, Path | list[dict[str, Any]]] = {}
    for dataset, value in raw.items():
        if isinstance(value, str | Path):
            path = (base / value).resolve()
            if not path.is_file():
                raise PluginError(f"{where}: dataset {dataset!r}: no such file: {path}")
            datasets[str(dataset)] = path
        elif isinstance(value, list) and all(isinstance(row, dict) for row in value):
            datasets[str(dataset)] = value
        else:
            raise PluginError(f"{where}: dataset {dataset!r}: expected a JSONL file name or a list of row dicts")
    matcher = getattr(module, "answer_matcher", None)
    state_matcher = getattr(module, "state_matcher", None)
    rules = getattr(module, "STEP_RULES", StepRules())
    for label, value in (("answer_matcher", matcher), ("state_matcher", state_matcher)):
        if value is not None and not callable(value):
            raise PluginError(f"{where}: {label}: expected a function")
    if not isinstance(rules, StepRules):
        raise PluginError(f"{where}: STEP_RULES: expected a tasks.StepRules")
    return {"instructions": instructions, "environment": factory, "datasets": datasets,
            "answer_matcher": matcher, "state_matcher": state_matcher, "step_rules": rules}


def _build_declared(name: str, declared: dict[str, Any], dataset: str, scoring: str, where: str) -> Task:
    data = declared["datasets"][dataset]
    if isinstance(data, Path):
        try:
            located = parse_rows(data.read_text(encoding="utf-8"), str(data))
        except (OSError, ValueError) as exc:
            raise PluginError(str(exc)) from None
        rows = [(f"{data}:{line}", row) for line, row in located]
    else:
        rows = [(f"{where}: DATASET row {i + 1}", row) for i, row in enumerate(data)]
    examples = []
    for at, row in rows:
        try:
            examples.append(example_from_row(row))
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise PluginError(f"{at}: {problem}") from None
    seen: dict[str, str] = {}
    for (at, _), example in zip(rows, examples, strict=True):
        if example.id in seen:
            raise PluginError(f"{at}: example id {example.id!r} repeats (first at {seen[example.id]})")
        seen[example.id] = at
    task = Task(name=name, instructions=declared["instructions"], examples=tuple(examples),
                make_environment=declared["environment"], answer_matcher=declared["answer_matcher"],
                state_matcher=declared["state_matcher"], step_rules=declared["step_rules"],
                dataset=dataset, scoring=scoring, example_sources=seen)
    check_task(task)
    return task


def check_task(task: Task) -> None:
    """What a task's data must satisfy before any model sees it; ``PluginError`` at the first
    problem, at the example's ``file:line`` when the task knows it (``Task.example_sources``)."""
    try:
        environment = task.environment()
    except Exception as exc:
        raise PluginError(f"task {task.name!r}: the environment factory failed: {type(exc).__name__}: {exc}") from None
    definitions: dict[str, ToolDefinition] = {d.name: d for d in type(environment).tool_definitions}
    if not definitions:
        raise PluginError(f"task {task.name!r}: its environment offers no tools (mark methods with @tool)")
    for example in task.examples:
        at = task.example_sources.get(example.id, f"task {task.name!r}")
        for index, step in enumerate(example.expected_steps):
            definition = definitions.get(step.name)
            if definition is None:
                raise PluginError(f"{at}: example {example.id!r} step {index}: no tool {step.name!r} "
                                  f"(tools: {', '.join(definitions)})")
            try:
                definition.validate(step.arguments)
            except ToolError as exc:
                raise PluginError(f"{at}: example {example.id!r} step {index}: {exc}") from None
        check_reference(task, example, at)


def check_reference(task: Task, example: Example, at: str) -> None:
    """A reference the task's own matcher does not accept could never be matched: refuse it."""
    if task.answer_matcher is None:
        if example.expected_state is None:
            raise PluginError(f"{at}: example {example.id!r}: the task has no answer_matcher, so it is judged by "
                              "its final state, but the example has no expected_state")
        return
    try:
        accepted = task.answer_matcher(example.reference, example.reference)
    except Exception as exc:
        raise PluginError(f"{at}: example {example.id!r}: the answer matcher fails on the reference: "
                          f"{type(exc).__name__}: {exc}") from None
    if not accepted:
        raise PluginError(f"{at}: example {example.id!r}: reference {example.reference!r} does not match itself "
                          "under the answer matcher")


def source_digest(plugin: TaskPlugin) -> str:
    """A hash of the files the task is built from (code and data), in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(set(plugin.files)):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    for key, value in sorted(plugin.extra.items()):
        digest.update(f"{key}={value!r}".encode())
    return digest.hexdigest()[:16]


def entry_point_names() -> tuple[str, ...]:
    """The task names installed packages register under ``toolsweep.tasks``."""
    return tuple(sorted({ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}))


# ---------------------------------------------------------------- importing, with one-line errors


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise PluginError(f"module {name!r}: not found (is its folder on PYTHONPATH, or use path:)") from None
        raise PluginError(_import_failure(f"module {name!r}", exc)) from None
    except Exception as exc:
        raise PluginError(_import_failure(f"module {name!r}", exc)) from None


def _import_path(path: Path) -> ModuleType:
    if not path.is_file():
        raise PluginError(f"{path}: no such file")
    if path.suffix != ".py":
        raise PluginError(f"{path}: not a Python file (.py)")
    # A name of its own per file, so two plugins called task.py in different folders do not collide.
    name = f"toolsweep_plugin_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        if not isinstance(exc, Exception):
            raise
        raise PluginError(_import_failure(str(path), exc)) from None
    return module


def _load_entry_point(name: str) -> ModuleType:
    found = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise PluginError(f"no installed package registers task {name!r} under {ENTRY_POINT_GROUP}")
    try:
        loaded = found[0].load()
    except Exception as exc:
        raise PluginError(_import_failure(f"entry point {name!r} ({found[0].value})", exc)) from None
    if not isinstance(loaded, ModuleType):
        raise PluginError(f"entry point {name!r} ({found[0].value}) names {type(loaded).__name__}, not a task module")
    return loaded


def _import_failure(what: str, exc: Exception) -> str:
    """One line: where in the user's code the import failed, and why (never a traceback)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    location = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        location = f"{exc.filename}:{exc.lineno}: "
    elif frames:
        # the deepest frame in the user's code: not ToolSweep's, not the standard library's, not
        # an installed package's
        user = [f for f in frames if not _library_file(f.filename)] or frames
        location = f"{user[-1].filename}:{user[-1].lineno}: "
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{location}{what} failed to import: {type(exc).__name__}: {' '.join(message.split())}"


def _library_file(filename: str) -> bool:
    path = Path(filename).resolve()
    libraries = {Path(__file__).resolve().parent, *(Path(p).resolve() for p in (
        sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]))}
    return (any(path.is_relative_to(lib) for lib in libraries) or "site-packages" in path.parts
            or filename.startswith("<"))


def _module_file(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _package_root(module: ModuleType, origin: Path | None) -> Path | None:
    """The folder a runner elsewhere needs: a module's top-level package, or the folder of a
    top-level module or file (its data lives beside it)."""
    if origin is None:
        return None
    depth = module.__name__.count(".") - (0 if hasattr(module, "__path__") else 1)
    return origin.parent if depth < 0 else origin.parents[depth]


def _source_files(module: ModuleType, origin: Path | None) -> tuple[Path, ...]:
    """The module's own file and the Python files beside it in its package (a task often spreads
    over a few modules)."""
    if origin is None:
        return ()
    if "." not in module.__name__ and not hasattr(module, "__path__"):
        return (origin,)
    return tuple(sorted(p.resolve() for p in origin.parent.glob("*.py")))
