"""How long a large sweep takes to resume: plan, find what is done, skip it.

Builds a 100,000-episode sweep (four tasks × two simulated models × two strategies × seeds,
``--limit``), opens its run directory, and writes the rows of 90% of the plan as episode part
files — synthesized with ``orchestrator.records.to_table`` and ``orchestrator.writer.write_part``,
in parts of ``--rows-per-part`` rows, about what the writer's 2 s flushes give at 80 episodes/s.
Then it times what ``python -m orchestrator sweep`` does before it starts Ray, in a fresh
process each time (``--repeat``): load the config, build the plan, reopen the run directory
(manifest, plan hash), read the done ids and skip them — once piece by piece, once as
``run_sweep(..., dry_run=True)``. Python's start-up and imports are outside the timings.

    python benchmarks/resume_speed.py [--episodes 100000] [--done 0.9] [--rows-per-part 160]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.config import load_config  # noqa: E402 - after the path setup
from orchestrator.plan import EpisodeSpec, build_plan  # noqa: E402
from orchestrator.records import to_table  # noqa: E402
from orchestrator.rundir import RunDir  # noqa: E402
from orchestrator.writer import write_part  # noqa: E402

TASKS = ["typewriter_single", "typewriter_26", "relational_data", "multiverse_math"]


def write_config(directory: Path, episodes: int) -> Path:
    per_seed = 2 * 2 * 114  # models × strategies × the four tasks' examples
    config = {
        "name": "resume",
        "tasks": TASKS,
        "seeds": -(-episodes // per_seed),
        "strategies": ["native", "text"],
        "models": [{"id": "sim-oracle", "provider": "simulated", "model": "oracle"},
                   {"id": "sim-noisy", "provider": "simulated", "model": "noisy"}],
        "output": str(directory / "runs"),
    }
    path = directory / "resume.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def episode_row(run: str, spec: EpisodeSpec, started_at: float) -> dict:
    return {
        "run": run, "episode_id": spec.episode_id, "model_id": spec.model_id, "provider": "simulated",
        "model": "oracle", "task": spec.task, "example_id": spec.example_id, "seed": spec.seed,
        "strategy": spec.strategy, "status": "completed", "answer": "42", "correct": True,
        "judge_correct": None, "state_correct": None, "steps_match": True, "step_ratio": 1.0,
        "n_steps": 2, "expected_steps": 2,
        "tool_calls": [{"name": "add", "arguments": '{"a": 1, "b": 2}', "result": "3.2", "error": None}] * 2,
        "n_attempts": 3, "n_retries": 0, "input_tokens": 900, "output_tokens": 60, "cost_usd": None,
        "started_at": started_at, "duration_s": 0.7, "error_class": None, "error_message": None,
        "node_id": "node", "difficulty": 2,
    }


def synthesize(config_path: Path, episodes: int, done_share: float, rows_per_part: int, seed: int) -> int:
    """Create the run directory and write the rows of a random ``done_share`` of the plan."""
    config = load_config(config_path)
    plan = build_plan(config, limit=episodes)
    run_dir = RunDir.prepare(config, config_path, plan)
    run_dir.close()
    done = random.Random(seed).sample(plan, round(len(plan) * done_share))
    now = time.time()
    for start in range(0, len(done), rows_per_part):
        chunk = done[start:start + rows_per_part]
        write_part(run_dir.episodes_dir, to_table("episodes", [episode_row(run_dir.name, s, now) for s in chunk]),
                   "part")
    return len(done)


def time_resume(config_path: Path, episodes: int) -> dict[str, float]:
    """In this process: the resume path piece by piece, then as a dry run."""
    from orchestrator.sweep import _pending, run_sweep

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    config = load_config(config_path)
    t1 = time.perf_counter()
    plan = build_plan(config, limit=episodes)
    t2 = time.perf_counter()
    run_dir = RunDir.prepare(config, config_path, plan)  # the resume: manifest and plan hash rewritten
    t3 = time.perf_counter()
    todo = _pending(plan, run_dir)
    t4 = time.perf_counter()
    run_dir.close()
    timings.update(load_config=t1 - t0, build_plan=t2 - t1, reopen_run_dir=t3 - t2, done_and_skip=t4 - t3,
                   total=t4 - t0, to_run=len(todo))
    with redirect_stdout(io.StringIO()):
        t5 = time.perf_counter()
        run_sweep(load_config(config_path), config_path=config_path, dry_run=True, limit=episodes)
        timings["dry_run"] = time.perf_counter() - t5
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--done", type=float, default=0.9, help="share of the plan already recorded")
    parser.add_argument("--rows-per-part", type=int, default=160)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time", type=Path, help=argparse.SUPPRESS)  # the measuring child's mode
    args = parser.parse_args()
    if args.time:
        print(json.dumps(time_resume(args.time, args.episodes)))
        return

    with tempfile.TemporaryDirectory(prefix="tsbench-") as scratch:
        config_path = write_config(Path(scratch), args.episodes)
        written = synthesize(config_path, args.episodes, args.done, args.rows_per_part, args.seed)
        parts = -(-written // args.rows_per_part)
        print(f"{args.episodes} episodes planned, {written} recorded in {parts} part files")
        columns = ("load_config", "build_plan", "reopen_run_dir", "done_and_skip", "total", "dry_run")
        print(" ".join(f"{c:>14}" for c in columns) + "   (seconds, one fresh process per row)")
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--time", str(config_path), "--episodes",
                                  str(args.episodes)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                                 check=True).stdout
            timings = json.loads(out.strip().splitlines()[-1])
            assert timings["to_run"] == args.episodes - written, timings
            print(" ".join(f"{timings[c]:>14.2f}" for c in columns), flush=True)


if __name__ == "__main__":
    main()
