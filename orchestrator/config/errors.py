"""The one shape of every config message: ``<file>:<line>: <field>: <problem>``, key-shaped text
masked, and the helpers that find the line of a field."""

from __future__ import annotations

import json

from providers.keys import mask_keys

Loc = tuple[str | int, ...]


class ConfigError(ValueError):
    """A user mistake in the sweep config or the run directory; the message is one line, and any
    key-shaped text in it is masked (a key pasted into the config must not reach a terminal or a
    CI log)."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_keys(message))


def format_loc(loc: Loc) -> str:
    """``("models", 1, "faults")`` → ``models[1].faults``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of ``loc`` the file spells out (the root itself has none)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def as_written(loc: Loc, lines: dict[Loc, int]) -> Loc:
    """``loc`` as the file spells it: a key that takes one mapping or a list of them (``reasoning``)
    is validated as a list, so drop the ``[0]`` the file does not have."""
    for k, part in enumerate(loc):
        if isinstance(part, int) and loc[:k] in lines and loc[:k + 1] not in lines:
            return (*loc[:k], *loc[k + 1:])
    return loc


def where(source: str | None, lines: dict[Loc, int], loc: Loc) -> str:
    """``<file>:<line>`` of ``loc``; the file alone when the field has no line."""
    line = line_of(lines, loc)
    source = source or "<config>"
    return f"{source}:{line}" if line else source
