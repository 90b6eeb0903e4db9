"""A batched sweep in the simulator: the driver's peak memory and CPU per model call, and wall time.

A batched model's turns wait in the runners' batch queues rather than on open HTTP requests, so
a batched sweep holds many more episodes in flight than an online one; this measures what that
costs the driver. One child process (a fresh peak) starts a local Ray and its own simulator, runs
``run_sweep`` — what ``python -m orchestrator sweep`` runs — on a batched oracle and, as in
``memory.py``, samples the driver's resident set and the runners' peaks once a second. It prints
episodes, model calls, batches (from ``runs/<name>/batches.jsonl``), wall time, the driver's peak
resident set (VmHWM, before the closing summary reads the tables back) and the driver's CPU time
(user + system, ``resource.getrusage``) over the model calls, and the runners' peak.

Workload: the oracle on the one- and two-letter words of typewriter_single (2–3 model calls per
episode), every model call batched (``flush_s`` 0.5 s, ``poll_s`` 0.2 s), each batch processed in
``--processing-s`` by the simulator's batch API.

    python benchmarks/batch_sweep.py [--episodes 2000] [--processing-s 0.5]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory import Sampler, run_child  # noqa: E402 - after the path setup
from workload import write_typewriter_sweep  # noqa: E402

from orchestrator.runner import memory_kib  # noqa: E402

WORDS = ["a", "aa", "go"]
BATCH = {"flush_s": 0.5, "poll_s": 0.2}


def write_batch_sweep(directory: Path, *, episodes: int, processing_s: float, runners: int,
                      concurrency: int) -> Path:
    """``memory.py``'s workload with every model batched and the simulator's batch API set."""
    path = write_typewriter_sweep(directory, f"batch-{episodes}", words=WORDS, episodes=episodes, latency_ms=0,
                                  runners=runners, concurrency=concurrency)
    config = yaml.safe_load(path.read_text())
    for model in config["models"]:
        model.pop("latency_ms", None)
        model["batch"] = BATCH
    config["simulator"] = {"batch": {"processing_s": processing_s}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_one(config_path: Path, limit: int, result_path: Path) -> None:
    """The child: one sweep, its figures written to ``result_path`` as JSON."""
    from orchestrator.raylocal import RaySession, set_local_env

    set_local_env()
    import orchestrator.sweep as sweep_module
    from orchestrator.config import load_config
    from orchestrator.rundir import read_table
    from orchestrator.sweep import run_sweep

    marks: dict[str, float] = {}
    print_sweep_summary = sweep_module.print_sweep_summary

    def summary_after_mark(*args, **kwargs):  # the driver's figures before the summary reads the tables
        marks["peak_kib"], marks["cpu_s"] = memory_kib()["peak_rss_kib"], cpu_s()
        print_sweep_summary(*args, **kwargs)

    sweep_module.print_sweep_summary = summary_after_mark
    config = load_config(config_path)
    with RaySession():
        sampler = Sampler(config.name, config.ray.runners)
        sampler.start()
        started, cpu_started = time.monotonic(), cpu_s()
        code = run_sweep(config, config_path=config_path, limit=limit)
        wall = time.monotonic() - started
        sampler.stop.set()
        sampler.join(10)
    run = config.output / config.name
    journal = [json.loads(line) for line in (run / "batches.jsonl").read_text().splitlines()]
    result = {
        "exit": code, "wall_s": wall,
        "episodes": read_table(run, "episodes", ["episode_id"]).num_rows,
        "calls": read_table(run, "calls", ["episode_id"]).num_rows,
        "batches": sum(entry["kind"] == "submitted" for entry in journal),
        "driver_peak_kib": marks.get("peak_kib"),
        "driver_cpu_s": marks.get("cpu_s", cpu_s()) - cpu_started,
        "runner_peak_kib": sampler.runner_peak,
    }
    result_path.write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--processing-s", type=float, default=0.5, help="the simulator's time per batch")
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=256, help="max_concurrency_per_runner")
    parser.add_argument("--dir", type=Path, help="where to keep the run (default: a temp dir, removed)")
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child's mode
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure_one(args.one, args.limit, args.result)
        return
    with tempfile.TemporaryDirectory(prefix="tsbench-") as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        config = write_batch_sweep(directory, episodes=args.episodes, processing_s=args.processing_s,
                                   runners=args.runners, concurrency=args.concurrency)
        r = run_child(config, args.episodes, args.timeout_s, script=Path(__file__))
    runner_peak = max(r["runner_peak_kib"].values(), default=None)
    print(f"batch processing {args.processing_s:g} s, flush {BATCH['flush_s']:g} s, "
          f"{args.runners} runners × {args.concurrency}")
    print(f"{'episodes':>9} {'calls':>7} {'batches':>8} {'wall s':>7} {'driver peak MiB':>15} "
          f"{'driver CPU ms/call':>18} {'runner peak MiB':>15}")
    print(f"{r['episodes']:>9} {r['calls']:>7} {r['batches']:>8} {r['wall_s']:>7.0f} "
          f"{r['driver_peak_kib'] / 1024:>15.0f} {1000 * r['driver_cpu_s'] / max(r['calls'], 1):>18.2f} "
          f"{'-' if runner_peak is None else f'{runner_peak / 1024:.0f}':>15}")


if __name__ == "__main__":
    main()
