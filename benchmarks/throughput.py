"""How close a sweep runs to its throughput limit.

Against the simulator with a fixed latency ``L``, a configured rate limit ``R`` requests/s (the
gate's ``rpm`` is ``60 R``) and a concurrency ``C`` (runners × max_concurrency_per_runner), a
sweep can at best make ``min(R, C / L)`` model calls per second. This runs real sweeps —
``python -m orchestrator sweep`` in a child process, with its own local Ray — and compares.

Workload: the oracle on the three four-letter words of typewriter_single, so every episode is
4 tool calls + 1 answer = 5 model calls (the table reports the mean measured from the calls
table). ``achieved`` = calls / run phase, where the run phase runs from the start of the first
HTTP attempt to the end of the last (``calls.started_at`` and ``latency_s``): Ray start-up,
runner start-up and shutdown are outside it. ``p50 1 s`` is the median of the calls started in
each whole second of the run phase, over the ideal: the steady rate, without the ramp and tail.
``CPU ms/call`` is the whole machine's busy CPU over the run phase minus the simulator's own, per
call served (``machine_cpu``): what driving the calls costs, ToolSweep and Ray together.
``--concurrency`` unset leaves ``max_concurrency_per_runner`` at its default (64).

    python benchmarks/throughput.py [--episodes 1000 10000] [--latency-ms 200] [--rps 400]
                                    [--runners 2] [--concurrency N] [--api-format openai]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine_cpu import CpuSampler  # noqa: E402
from workload import write_typewriter_sweep  # noqa: E402

from orchestrator.capacity import DEFAULT_SLOTS  # noqa: E402 - after the path setup
from orchestrator.rundir import read_table  # noqa: E402

WORDS = ["aaaa", "tree", "moon"]  # typewriter_single examples with 4 expected steps each
CALLS_PER_EPISODE = 5


@dataclass(frozen=True)
class Workload:
    episodes: int
    latency_ms: float = 200.0
    rps: float = 400.0
    runners: int = 2
    concurrency: int | None = None  # per runner; None leaves max_concurrency_per_runner unset (64)
    api_format: str = "openai"  # the wire format, so the adapter and SDK, the calls go through

    @property
    def ideal_rate(self) -> float:
        per_runner = self.concurrency or DEFAULT_SLOTS
        return min(self.rps, self.runners * per_runner / (self.latency_ms / 1000.0))


def run_sweep_process(config: Path, *, limit: int, timeout_s: float, env: dict[str, str] | None = None,
                      log: Path | None = None, sampler: list[CpuSampler] | None = None) -> tuple[int, float]:
    """``python -m orchestrator sweep`` in its own session (killed whole on timeout); (exit code,
    wall s). With ``sampler`` (a list to put it in), the machine's CPU is sampled while it runs."""
    log = log or config.with_suffix(".log")
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "sweep", str(config), "--limit", str(limit)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})})
        cpu = CpuSampler(process.pid).start() if sampler is not None else None
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise RuntimeError(f"the sweep did not finish within {timeout_s:g} s (log: {log})") from None
        finally:
            if cpu is not None:
                cpu.stop()
                sampler.append(cpu)  # type: ignore[union-attr]
    return code, time.monotonic() - started


@dataclass(frozen=True)
class RunFigures:
    episodes: int
    calls: int
    run_phase_s: float
    median_second: float = 0.0  # calls started per whole second of the run phase, the median
    first: float = 0.0  # unix seconds: the first call's start
    last: float = 0.0  # and the last call's end
    cpu_ms_per_call: float | None = None  # whole machine minus the simulator, over the run phase
    simulator_ms_per_call: float | None = None  # the simulator's own

    @property
    def calls_per_episode(self) -> float:
        return self.calls / self.episodes if self.episodes else 0.0

    @property
    def rate(self) -> float:
        return self.calls / self.run_phase_s if self.run_phase_s > 0 else 0.0


def measure(run: Path) -> RunFigures:
    calls = read_table(run, "calls", ["started_at", "latency_s"])
    episodes = read_table(run, "episodes", ["episode_id"]).num_rows
    if calls.num_rows == 0:
        return RunFigures(episodes, 0, 0.0)
    starts = calls.column("started_at")
    ends = pc.add(starts, calls.column("latency_s"))
    first = pc.min(starts).as_py()
    last = pc.max(ends).as_py()
    # whole seconds only: the last, partial second would pull the median down
    seconds = Counter(int(t - first) for t in starts.to_pylist() if t - first < int(last - first))
    return RunFigures(episodes, calls.num_rows, last - first, statistics.median(seconds.values()) if seconds else 0.0,
                      first, last)


def run_size(work: Workload, directory: Path, *, timeout_s: float) -> tuple[RunFigures, float]:
    name = f"throughput-{work.episodes}"
    config = write_typewriter_sweep(directory, name, words=WORDS, episodes=work.episodes,
                                    latency_ms=work.latency_ms, runners=work.runners,
                                    concurrency=work.concurrency, rps=work.rps, api_format=work.api_format)
    sampled: list[CpuSampler] = []
    code, wall = run_sweep_process(config, limit=work.episodes, timeout_s=timeout_s, sampler=sampled)
    if code != 0:
        tail = config.with_suffix(".log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the sweep of {work.episodes} episodes exited with {code}:\n{tail}")
    figures = measure(directory / "runs" / name)
    machine, simulator = sampled[0].between(figures.first, figures.last)
    if not figures.calls:
        return figures, wall
    return replace(figures, cpu_ms_per_call=1000 * (machine - simulator) / figures.calls,
                   simulator_ms_per_call=1000 * simulator / figures.calls), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--rps", type=float, default=400.0, help="the rate limit R, requests/s")
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--concurrency", type=int, help="max_concurrency_per_runner (default: unset, 64)")
    parser.add_argument("--api-format", default="openai", choices=["openai", "openai_responses", "anthropic", "google"],
                        help="the wire format the simulated model speaks (default openai: Chat Completions)")
    parser.add_argument("--dir", type=Path, help="where to keep the runs (default: a temp dir, removed)")
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per sweep")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tsbench-") as scratch:
        directory = args.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        header = (f"{'episodes':>9} {'calls':>8} {'calls/ep':>8} {'run s':>8} {'calls/s':>8} "
                  f"{'ideal':>7} {'ach/ideal':>9} {'p50 1 s':>7} {'wall s':>7} {'CPU ms/call':>11} {'sim ms/call':>11}")
        print(f"{args.api_format}: L = {args.latency_ms:g} ms, R = {args.rps:g}/s, "
              f"C = {args.runners} × {args.concurrency or f'{DEFAULT_SLOTS} (default)'}")
        print(header, flush=True)
        for episodes in args.episodes:
            work = Workload(episodes, args.latency_ms, args.rps, args.runners, args.concurrency, args.api_format)
            load = os.getloadavg()[0]
            figures, wall = run_size(work, directory, timeout_s=args.timeout_s)
            print(f"{figures.episodes:>9} {figures.calls:>8} {figures.calls_per_episode:>8.2f} "
                  f"{figures.run_phase_s:>8.1f} {figures.rate:>8.1f} {work.ideal_rate:>7.0f} "
                  f"{figures.rate / work.ideal_rate:>9.3f} {figures.median_second / work.ideal_rate:>7.3f} "
                  f"{wall:>7.1f} {figures.cpu_ms_per_call or float('nan'):>11.2f} "
                  f"{figures.simulator_ms_per_call or float('nan'):>11.2f}  (load {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
