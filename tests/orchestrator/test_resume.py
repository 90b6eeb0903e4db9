"""A sweep killed with SIGKILL and run again ends with exactly the planned episodes, once each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, write_config

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


def start_sweep(path: Path) -> subprocess.Popen:
    # a session of its own, so the kill takes the driver's Ray and simulator children with it
    return subprocess.Popen([sys.executable, "-m", "orchestrator", "sweep", str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def parts(run: Path) -> list[Path]:
    return list((run / "episodes").glob("*.arrow")) if (run / "episodes").exists() else []


def test_sigkill_mid_sweep_then_resume_gives_exactly_the_plan(tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single"}, {"name": "multiverse_math"}], seeds=6,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                 "latency_ms": {"mean": 60, "jitter": 20}}],
        ray={"runners": 2, "max_concurrency_per_runner": 6})
    run = tmp_path / "runs" / "e2e"
    planned = planned_ids(path)

    process = start_sweep(path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not parts(run):
        time.sleep(0.1)
    assert parts(run), process.communicate(timeout=5)[0].decode()[-2000:]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    first = episodes(run)
    assert 0 < first.height < len(planned), "the kill must land mid-sweep"

    process = start_sweep(path)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out.decode()[-2000:]
    assert f"{first.height} already recorded" in out.decode()

    df = episodes(run)
    assert df["episode_id"].n_unique() == df.height, "an episode was recorded twice"
    assert set(df["episode_id"]) == planned
    assert set(first["episode_id"]) <= set(df["episode_id"])
    assert set(calls(run)["episode_id"]) <= planned
