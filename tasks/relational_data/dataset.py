"""Relational data questions: ``data/relational_data.jsonl``, one example per line.

References are short and normalizable (a name, a number, yes/no, or a list written "a, b, c");
each example's ``expected_steps`` is the optimal sequence of calls with concrete arguments.
"""

from __future__ import annotations

from tasks.dataset import example_from_row, read_jsonl
from tasks.task import Example


def load_examples() -> tuple[Example, ...]:
    """Every relational data question."""
    return tuple(example_from_row(row) for row in read_jsonl(__package__, "relational_data.jsonl"))
