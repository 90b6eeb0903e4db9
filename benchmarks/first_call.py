"""How long a sweep takes from the command to its first model call.

Runs ``python -m orchestrator sweep`` in a child process (its own local Ray, as a user's would) on
a small typewriter sweep against the simulator, and measures from just before the child is
started to the ``started_at`` of the first HTTP attempt in the run's ``calls`` table. Everything a
user waits for is inside: the interpreter's start, imports, loading the config, the plan, the
simulator, Ray and the runners. The load average as each run began is printed beside it, since
on two cores other work moves this figure by seconds.

    python benchmarks/first_call.py [--runs 3] [--episodes 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workload import write_typewriter_sweep  # noqa: E402

from orchestrator.rundir import read_table  # noqa: E402 - after the path setup


def first_call_s(directory: Path, name: str, episodes: int) -> float:
    """Seconds from starting the sweep's process to its first model call."""
    path = write_typewriter_sweep(directory, name, words=["aaaa", "tree", "moon"], episodes=episodes,
                                  latency_ms=50, runners=2, concurrency=None)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "orchestrator", "sweep", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"sweep {name} exited {done.returncode}:\n{done.stderr[-2000:]}")
    calls = read_table(directory / "runs" / name, "calls")
    first = pc.min(calls.column("started_at")).as_py()
    return float(first) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=60)
    args = parser.parse_args()
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            load = os.getloadavg()[0]
            seconds = first_call_s(Path(tmp), f"first-{run}", args.episodes)
            figures.append(seconds)
            print(f"run {run + 1}: command to first call {seconds:.2f} s (load {load:.1f})", flush=True)
    print(f"median {statistics.median(figures):.2f} s, range {min(figures):.2f}–{max(figures):.2f} s")


if __name__ == "__main__":
    main()
