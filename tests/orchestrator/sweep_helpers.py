"""Writing sweep configs, episode rows and reading run directories, for the orchestrator tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from orchestrator.config import load_config
from orchestrator.plan import EpisodeSpec, build_plan


def write_config(tmp_path: Path, **fields: Any) -> Path:
    config = {"name": "e2e", "seeds": 1, "strategies": ["native"], "agent": {"max_steps": 30},
              "ray": {"runners": 2, "max_concurrency_per_runner": 32}, "output": str(tmp_path / "runs")}
    config.update(fields)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def planned_ids(path: Path) -> set[str]:
    return {spec.episode_id for spec in build_plan(load_config(path))}


def episodes(run: Path) -> pl.DataFrame:
    return pl.read_ipc(str(run / "episodes" / "*.arrow"))


def calls(run: Path) -> pl.DataFrame:
    return pl.read_ipc(str(run / "calls" / "*.arrow"))


def simulator_stats(run: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((run / "simulator").glob("stats-*.json"))]


def max_requests_per_second(stats: list[dict[str, Any]]) -> int:
    per_second: dict[str, int] = {}
    for s in stats:
        for second, n in s["per_second"].items():
            per_second[second] = per_second.get(second, 0) + n
    return max(per_second.values(), default=0)


def episode_row(spec: EpisodeSpec, run: str = "rd") -> dict:
    """A complete ``episodes`` row for a planned episode: completed, correct, every field set."""
    return {
        "run": run, "episode_id": spec.episode_id, "model_id": spec.model_id, "provider": "simulated",
        "model": "oracle", "task": spec.task, "example_id": spec.example_id, "seed": spec.seed,
        "strategy": spec.strategy, "status": "completed", "answer": "x", "correct": True,
        "judge_correct": None, "state_correct": True, "steps_match": True, "step_ratio": 1.0,
        "n_steps": 3, "expected_steps": 3,
        "tool_calls": [{"name": "type_letter", "arguments": '{"letter": "x"}', "result": "OK", "error": None}],
        "n_attempts": 4, "n_retries": 0, "input_tokens": 10, "output_tokens": 5, "cost_usd": None,
        "started_at": 1.0, "duration_s": 0.5, "error_class": None, "error_message": None,
    }
