"""One episode's world: the tools bound to fresh state, and the record of every call made.

:meth:`Environment.call` is the single place where a bad call becomes a readable tool error: an
unknown tool, arguments that do not fit the schema, or a :class:`~tasks.tooling.ToolError` raised
by the tool itself. Nothing a model sends can raise out of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tasks.tooling import ToolDefinition, ToolError, clip


@dataclass(frozen=True)
class Tool:
    """A tool as offered to a model: provider-neutral schema plus the callable bound to its environment."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON-schema object
    function: Callable[..., Any]


@dataclass(frozen=True)
class ToolResult:
    """What the model reads back: ``content`` is the rendered result, or the error text."""

    content: str
    error: str | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """One call as the environment saw it, failed ones included."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    content: str = ""
    error: str | None = None


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

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> ToolResult:
        """Run one tool call, record it, and return what the model should read."""
        arguments = {} if arguments is None else arguments
        try:
            definition = self._definitions.get(name) if isinstance(name, str) else None
            if definition is None:
                valid = ", ".join(self._definitions)
                raise ToolError(f"unknown tool {clip(repr(name))}; valid tools: {valid}")
            value = definition.function(self, **definition.validate(arguments))
            result = ToolResult(render(value, precise=self.precise_numbers))
        except ToolError as exc:
            result = ToolResult(f"Error: {exc}", str(exc))
        recorded = dict(arguments) if isinstance(arguments, Mapping) else {}
        self.calls.append(ToolCallRecord(str(name), recorded, result.content, result.error))
        return result


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
