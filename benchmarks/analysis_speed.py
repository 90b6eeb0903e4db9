"""How long the analysis takes on a large run: 1M episodes and 5M HTTP attempts.

Generates a synthetic run directory (Arrow IPC part files with the record schemas, realistic
mixes of statuses, outcomes, latencies and trajectory lengths) in a temporary directory, chunk by
chunk so memory stays small, then times: loading (schema checks + reading the needed columns),
every table, all tables together, every plot, and the whole report. Prints a table of timings:
the best and the worst of ``--repeat`` rounds (the machine may be shared; the best is the least
disturbed measurement).

    python benchmarks/analysis_speed.py [--episodes 1000000] [--calls 5000000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from analysis import accuracy, plots, reliability, trajectory, variance
from analysis.load import load_runs
from analysis.report import build_report
from analysis.tables import compute_tables, run_summary
from orchestrator.records import CALL_OUTCOMES, CALLS_SCHEMA, EPISODE_STATUSES, EPISODES_SCHEMA, EVENTS_SCHEMA

RUN = "bench"
T0 = 1_700_000_000.0
RUN_SPAN_S = 4 * 3600.0
PROVIDERS = ("simulated", "openai", "anthropic", "local")
MODELS = [(f"model-{i:02d}", PROVIDERS[i % len(PROVIDERS)]) for i in range(12)]
STRATEGIES = ("native", "text")
SEEDS = 5
TASKS = ("typewriter_single", "typewriter_26", "relational_data", "multiverse_math")
# How often each episode status and attempt outcome occurs, by name (every one of the schema's).
STATUS_SHARE = {"completed": 0.86, "max_steps": 0.05, "provider_failed": 0.05, "refused": 0.02, "agent_error": 0.02}
OUTCOME_SHARE = {"ok": 0.925, "http_5xx": 0.03, "http_429": 0.02, "timeout": 0.008, "connection": 0.005,
                 "refusal": 0.006, "malformed": 0.004, "bad_request": 0.001, "auth": 0.001}
assert set(STATUS_SHARE) == set(EPISODE_STATUSES) and set(OUTCOME_SHARE) == set(CALL_OUTCOMES)
STATUS_P = np.array([STATUS_SHARE[s] for s in EPISODE_STATUSES])
OUTCOME_P = np.array([OUTCOME_SHARE[o] for o in CALL_OUTCOMES])
OK, HTTP_5XX = CALL_OUTCOMES.index("ok"), CALL_OUTCOMES.index("http_5xx")
STATUS_BY_OUTCOME = {"ok": 200, "http_429": 429, "refusal": 400, "bad_request": 400, "auth": 401}
EPISODES_PER_PART = 5000


def _hex_ids(values: np.ndarray) -> pa.Array:
    return pa.array(np.char.mod("%016x", values.astype(np.uint64)).astype(object), pa.string())


def _strings(choices: tuple[str, ...] | list[str], index: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(choices)).cast(pa.string())


def _empty_tool_calls(n: int) -> pa.Array:
    return pa.ListArray.from_arrays(
        pa.array(np.zeros(n + 1, np.int32)), pa.nulls(0, EPISODES_SCHEMA.field("tool_calls").type.value_type)
    )


def _episode_batch(
    first: int, n: int, examples_per_task: int, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray]:
    """Episodes ``first .. first + n`` of the plan (model × strategy × seed × task × example), and their model index."""
    index = np.arange(first, first + n, dtype=np.int64)
    example = index % examples_per_task
    task = (index // examples_per_task) % len(TASKS)
    seed = (index // (examples_per_task * len(TASKS))) % SEEDS
    strategy = (index // (examples_per_task * len(TASKS) * SEEDS)) % len(STRATEGIES)
    model = (index // (examples_per_task * len(TASKS) * SEEDS * len(STRATEGIES))) % len(MODELS)
    word_length = (example % 13) + 1
    expected = np.where(task < 2, word_length, np.where(task == 2, example % 5 + 1, example % 9 + 1))
    status = rng.choice(len(EPISODE_STATUSES), size=n, p=STATUS_P / STATUS_P.sum())
    scored = status <= 1
    skill = 3.5 - 0.25 * model - 0.4 * strategy
    p_correct = 1.0 / (1.0 + np.exp(-(skill - 0.35 * expected + 0.3 * rng.standard_normal(n))))
    correct = (rng.random(n) < p_correct) & (status == 0)
    has_state = task < 2
    n_steps = np.maximum(0, expected + rng.integers(-1, 3, n))
    n_steps = np.where(status == 1, 30, n_steps)
    attempts = rng.poisson(4.0, n) + 1  # only for the episode's own counters and cost
    tokens_in = attempts * rng.integers(300, 1500, n)
    tokens_out = attempts * rng.integers(10, 80, n)
    started = T0 + rng.random(n) * RUN_SPAN_S
    mask = ~scored
    columns = {
        "run": pa.array([RUN] * n, pa.string()),
        "episode_id": _hex_ids(index),
        "model_id": _strings([m for m, _ in MODELS], model),
        "provider": _strings([p for _, p in MODELS], model),
        "model": _strings([m for m, _ in MODELS], model),
        "task": _strings(TASKS, task),
        "example_id": _hex_ids(example + 1_000_000 * task),
        "seed": pa.array(seed),
        "strategy": _strings(STRATEGIES, strategy),
        "status": _strings(EPISODE_STATUSES, status),
        "answer": pa.nulls(n, pa.string()),
        "correct": pa.array(correct, mask=mask),
        "judge_correct": pa.nulls(n, pa.bool_()),
        "state_correct": pa.array(correct, mask=mask | ~has_state),
        "steps_match": pa.array(correct & (n_steps == expected), mask=mask),
        "step_ratio": pa.array(n_steps / expected, mask=~scored),
        "n_steps": pa.array(n_steps),
        "expected_steps": pa.array(expected),
        "tool_calls": _empty_tool_calls(n),
        "n_attempts": pa.array(attempts),
        "n_retries": pa.array(np.maximum(0, attempts - expected - 1)),
        "input_tokens": pa.array(tokens_in),
        "output_tokens": pa.array(tokens_out),
        "cost_usd": pa.array(tokens_in * 2.5e-6 + tokens_out * 1e-5),
        "started_at": pa.array(started),
        "duration_s": pa.array(attempts * rng.lognormal(-0.3, 0.5, n)),
        "error_class": pa.nulls(n, pa.string()),
        "error_message": pa.nulls(n, pa.string()),
        "node_id": pa.nulls(n, pa.string()),
        "difficulty": pa.array(expected),
    }
    return pa.Table.from_pydict(columns, schema=EPISODES_SCHEMA), model


def _call_batch(
    episodes: pa.Table, models: np.ndarray, attempts: np.ndarray, rng: np.random.Generator
) -> pa.Table:
    rows = np.repeat(np.arange(episodes.num_rows), attempts)
    n = len(rows)
    model = models[rows]
    outcome = rng.choice(len(CALL_OUTCOMES), size=n, p=OUTCOME_P / OUTCOME_P.sum())
    flaky = model % 4 == 1  # one provider in four fails five times as often
    outcome = np.where(flaky & (rng.random(n) < 0.15), HTTP_5XX, outcome)
    status_codes = np.array([STATUS_BY_OUTCOME.get(o, 0) for o in CALL_OUTCOMES])[outcome]
    status_codes = np.where(outcome == HTTP_5XX, rng.choice([500, 502, 503, 529], size=n), status_codes)
    within = np.arange(n) - np.repeat(np.cumsum(attempts) - attempts, attempts)
    ok = outcome == OK
    # An attempt after a failed one in the same episode is a retry of the same model call.
    retry = np.concatenate(([False], ~ok[:-1])) & (within > 0)
    new_call = np.cumsum(~retry)
    step = new_call - np.repeat(new_call[np.cumsum(attempts) - attempts], attempts)
    take = pa.array(rows)
    columns = {
        "run": pa.array([RUN] * n, pa.string()),
        "episode_id": episodes.column("episode_id").take(take),
        "provider": episodes.column("provider").take(take),
        "model_id": episodes.column("model_id").take(take),
        "step": pa.array(step),
        "attempt": pa.array(retry.astype(np.int64) + 1),
        "outcome": _strings(CALL_OUTCOMES, outcome),
        "http_status": pa.array(status_codes, mask=status_codes == 0),
        "retry_after_s": pa.array(np.ones(n), mask=outcome != 2),
        "latency_s": pa.array(rng.lognormal(-0.2, 0.6, n)),
        "breaker_state": pa.array(["closed"] * n, pa.string()),
        "input_tokens": pa.array(np.where(ok, rng.integers(300, 1500, n), 0)),
        "output_tokens": pa.array(np.where(ok, rng.integers(10, 80, n), 0)),
        "started_at": pa.array(T0 + rng.random(n) * RUN_SPAN_S),
        "error_message": pa.nulls(n, pa.string()),
    }
    return pa.Table.from_pydict(columns, schema=CALLS_SCHEMA)


def _events(rng: np.random.Generator) -> pa.Table:
    rows = []
    for provider in PROVIDERS:
        for runner in ("runner-0", "runner-1"):
            at = T0
            for _ in range(100):
                at += rng.exponential(60.0)
                rows.append(
                    {
                        "run": RUN,
                        "provider": provider,
                        "runner": runner,
                        "kind": "breaker",
                        "at": at,
                        "from_state": "closed",
                        "to_state": "open",
                    }
                )
                at += 10.0
                rows.append(
                    {
                        "run": RUN,
                        "provider": provider,
                        "runner": runner,
                        "kind": "breaker",
                        "at": at,
                        "from_state": "open",
                        "to_state": "half_open",
                    }
                )
                at += rng.exponential(1.0)
                rows.append(
                    {
                        "run": RUN,
                        "provider": provider,
                        "runner": runner,
                        "kind": "breaker",
                        "at": at,
                        "from_state": "half_open",
                        "to_state": "closed",
                    }
                )
    return pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA)


def _write(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def generate_run(root: Path, n_episodes: int, n_calls: int, seed: int = 0) -> Path:
    """Write a synthetic run; calls per episode are scaled so the total is close to ``n_calls``."""
    run_dir = root / RUN
    for table in ("episodes", "calls", "events"):
        (run_dir / table).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    examples_per_task = -(-n_episodes // (len(MODELS) * len(STRATEGIES) * SEEDS * len(TASKS)))
    calls_per_episode = n_calls / n_episodes
    written_calls = 0
    for part, first in enumerate(range(0, n_episodes, EPISODES_PER_PART)):
        size = min(EPISODES_PER_PART, n_episodes - first)
        episodes, models = _episode_batch(first, size, examples_per_task, rng)
        attempts = rng.poisson(calls_per_episode - 1, size) + 1
        _write(run_dir / "episodes" / f"part-{part:05d}.arrow", episodes)
        calls = _call_batch(episodes, models, attempts, rng)
        written_calls += calls.num_rows
        _write(run_dir / "calls" / f"part-{part:05d}.arrow", calls)
    _write(run_dir / "events" / "part-00000.arrow", _events(rng))
    manifest = {"name": RUN, "episodes_planned": n_episodes, "calls_written": written_calls}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "sweep.yaml").write_text(f"name: {RUN}\n")
    return run_dir


Timing = tuple[str, float, float]  # label, wall seconds, CPU seconds of this process (all threads)


def _timed(label: str, timings: list[Timing], work: Callable[[], object]) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    timings.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return result


def _since(label: str, timings: list[Timing], first: int) -> None:
    """A total over the steps recorded from index ``first`` on."""
    steps = timings[first:]
    timings.append((label, sum(t[1] for t in steps), sum(t[2] for t in steps)))


def run_benchmark(run_dir: Path, out_dir: Path) -> list[Timing]:
    timings: list[Timing] = []
    lazy = _timed("load: scan + schema check", timings, lambda: load_runs([run_dir]))
    data = _timed("load: read needed columns", timings, lazy.collect)
    episodes, calls, events = data.episodes, data.calls, data.events
    table_start = len(timings)
    _timed("table: run summary", timings, lambda: run_summary(data))
    scored = _timed(
        "shared: scored episodes", timings, lambda: accuracy.scored_episodes(episodes).collect().lazy()
    )
    examples = _timed(
        "shared: outcomes per example", timings, lambda: variance.example_outcomes(episodes, scored=scored)
    )
    accuracy_frame = _timed(
        "table: accuracy", timings, lambda: accuracy.accuracy_table(episodes, scored=scored)
    )
    _timed("table: exclusions (chi-square)", timings, lambda: accuracy.exclusion_table(episodes))
    lengths = _timed(
        "table: trajectory lengths", timings, lambda: trajectory.length_table(episodes, scored=scored)
    )
    fits = _timed("table: trajectory fits", timings, lambda: trajectory.fit_table(lengths))
    _timed(
        "table: variance (bootstrap B=1000)",
        timings,
        lambda: variance.variance_table(episodes, scored=scored, examples=examples),
    )
    pass_k = _timed(
        "table: pass@k / pass^k", timings, lambda: variance.pass_k_table(episodes, examples=examples)
    )
    breakers = _timed("table: breakers", timings, lambda: reliability.breaker_table(calls, episodes, events))
    _timed("table: reliability", timings, lambda: reliability.reliability_table(calls, episodes, breakers))
    _timed("table: http status", timings, lambda: reliability.status_table(calls))
    outcomes = _timed("table: provider outcomes", timings, lambda: reliability.provider_outcomes(calls))
    _timed("table: refusals by task", timings, lambda: reliability.refusals_by_task(calls, episodes))
    errors = _timed("table: errors over time", timings, lambda: reliability.errors_over_time(calls))
    _since("TABLES TOTAL (one by one)", timings, table_start)
    _timed("TABLES TOTAL (compute_tables)", timings, lambda: compute_tables(data))
    plot_start = len(timings)
    _timed("plot: accuracy bars", timings, lambda: plots.accuracy_bars(accuracy_frame, out_dir / "a.png"))
    _timed("plot: trajectory", timings, lambda: plots.trajectory_curves(lengths, fits, out_dir / "t.png"))
    _timed("plot: pass^k", timings, lambda: plots.pass_k_curves(pass_k, out_dir / "p.png"))
    _timed("plot: reliability", timings, lambda: plots.reliability_bars(outcomes, out_dir / "r.png"))
    _timed("plot: errors over time", timings, lambda: plots.error_curves(errors, out_dir / "e.png"))
    _since("PLOTS TOTAL", timings, plot_start)
    _timed("whole report (load → index.html)", timings, lambda: build_report([run_dir], out_dir / "report"))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of measurement")
    parser.add_argument("--keep", type=Path, default=None, help="write the run here and keep it")
    args = parser.parse_args()
    if args.episodes < 1 or args.calls < args.episodes:
        parser.error("need --episodes >= 1 and --calls >= --episodes (every episode makes a call)")
    root = args.keep or Path(tempfile.mkdtemp(prefix="analysis-speed-"))
    try:
        start = time.perf_counter()
        run_dir = generate_run(root, args.episodes, args.calls)
        manifest = json.loads((run_dir / "manifest.json").read_text())
        size_mb = sum(p.stat().st_size for p in run_dir.rglob("*.arrow")) / 2**20
        print(
            f"generated {args.episodes:,} episodes and {manifest['calls_written']:,} calls "
            f"({size_mb:,.0f} MiB of Arrow) in {time.perf_counter() - start:.1f} s"
        )
        rounds = [run_benchmark(run_dir, root / "out") for _ in range(max(1, args.repeat))]
        width = max(len(label) for label, _, _ in rounds[0])
        print(f"{'step':<{width}}  best s  worst s  cpu s (best round)")
        for index, (label, _, _) in enumerate(rounds[0]):
            measured = [timings[index] for timings in rounds]
            best = min(measured, key=lambda t: t[1])
            worst = max(t[1] for t in measured)
            print(f"{label:<{width}}  {best[1]:6.3f}  {worst:7.3f}  {best[2]:6.3f}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
