"""MCP tool servers as task environments: the server's tools are the task's tools.

A task is an :class:`~orchestrator.mcp_tools.spec.McpServer` (how to reach the server) and a JSONL
dataset. A dataset row is an ordinary example row (``id``, ``question``, ``reference``,
``expected_steps``, optionally ``expected_state``, ``order_matters``, ``difficulty``) plus an
optional ``setup``: calls run on the server before the episode, unseen by the model (to seed the
state the question is about). Answers are scored by the spec's ``answers`` rule (``short``: a
normalized short answer, ``number``: a number to the reference's precision, ``state``: only the
final state counts); ``expected_state`` is compared with the text of the ``state`` tool.

Building the task reads only the dataset. :func:`verify` also starts the server once and checks
the dataset against the tools it lists (names, and arguments against each input schema); it runs
where the sweep is validated, not in every runner. The SDK is imported only by the session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from orchestrator.mcp_tools.spec import McpServer
from tasks.answers import numeric_answer_matches, short_answer_matches
from tasks.dataset import example_from_row, parse_rows, parse_steps
from tasks.plugins import PluginError, TaskPlugin, check_reference
from tasks.task import Example, ExpectedCall, Task
from tasks.variants import DEFAULT_DATASET

__all__ = ["load_mcp_plugin", "read_dataset", "verify"]

_MATCHERS: dict[str, Callable[[str, str], bool] | None] = {
    "short": short_answer_matches, "number": numeric_answer_matches, "state": None,
}


def load_mcp_plugin(name: str, spec: McpServer) -> TaskPlugin:
    """The task module of an MCP server: one dataset (``toolsweep``), built from the JSONL."""
    dataset = Path(spec.dataset)
    files = [dataset]
    if spec.command is not None and spec.cwd is not None:
        # the server's own Python files, when it runs from a folder of them: a changed server is a changed task
        files.extend(sorted(Path(spec.cwd).glob("*.py")))
    extra = {"command": spec.command, "url": spec.url, "reset": spec.reset, "state": spec.state,
             "answers": spec.answers, "instructions": spec.instructions}

    def build(dataset_name: str, scoring: str) -> Task:
        examples, setups, where = read_dataset(spec)
        return Task(name=name, instructions=spec.instructions, examples=examples,
                    answer_matcher=_MATCHERS[spec.answers], dataset=dataset_name, scoring=scoring,
                    open_session=partial(_open_session, spec, setups), example_sources=where)

    return TaskPlugin(name, (DEFAULT_DATASET,), build, tuple(files), Path(spec.cwd) if spec.cwd else None,
                      extra=extra, verify=partial(verify, spec))


def _open_session(spec: McpServer, setups: dict[str, tuple[ExpectedCall, ...]], example: Example) -> Any:
    from orchestrator.mcp_tools.session import McpSession  # the SDK loads with the first episode

    return McpSession(spec, setups.get(example.id, ()))


def read_dataset(spec: McpServer) -> tuple[tuple[Example, ...], dict[str, tuple[ExpectedCall, ...]], dict[str, str]]:
    """The examples, each example's setup calls, and each example's ``file:line``."""
    path = Path(spec.dataset)
    try:
        located = parse_rows(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise PluginError(f"{path}: cannot read the dataset: {exc.strerror}") from None
    except ValueError as exc:
        raise PluginError(str(exc)) from None
    if not located:
        raise PluginError(f"{path}: the dataset holds no examples")
    examples, setups = [], {}
    where: dict[str, str] = {}  # example id -> the file:line it was first read at
    for line, row in located:
        at = f"{path}:{line}"
        setup = row.pop("setup", [])
        try:
            example = example_from_row(row)
            steps = parse_steps(setup) if setup else ()
        except KeyError as exc:
            raise PluginError(f"{at}: missing field {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise PluginError(f"{at}: {exc}") from None
        if example.id in where:
            raise PluginError(f"{at}: example id {example.id!r} repeats (first at {where[example.id]})")
        if spec.answers == "state" and example.expected_state is None:
            raise PluginError(f"{at}: example {example.id!r}: answers are judged by state, but it has no expected_state")
        if example.expected_state is not None and spec.state is None:
            raise PluginError(f"{at}: example {example.id!r} has an expected_state, but the server config names no "
                              "state tool (mcp.state)")
        examples.append(example)
        setups[example.id] = steps
        where[example.id] = at
    return tuple(examples), setups, where


def verify(spec: McpServer, task: Task) -> None:
    """Start the server once and check the dataset against the tools it lists; ``PluginError``."""
    listed = _run_blocking(_list(spec))
    schemas = {tool.name: dict(tool.input_schema) for tool in listed}
    offered = sorted(set(schemas) - spec.hidden)
    _, setups, where = read_dataset(spec)
    for example in task.examples:
        at = where.get(example.id, str(spec.dataset))
        check_reference(task, example, at)
        steps = [("step", i, s) for i, s in enumerate(example.expected_steps)]
        steps += [("setup step", i, s) for i, s in enumerate(setups.get(example.id, ()))]
        for label, index, step in steps:
            hidden_ok = label == "setup step"
            if step.name not in schemas or (step.name in spec.hidden and not hidden_ok):
                raise PluginError(f"{at}: example {example.id!r} {label} {index}: the server has no tool "
                                  f"{step.name!r} (tools: {', '.join(offered)})")
            problem = schema_problem(schemas[step.name], step.arguments)
            if problem:
                raise PluginError(f"{at}: example {example.id!r} {label} {index}: {step.name}: {problem}")


def schema_problem(schema: dict[str, Any], arguments: Any) -> str | None:
    """Why ``arguments`` do not fit a tool's JSON schema, or None."""
    import jsonschema  # a dependency of the mcp SDK

    try:
        jsonschema.validate(arguments, schema)
    except jsonschema.ValidationError as exc:
        return f"arguments do not fit the tool's input schema: {exc.message}"
    except jsonschema.SchemaError as exc:
        return f"the tool's input schema is invalid: {exc.message}"
    return None


async def _list(spec: McpServer) -> list[Any]:
    from orchestrator.mcp_tools.session import McpSession
    from tasks.environment import EnvironmentFailure

    try:
        async with McpSession(spec) as session:
            return session.listed
    except EnvironmentFailure as exc:
        raise PluginError(str(exc)) from None


def _run_blocking(coroutine: Any) -> Any:
    """Run ``coroutine`` to its end from synchronous code, on a thread of its own when this one
    already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
