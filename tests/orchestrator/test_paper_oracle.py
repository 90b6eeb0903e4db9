"""The simulator's oracle is perfect on every paper dataset: both scoring profiles, both wire
formats (OpenAI and Anthropic) and both strategies (native tool calls and text), end to end."""

from __future__ import annotations

import polars as pl
import pytest

import tasks
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import episodes, planned_ids, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

PAPER_TASKS = [{"name": name, "dataset": "paper"} for name in tasks.TASK_NAMES]


@pytest.mark.parametrize("scoring", ["toolsweep", "paper"])
def test_the_oracle_is_perfect_on_the_paper_datasets(tmp_path, scoring):
    path = write_config(
        tmp_path, tasks=PAPER_TASKS, strategies=["native", "text"], scoring=scoring,
        agent={"max_steps": 15},  # the published agent's limit; the longest string needs 14 turns
        judge="oracle",  # under paper, the judge decides Relational Data
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"},
                {"id": "oracle-anthropic", "provider": "simulated", "model": "oracle", "api_format": "anthropic"}])
    assert run_sweep(load_config(path), config_path=path) == 0
    df = episodes(tmp_path / "runs" / "e2e")
    assert set(df["episode_id"]) == planned_ids(path) and df.height == 2 * 2 * (20 + 20 + 21 + 20)
    assert df["status"].unique().to_list() == ["completed"]
    assert df["correct"].all() and df["steps_match"].all() and (df["step_ratio"] == 1.0).all()
    assert df.filter(pl.col("task").str.starts_with("typewriter"))["state_correct"].all()
    judged = df.filter(pl.col("task") == "relational_data")["judge_correct"]
    assert judged.len() == 2 * 2 * 21 and judged.null_count() == 0 and judged.all()
    assert set(df["dataset"]) == {"paper"} and set(df["scoring"]) == {scoring}
    assert set(df["strategy"]) == {"native", "text"}
    manifest = (tmp_path / "runs" / "e2e" / "manifest.json").read_text()
    assert f'"scoring": "{scoring}"' in manifest and '"multiverse_math": "paper"' in manifest
