"""Build small run directories with the real record schemas, for the analysis tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from orchestrator.records import CallRow, EpisodeRow, EventRow, to_table

T0 = 1_700_000_000.0


def episode(**fields: Any) -> dict[str, Any]:
    """An episode row dict: a correct, completed typewriter episode unless told otherwise."""
    row = EpisodeRow(
        run="r",
        episode_id="e",
        model_id="m",
        provider="simulated",
        model="oracle",
        task="typewriter_single",
        example_id="x1",
        seed=0,
        strategy="native",
        status="completed",
        answer="cat",
        correct=True,
        judge_correct=None,
        state_correct=True,
        steps_match=True,
        step_ratio=1.0,
        n_steps=3,
        expected_steps=3,
        tool_calls=[],
        n_attempts=4,
        n_retries=0,
        input_tokens=100,
        output_tokens=10,
        cost_usd=0.001,
        started_at=T0,
        duration_s=1.0,
        error_class=None,
        error_message=None,
    ).to_dict()
    row.update(fields)
    if "episode_id" not in fields:
        row["episode_id"] = "|".join(
            str(row[k]) for k in ("model_id", "task", "example_id", "seed", "strategy")
        )
    return row


def call(**fields: Any) -> dict[str, Any]:
    """A call row dict: a first, successful attempt unless told otherwise."""
    row = CallRow(
        run="r",
        episode_id="e",
        provider="simulated",
        model_id="m",
        step=0,
        attempt=1,
        outcome="ok",
        http_status=200,
        retry_after_s=None,
        latency_s=0.2,
        breaker_state="closed",
        input_tokens=100,
        output_tokens=10,
        started_at=T0,
    ).to_dict()
    row.update(fields)
    return row


def event(**fields: Any) -> dict[str, Any]:
    row = EventRow(run="r", provider="simulated", runner="runner-0", kind="breaker", at=T0).to_dict()
    row.update(fields)
    return row


def write_part(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def write_run(
    root: Path,
    name: str = "r",
    *,
    episodes: list[dict[str, Any]] | None = None,
    calls: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    planned: int | None = None,
    parts: int = 2,
) -> Path:
    """Write a run directory; rows are split over ``parts`` part files per table."""
    run_dir = root / name
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "episodes_planned": planned if planned is not None else len(episodes or [])}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "sweep.yaml").write_text(f"name: {name}\n")
    for table, rows in (("episodes", episodes), ("calls", calls), ("events", events)):
        if rows is None:
            continue
        rows = [{**row, "run": name} for row in rows]
        size = max(1, -(-len(rows) // parts))
        for index in range(0, max(len(rows), 1), size):
            chunk = rows[index : index + size]
            if chunk:
                write_part(run_dir / table / f"part-{index:05d}.arrow", to_table(table, chunk))
    return run_dir
