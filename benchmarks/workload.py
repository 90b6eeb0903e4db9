"""The sweep the throughput and memory benchmarks run: the oracle typing a few words, many times."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from orchestrator.config import MAX_SEEDS


def models_and_seeds(episodes: int, examples: int, model: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Copies of ``model`` (ids ``sim``, ``sim-1``, …: same policy, same gate) and a seed count
    that together plan at least ``episodes`` episodes of ``examples`` examples, with no more than
    ``MAX_SEEDS`` seeds."""
    copies = math.ceil(episodes / (examples * MAX_SEEDS))
    seeds = math.ceil(episodes / (examples * copies))
    return [{**model, "id": model["id"] if i == 0 else f"{model['id']}-{i}"} for i in range(copies)], seeds


def write_typewriter_sweep(directory: Path, name: str, *, words: list[str], episodes: int, latency_ms: float,
                           runners: int, concurrency: int | None, rps: float | None = None,
                           api_format: str = "openai") -> Path:
    """``<directory>/<name>.yaml``: at least ``episodes`` episodes of typewriter_single on ``words``
    against the simulator's oracle at a fixed latency, with a rate limit of ``rps`` if given and
    ``max_concurrency_per_runner`` set to ``concurrency`` if given (unset: the default, 64), spoken
    in ``api_format`` (the wire format, so the adapter and SDK, the calls go through)."""
    models, seeds = models_and_seeds(episodes, len(words), {
        "id": "sim", "provider": "simulated", "model": "oracle", "latency_ms": {"mean": latency_ms, "jitter": 0},
        "api_format": api_format})
    config: dict[str, Any] = {
        "name": name,
        "tasks": [{"name": "typewriter_single", "examples": words}],
        "seeds": seeds,
        "models": models,
        "ray": {"runners": runners} if concurrency is None else {"runners": runners,
                                                                 "max_concurrency_per_runner": concurrency},
        "output": str(directory / "runs"),
    }
    if rps is not None:
        config["providers"] = {"simulated": {"rpm": rps * 60}}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
