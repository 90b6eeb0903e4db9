"""Declaring tools once: a JSON schema derived from a typed signature and its docstring.

A tool is a method of an :class:`~tasks.environment.Environment` subclass marked with :func:`tool`::

    @tool
    def get_food_name(self, food_id: int) -> str:
        \"\"\"Get the name of the food with the given id.

        Args:
            food_id: The food's id.
        \"\"\"

The decorator reads the parameter types (``str``, ``int``, ``float``, ``bool``, ``list[...]``) and
the ``Args:`` section once, at class definition, and keeps what it needs to validate the arguments
a model sends. A tool signals a bad call by raising :class:`ToolError`; the environment turns it
into the error text the model reads.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolError(Exception):
    """A tool call the tool cannot carry out; the message is shown to the model."""


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: its name, Python type, description and whether it is required."""

    name: str
    annotation: Any
    description: str
    required: bool

    def schema(self) -> dict[str, Any]:
        schema = _json_schema(self.annotation)
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class ToolDefinition:
    """A tool as declared on an environment class; ``function`` takes the environment first."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    function: Callable[..., Any]

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON-schema object describing the tool's arguments."""
        return {
            "type": "object",
            "properties": {p.name: p.schema() for p in self.parameters},
            "required": [p.name for p in self.parameters if p.required],
            "additionalProperties": False,
        }

    def validate(self, arguments: object) -> dict[str, Any]:
        """Check ``arguments`` against the schema; return them coerced to the declared types."""
        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {_describe(arguments)}")
        declared = {p.name: p for p in self.parameters}
        unexpected = sorted(str(key) for key in arguments if key not in declared)
        if unexpected:
            takes = ", ".join(declared) if declared else "no arguments"
            raise ToolError(f"{self.name}: unexpected argument {clip(repr(unexpected[0]))} (it takes: {takes})")
        missing = [p.name for p in self.parameters if p.required and p.name not in arguments]
        if missing:
            raise ToolError(f"{self.name}: missing required argument {missing[0]!r}")
        return {
            name: _coerce(value, declared[name].annotation, f"{self.name}: argument {name!r}")
            for name, value in arguments.items()
        }


def tool(
    function: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None
) -> Any:
    """Mark an environment method as a tool; usable bare (``@tool``) or with overrides.

    ``name`` defaults to the function's name, ``description`` to its docstring's first paragraph.
    The first parameter (the environment) is not part of the schema.
    """

    def declare(fn: Callable[..., Any]) -> ToolDefinition:
        summary, argument_docs = _parse_docstring(inspect.getdoc(fn) or "")
        hints = typing.get_type_hints(fn)
        parameters = []
        for parameter in list(inspect.signature(fn).parameters.values())[1:]:
            if parameter.name not in hints:
                raise TypeError(f"tool {fn.__name__}: parameter {parameter.name!r} has no type annotation")
            _json_schema(hints[parameter.name])  # fail at declaration on an unsupported type
            parameters.append(Parameter(
                name=parameter.name,
                annotation=hints[parameter.name],
                description=argument_docs.get(parameter.name, ""),
                required=parameter.default is inspect.Parameter.empty,
            ))
        text = description if description is not None else summary
        if not text:
            raise TypeError(f"tool {fn.__name__}: needs a docstring or a description")
        return ToolDefinition(name or fn.__name__, text, tuple(parameters), fn)

    return declare if function is None else declare(function)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its first paragraph and the ``Args:`` descriptions."""
    summary = " ".join(doc.split("\n\n", 1)[0].split())
    arguments: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:"):
            in_args = True
            continue
        if not in_args:
            continue
        if stripped.endswith(":") and not line.startswith(" "):
            break  # the next section (Returns:, Raises:)
        head, sep, rest = stripped.partition(":")
        if sep and head.isidentifier():
            current = head
            arguments[current] = rest.strip()
        elif stripped and current:
            arguments[current] += " " + stripped
    return summary, arguments


def _json_schema(annotation: Any) -> dict[str, Any]:
    if annotation in JSON_TYPES:
        return {"type": JSON_TYPES[annotation]}
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": _json_schema(item)}
    raise TypeError(f"unsupported tool parameter type: {annotation!r}")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Return ``value`` as ``annotation`` or raise ToolError saying what was expected."""
    if annotation in (bool, str) and type(value) is annotation:
        return value
    if annotation in (int, float) and isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value, annotation, where)
    if typing.get_origin(annotation) is list and isinstance(value, list):
        (item,) = typing.get_args(annotation)
        return [_coerce(v, item, f"{where} item {i}") for i, v in enumerate(value)]
    raise ToolError(f"{where} must be {_expected(annotation)}, got {_describe(value)}")


def _number(value: int | float, annotation: type, where: str) -> int | float:
    # JSON has no NaN or Infinity, and a huge integer would make later arithmetic slow: refuse both.
    try:
        as_float = float(value)
    except OverflowError:
        raise ToolError(f"{where} is too large") from None
    if not math.isfinite(as_float):
        raise ToolError(f"{where} must be a finite number, got {value}")
    if annotation is float:
        return as_float
    if isinstance(value, float) and not value.is_integer():
        raise ToolError(f"{where} must be an integer, got {value}")
    return int(value)


def _expected(annotation: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return names.get(annotation, "a list")


def _describe(value: Any) -> str:
    kind = {
        bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object",
        type(None): "null",
    }
    if type(value) is int and value.bit_length() > 64:
        text = f"of {value.bit_length()} bits"  # repr of a huge int is slow, or refused past 4300 digits
    else:
        text = clip(repr(value))
    return f"{kind.get(type(value), type(value).__name__)} {text}"


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters, so echoing a model's input keeps error messages short."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
