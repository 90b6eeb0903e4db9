"""Loading a sweep config: read (``yaml_reader``), validate against the schema with every
problem placed on its line, cross-check (``checks``), attach what the checks resolved."""

from __future__ import annotations

import datetime as dt
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from orchestrator.config.checks import validate_semantics
from orchestrator.config.errors import ConfigError, Loc, as_written, format_loc, line_of, where
from orchestrator.config.schema import PATTERN_HINTS, SweepConfig, shown
from orchestrator.config.yaml_reader import read_yaml


def load_config(path: str | os.PathLike[str], *, check_keys: bool = True, today: dt.date | None = None) -> SweepConfig:
    """Read, validate and cross-check a sweep.yaml; any problem raises a one-line ConfigError.
    ``today``: the day model retirements are judged on (default: today)."""
    source = str(path)
    data, lines = read_yaml(Path(path), source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise ConfigError(f"{source}: the top level must be a mapping of keys (name, tasks, models, …), got {kind}")
    try:
        config = SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation(exc, source, lines)) from None
    config._source, config._lines = source, lines
    return config.with_task_sources(validate_semantics(config, check_keys=check_keys, today=today))


def _describe_validation(exc: ValidationError, source: str, lines: dict[Loc, int]) -> str:
    issues = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        at = (error.get("ctx") or {}).get("at")
        if at is not None:
            loc = (*loc, at)
        loc = as_written(loc, lines)
        issues.append((loc, _problem(error, loc)))
    # The first in file order is the one to fix first.
    issues.sort(key=lambda issue: line_of(lines, issue[0]) or 0)
    loc, problem = issues[0]
    more = f" (and {len(issues) - 1} more problem{'s' if len(issues) > 2 else ''})" if len(issues) > 1 else ""
    return f"{where(source, lines, loc)}: {format_loc(loc) or 'top level'}: {problem}{more}"


def _problem(error: Mapping[str, Any], loc: Loc) -> str:
    kind, message = str(error["type"]), str(error["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] in PATTERN_HINTS:
        return f"{PATTERN_HINTS[error['ctx']['pattern']]}, got {shown(error['input'])}"
    message = message.removeprefix("Value error, ")
    if kind == "literal_error" or kind.endswith("_type"):
        message += f", got {shown(error['input'])}"
    return message


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model found at ``loc`` in SweepConfig, for 'unknown key' messages."""
    annotation: Any = SweepConfig
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            field = annotation.model_fields.get(part)
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:  # a key that takes one mapping or a list of them
        annotation = _unwrap(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(members[0]) if len(members) == 1 else annotation
    return annotation
