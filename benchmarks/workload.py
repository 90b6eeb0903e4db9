"""Sizing a benchmark sweep: enough episodes of a few examples within the config's seed cap."""

from __future__ import annotations

import math
from typing import Any

from orchestrator.config import MAX_SEEDS


def models_and_seeds(episodes: int, examples: int, model: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Copies of ``model`` (ids ``sim``, ``sim-1``, …: same policy, same gate) and a seed count
    that together plan at least ``episodes`` episodes of ``examples`` examples, with no more than
    ``MAX_SEEDS`` seeds."""
    copies = math.ceil(episodes / (examples * MAX_SEEDS))
    seeds = math.ceil(episodes / (examples * copies))
    return [{**model, "id": model["id"] if i == 0 else f"{model['id']}-{i}"} for i in range(copies)], seeds
