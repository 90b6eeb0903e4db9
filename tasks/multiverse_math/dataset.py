"""Multiverse Math questions, one JSONL file per dataset.

Datasets: ``toolsweep`` (``data/multiverse_math.jsonl``), ``paper`` (``data/multiverse_math_paper.jsonl``,
the 20 rows of the published ``DATASET``; provenance in ``data/README.md``) and ``paper-tiny`` (its
first 10 rows, the published ``DATASET_TINY``).

A step's argument may be ``{"result_of": k}``: the result of step ``k`` (0-based) of the same
example. The loader runs every example's steps through the tools, so the exposed
``expected_steps`` hold concrete numbers and the reference is what the tools compute; a row's
stored ``reference`` must agree with it (a stale one fails loading, naming the example). The paper
rows keep their stored reference text, the original's full-precision float.
"""

from __future__ import annotations

import math
from typing import Any

from tasks.dataset import example_from_row, read_jsonl
from tasks.environment import format_number
from tasks.multiverse_math.environment import MultiverseMath
from tasks.task import Example, ExpectedCall
from tasks.tooling import ToolError
from tasks.variants import DEFAULT_DATASET, PAPER_DATASET, PAPER_TINY_DATASET

STORED_REFERENCE_REL_TOL = 1e-9
PAPER_TINY_SIZE = 10  # the published DATASET_TINY is the first 10 rows of DATASET

DATASETS: tuple[str, ...] = (DEFAULT_DATASET, PAPER_DATASET, PAPER_TINY_DATASET)


def load_examples(dataset: str = DEFAULT_DATASET) -> tuple[Example, ...]:
    """Every question of ``dataset``, its steps resolved to concrete arguments and its reference checked."""
    if dataset == DEFAULT_DATASET:
        return tuple(resolve(row) for row in read_jsonl(__package__, "multiverse_math.jsonl"))
    rows = read_jsonl(__package__, "multiverse_math_paper.jsonl")
    if dataset == PAPER_TINY_DATASET:
        rows = rows[:PAPER_TINY_SIZE]
    return tuple(resolve(row, keep_reference=True) for row in rows)


def resolve(row: dict[str, Any], *, keep_reference: bool = False) -> Example:
    """Run one row's steps through the tools; ``ValueError`` if a step fails or the reference is stale."""
    tools = {t.name: t.function for t in MultiverseMath().tools}
    steps: list[ExpectedCall] = []
    results: list[float] = []
    for index, raw in enumerate(row["expected_steps"]):
        where = f"example {row['id']!r} step {index}"
        if raw["name"] not in tools:
            raise ValueError(f"{where}: unknown tool {raw['name']!r}")
        arguments = {k: _argument(v, results, where) for k, v in raw.get("arguments", {}).items()}
        try:
            results.append(tools[raw["name"]](**{k: float(v) for k, v in arguments.items()}))
        except ToolError as exc:
            raise ValueError(f"{where}: {exc}") from None
        steps.append(ExpectedCall(raw["name"], arguments))
    computed = results[-1]
    if not math.isclose(float(row["reference"]), computed, rel_tol=STORED_REFERENCE_REL_TOL):
        raise ValueError(
            f"example {row['id']!r}: stored reference {row['reference']} but the steps give {format_number(computed)}"
        )
    reference = str(row["reference"]) if keep_reference else format_number(computed)
    return example_from_row(row, expected_steps=tuple(steps), reference=reference)


def _argument(value: Any, results: list[float], where: str) -> float:
    if isinstance(value, dict):
        k = value.get("result_of")
        if not isinstance(k, int) or not 0 <= k < len(results):
            raise ValueError(f"{where}: {value} does not name an earlier step")
        return results[k]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: argument {value!r} is not a number")
    return value
