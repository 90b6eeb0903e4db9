"""Peak memory of the sweep driver and its runners, at two sweep sizes: streaming means flat.

Each size runs in a child process of its own (a fresh peak): it starts a local Ray, runs
``run_sweep`` — what ``python -m orchestrator sweep`` runs — and meanwhile asks every runner
actor for its memory once a second (``EpisodeRunner.describe()``, which reads the actor's
``/proc/self/status``: VmRSS now, VmHWM its peak). The driver's figures come from the child's own
``/proc/self/status``, sampled the same way. The table prints, for the driver: its peak up to the
end of the sweep proper (VmHWM read just before the closing summary), its peak including that
summary (which counts the episodes table back from disk, one part file at a time), its resident
set a quarter of the way through and at the end (flat = nothing kept per finished episode), each
peak relative to the first size; and the runners' peak.

Workload: the oracle on the one- and two-letter words of typewriter_single (2–3 model calls per
episode) at a server latency of 5 ms without a rate limit, so 100,000 episodes take minutes.

    python benchmarks/memory.py [--episodes 10000 100000] [--latency-ms 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workload import write_typewriter_sweep  # noqa: E402 - after the path setup

from orchestrator.runner import memory_kib  # noqa: E402

WORDS = ["a", "aa", "go"]
POLL_S = 1.0


class Sampler(threading.Thread):
    """Once a second: the driver's resident set, and every runner's peak (via ``describe``)."""

    def __init__(self, run: str, runners: int) -> None:
        super().__init__(daemon=True)
        self.run_name, self.runners = run, runners
        self.driver_rss: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self.runner_peak: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        import ray

        started = time.monotonic()
        while not self.stop.wait(POLL_S):
            self.driver_rss.append((time.monotonic() - started, memory_kib()["rss_kib"]))
            for i in range(self.runners):
                try:
                    actor = ray.get_actor(f"toolsweep/{self.run_name}/runner-{i}")
                    info = ray.get(actor.describe.remote(), timeout=5)
                except Exception:  # not started yet, or already gone at the end
                    continue
                if info.get("peak_rss_kib"):
                    self.runner_peak[info["runner"]] = max(self.runner_peak.get(info["runner"], 0),
                                                           info["peak_rss_kib"])


def measure_one(config_path: Path, limit: int, result_path: Path) -> None:
    """The child: one sweep, its memory figures written to ``result_path`` as JSON."""
    from orchestrator.raylocal import RaySession, set_local_env

    set_local_env()
    import orchestrator.sweep as sweep_module
    from orchestrator.config import load_config
    from orchestrator.rundir import read_table
    from orchestrator.sweep import run_sweep

    marks: dict[str, int] = {}
    finish = sweep_module._finish

    # the driver's peak once the sweep proper is over, before the closing summary loads polars
    # and reads the table back (the summary is imported there, so patching its module would
    # load polars here, before the sweep)
    def finish_after_mark(*args, **kwargs):
        marks["before_summary"] = memory_kib()["peak_rss_kib"]
        return finish(*args, **kwargs)

    sweep_module._finish = finish_after_mark
    config = load_config(config_path)
    with RaySession():
        sampler = Sampler(config.name, config.ray.runners)
        sampler.start()
        started = time.monotonic()
        code = run_sweep(config, config_path=config_path, limit=limit)
        wall = time.monotonic() - started
        peak = memory_kib()["peak_rss_kib"]  # before the counting below reads the tables back
        sampler.stop.set()
        sampler.join(10)
    run = config.output / config.name
    samples = [kib for _, kib in sampler.driver_rss]
    result = {
        "exit": code, "wall_s": wall,
        "episodes": read_table(run, "episodes", ["episode_id"]).num_rows,
        "calls": read_table(run, "calls", ["episode_id"]).num_rows,
        "driver_peak_kib": peak,
        "driver_peak_before_summary_kib": marks.get("before_summary"),
        "driver_rss_quarter_kib": samples[len(samples) // 4] if samples else None,
        "driver_rss_end_kib": samples[-1] if samples else None,
        "runner_peak_kib": sampler.runner_peak,
    }
    result_path.write_text(json.dumps(result))


def run_child(config: Path, limit: int, timeout_s: float, script: Path = Path(__file__)) -> dict:
    """Run ``script --one config`` in a fresh process (its own peak) and return its JSON result."""
    result = config.with_suffix(".json")
    log = config.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(script), "--one", str(config), "--limit", str(limit), "--result", str(result)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise RuntimeError(f"the sweep did not finish within {timeout_s:g} s (log: {log})") from None
    if process.returncode != 0 or not result.exists():
        raise RuntimeError(f"the measuring process failed ({process.returncode}):\n"
                           + log.read_text(errors="replace")[-2000:])
    return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64, help="max_concurrency_per_runner")
    parser.add_argument("--dir", type=Path, help="where to keep the runs (default: a temp dir, removed)")
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per sweep")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child's mode
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure_one(args.one, args.limit, args.result)
        return

    def mib(kib: int | None) -> str:
        return "-" if kib is None else f"{kib / 1024:.0f}"

    with tempfile.TemporaryDirectory(prefix="tsbench-") as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        print(f"latency {args.latency_ms:g} ms, no rate limit, {args.runners} runners × {args.concurrency}; MiB")
        print(f"{'episodes':>9} {'calls':>8} {'wall s':>7} {'driver peak':>11} {'+summary':>9} {'at 1/4':>7} "
              f"{'at end':>7} {'runner peak':>11} {'peak vs first':>13} {'+summary vs first':>17}", flush=True)
        first: dict | None = None
        for episodes in args.episodes:
            config = write_typewriter_sweep(directory, f"memory-{episodes}", words=WORDS, episodes=episodes,
                                            latency_ms=args.latency_ms, runners=args.runners,
                                            concurrency=args.concurrency)
            r = run_child(config, episodes, args.timeout_s)
            first = first or r
            runner_peak = max(r["runner_peak_kib"].values(), default=None)
            ratio = r["driver_peak_before_summary_kib"] / first["driver_peak_before_summary_kib"]
            print(f"{r['episodes']:>9} {r['calls']:>8} {r['wall_s']:>7.0f} "
                  f"{mib(r['driver_peak_before_summary_kib']):>11} {mib(r['driver_peak_kib']):>9} "
                  f"{mib(r['driver_rss_quarter_kib']):>7} {mib(r['driver_rss_end_kib']):>7} {mib(runner_peak):>11} "
                  f"{ratio:>13.2f} {r['driver_peak_kib'] / first['driver_peak_kib']:>17.2f}", flush=True)


if __name__ == "__main__":
    main()
