"""Reading a task's packaged JSONL data: one self-describing JSON object per line.

An example row holds ``id``, ``question``, ``reference``, ``expected_steps`` (a list of
``{"name": ..., "arguments": {...}}``) and optionally ``order_matters``, ``difficulty`` and
``expected_state``. Task loaders may derive some of these (the typewriter rows hold only the text).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from tasks.task import Example, ExpectedCall

EXAMPLE_KEYS = frozenset(
    {"id", "question", "reference", "expected_steps", "order_matters", "difficulty", "expected_state", "computed"}
)


def read_jsonl(package: str, filename: str) -> list[dict[str, Any]]:
    """The rows of ``<package>/data/<filename>``; a malformed line raises ``ValueError`` naming it."""
    text = resources.files(package).joinpath("data").joinpath(filename).read_text(encoding="utf-8")
    return [row for _, row in parse_rows(text, filename)]


def parse_rows(text: str, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON object of each non-blank line of ``text`` with its line number (1-based); a
    malformed line raises ``ValueError`` as ``<filename>:<line>: ...``."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{filename}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{filename}:{number}: expected a JSON object")
        rows.append((number, row))
    return rows


def parse_steps(raw_steps: list[dict[str, Any]]) -> tuple[ExpectedCall, ...]:
    """Expected steps from their JSON form."""
    return tuple(ExpectedCall(step["name"], dict(step.get("arguments", {}))) for step in raw_steps)


def example_from_row(row: dict[str, Any], **derived: Any) -> Example:
    """An :class:`Example` from a row; ``derived`` fields (already parsed) override the row's."""
    unknown = set(row) - EXAMPLE_KEYS
    if unknown:
        raise ValueError(f"example {row.get('id')!r}: unknown field(s) {sorted(unknown)}")
    fields = {**row, **derived}
    if not isinstance(fields.get("expected_steps"), tuple):
        fields["expected_steps"] = parse_steps(fields["expected_steps"])
    return Example(
        id=fields["id"],
        question=fields["question"],
        reference=fields["reference"],
        expected_steps=fields["expected_steps"],
        expected_state=fields.get("expected_state"),
        difficulty=fields.get("difficulty", 0),
        order_matters=fields.get("order_matters", True),
        computed=bool(fields.get("computed", False)),
    )
