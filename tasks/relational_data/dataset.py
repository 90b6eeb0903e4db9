"""Relational data questions, one JSONL file per dataset, one example per line.

Datasets: ``toolsweep`` (``data/relational_data.jsonl`` over ``data/tables.jsonl``) and ``paper``
(``data/relational_data_paper.jsonl`` over ``data/tables_paper.jsonl``: the 21 published questions
and their references; provenance in ``data/README.md``).

Each example's ``expected_steps`` is the optimal sequence of calls with concrete arguments. The
toolsweep references are short and normalizable (a name, a number, yes/no, or a list written
"a, b, c"); the paper references are as published ("285 calories", "yellow and Charlie").
"""

from __future__ import annotations

from tasks.dataset import example_from_row, read_jsonl
from tasks.task import Example
from tasks.variants import DEFAULT_DATASET, PAPER_DATASET

DATA_FILES: dict[str, str] = {DEFAULT_DATASET: "relational_data.jsonl", PAPER_DATASET: "relational_data_paper.jsonl"}


def load_examples(dataset: str = DEFAULT_DATASET) -> tuple[Example, ...]:
    """Every relational data question of ``dataset``."""
    return tuple(example_from_row(row) for row in read_jsonl(__package__, DATA_FILES[dataset]))
