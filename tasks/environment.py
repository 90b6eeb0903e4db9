"""One episode's world: the tools bound to fresh state, and the record of every call made.

:meth:`Environment.call` is the single place where a bad call becomes a readable tool error: an
unknown tool, arguments that do not fit the schema, or a :class:`~tasks.tooling.ToolError` raised
by the tool itself. Nothing a model sends can raise out of it. Each result says which it was
(``ToolCallKind``), the figure behind the report's tool-call validity table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, get_args

from tasks.tooling import ToolDefinition, ToolError, clip

# A tool call's arguments: a JSON object, or — for a call whose arguments did not parse — the raw
# text, which every tool rejects (so a malformed call still counts as a step taken).
Arguments = Mapping[str, Any] | str | None


@dataclass(frozen=True)
class Tool:
    """A tool as offered to a model: provider-neutral schema plus the callable bound to its environment."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON-schema object
    function: Callable[..., Any]


# What one tool call came to, first fault first: its arguments were not JSON (``unparseable``, seen
# by the agent before any tool runs), it named no offered tool, its arguments did not fit the tool's
# schema, or the tool itself refused or failed (``tool_error``); else ``ok``.
ToolCallKind = Literal["ok", "unparseable", "unknown_tool", "schema_misfit", "tool_error"]
TOOL_CALL_KINDS: tuple[ToolCallKind, ...] = get_args(ToolCallKind)


@dataclass(frozen=True)
class ToolResult:
    """What the model reads back: ``content`` is the rendered result, or the error text; ``kind``
    what the call came to (an error result built without one is the tool's own: ``tool_error``)."""

    content: str
    error: str | None = None
    kind: ToolCallKind = "ok"

    def __post_init__(self) -> None:
        if self.error is not None and self.kind == "ok":
            object.__setattr__(self, "kind", "tool_error")

    @classmethod
    def failed(cls, error: str, kind: ToolCallKind = "tool_error") -> ToolResult:
        """A failed call: the model reads ``Error: <error>``."""
        return cls(f"Error: {error}", error, kind)


@dataclass(frozen=True)
class ToolCallRecord:
    """One call as the environment saw it, failed ones included."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    content: str = ""
    error: str | None = None
    kind: ToolCallKind = "ok"


class Environment:
    """Base class: subclasses declare tools as ``@tool`` methods and may override :attr:`state`.

    A subclass can also set ``tool_definitions`` directly (for generated tools); otherwise it is
    collected from the ``@tool`` methods in the class body, in declaration order.
    """

    tool_definitions: ClassVar[tuple[ToolDefinition, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = tuple(v for v in vars(cls).values() if isinstance(v, ToolDefinition))
        if declared:
            cls.tool_definitions = declared

    def __init__(self, *, precise_numbers: bool = False) -> None:
        # ``precise_numbers``: render floats in full (``repr``), as the published benchmark's tools
        # did, instead of the twelve significant digits ToolSweep shows.
        self.precise_numbers = precise_numbers
        self._definitions = {d.name: d for d in self.tool_definitions}
        self.tools: list[Tool] = [
            Tool(d.name, d.description, d.schema, d.function.__get__(self)) for d in self.tool_definitions
        ]
        self.calls: list[ToolCallRecord] = []

    @property
    def state(self) -> Hashable | None:
        """The canonical, comparable state (``None`` for a stateless task)."""
        return None

    def call(self, name: str, arguments: Arguments = None) -> ToolResult:
        """Run one tool call, record it, and return what the model should read."""
        arguments = {} if arguments is None else arguments
        definition = self._definitions.get(name) if isinstance(name, str) else None
        if definition is None:
            valid = ", ".join(self._definitions)
            result = ToolResult.failed(f"unknown tool {clip(repr(name))}; valid tools: {valid}", "unknown_tool")
        else:
            result = self._run(definition, arguments)
        recorded = dict(arguments) if isinstance(arguments, Mapping) else {}
        self.calls.append(ToolCallRecord(str(name), recorded, result.content, result.error, result.kind))
        return result

    def _run(self, definition: ToolDefinition, arguments: Arguments) -> ToolResult:
        """A call of an offered tool: its arguments checked against the schema, then the tool run."""
        kind: ToolCallKind = "schema_misfit"  # a ToolError before the arguments pass is the schema's
        try:
            checked = definition.validate(arguments)
            kind = "tool_error"
            return ToolResult(render(definition.function(self, **checked), precise=self.precise_numbers))
        except ToolError as exc:
            return ToolResult.failed(str(exc), kind)
        except Exception as exc:  # a tool that fails unexpectedly: the model reads what, not only the message
            # (a bare KeyError's text is just the key, "'ALICE'"); the episode goes on, as after a ToolError
            return ToolResult.failed(f"{type(exc).__name__}: {exc}")


def render(value: Any, *, precise: bool = False) -> str:
    """A tool's return value as the text the model reads (``precise``: floats in full)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value) if precise else format_number(value)
    return json.dumps(value, ensure_ascii=False)


def format_number(value: float) -> str:
    """Twelve significant digits: enough for tolerance-based checks, without float noise like 6.6000000000000005."""
    return format(value, ".12g")


class EpisodeEnvironment(Protocol):
    """What the agent loop drives for one episode, whatever the tools run on: the offered
    ``tools``, an awaitable ``call`` (never raising for a bad call: that is a tool error), the
    ``calls`` made, and the final ``state`` once ``settle`` has run.

    In-process environments (:class:`Environment`) are adapted by :class:`LocalSession`; an MCP
    server's tools come through ``orchestrator.mcp_tools.session.McpSession``, which may raise
    :class:`EnvironmentFailure` when the server itself fails (the episode then ends as an error).
    """

    tools: list[Tool]
    calls: list[ToolCallRecord]
    # seconds the episode waited before its environment could start (an MCP session slot or a
    # server start's turn): queueing, kept out of the episode's duration
    queued_s: float

    @property
    def state(self) -> Hashable | None: ...

    async def call(self, name: str, arguments: Arguments = None) -> ToolResult: ...

    async def settle(self) -> None: ...


class EnvironmentFailure(Exception):
    """The environment itself failed (an MCP server that exited, hung or cannot be reached), as
    opposed to a tool refusing a call: the episode cannot go on."""


class LocalSession:
    """An in-process :class:`Environment` behind the async episode interface: tool calls run
    inline (they are plain Python and quick), ``settle`` has nothing to fetch."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.tools = environment.tools
        self.calls = environment.calls
        self.queued_s = 0.0  # in-process tools need no turn

    @property
    def state(self) -> Hashable | None:
        return self.environment.state

    async def call(self, name: str, arguments: Arguments = None) -> ToolResult:
        return self.environment.call(name, arguments)

    async def settle(self) -> None:
        return None

    async def __aenter__(self) -> LocalSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
