"""Failure drills: a driver killed again and again, a runner process killed, a 60 s outage.

Each drill ends with the same check: the run directory holds exactly the planned episodes, once
each, every recorded call belongs to one of them, and each has exactly one transcript.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from orchestrator.config import load_config
from orchestrator.rundir import read_table
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, simulator_stats, write_config

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def assert_exactly_the_plan(run: Path, path: Path) -> pl.DataFrame:
    df = episodes(run)
    assert df["episode_id"].n_unique() == df.height, "an episode was recorded twice"
    assert set(df["episode_id"]) == planned_ids(path), "an episode was lost"
    assert set(calls(run)["episode_id"]) <= set(df["episode_id"])
    # transcripts as a reader sees them: a part orphaned by a kill between two renames is not read
    transcripts = read_table(run, "transcripts", ["episode_id"])["episode_id"].to_pylist()
    assert len(transcripts) == len(set(transcripts)), "an episode has two transcripts"
    assert set(transcripts) == set(df["episode_id"]), "an episode has no transcript"
    return df


def recorded(run: Path) -> int:
    parts = list((run / "episodes").glob("*.arrow")) if (run / "episodes").exists() else []
    return episodes(run).height if parts else 0


def session_members(sid: int) -> list[int]:
    """Processes in session ``sid`` (a killed driver's simulator, Ray and workers)."""
    members = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(proc.name)) == sid:
                    members.append(int(proc.name))
    return members


def kill_session(process: subprocess.Popen) -> None:
    """SIGKILL the driver's whole session, and wait (bounded) until none of it is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 20
    while (left := session_members(process.pid)) and time.monotonic() < deadline:
        for pid in left:  # joined the session after the group kill (a worker starting up)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    assert not session_members(process.pid), "the killed sweep left processes behind"


def start_sweep(path: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "orchestrator", "sweep", str(path)], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def part_count(run: Path) -> int:
    return len(list((run / "episodes").glob("*.arrow"))) if (run / "episodes").exists() else 0


def test_a_driver_killed_at_six_random_moments_resumes_to_exactly_the_plan(tmp_path):
    # About 35 s of model calls (870 calls at 25/s): every kill lands before the end.
    path = write_config(
        tmp_path, name="chaos-driver", tasks=[{"name": "typewriter_single"}, {"name": "multiverse_math"}],
        seeds=3, models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                          "latency_ms": {"mean": 50, "jitter": 20}}],
        providers={"simulated": {"rpm": 1500}}, ray={"runners": 2, "max_concurrency_per_runner": 8})
    run, log = tmp_path / "runs" / "chaos-driver", tmp_path / "sweep.log"
    rng = random.Random(20240611)
    progress = []
    for kill in range(6):
        parts_before = part_count(run)
        process = start_sweep(path, log)
        if kill % 2 == 0:  # anywhere in start-up: Python, the simulator, Ray, the runners (~5 s)
            time.sleep(rng.uniform(0.5, 6.0))
        else:  # mid-run: after this run's first part file, maybe during the next flush
            deadline = time.monotonic() + 90
            while part_count(run) == parts_before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert part_count(run) > parts_before, log.read_text()[-3000:]
            time.sleep(rng.uniform(0.0, 4.0))
        assert process.poll() is None, "the sweep ended before it was killed: make it longer"
        kill_session(process)
        progress.append(recorded(run))
    assert progress == sorted(progress), "a killed sweep lost recorded episodes"
    assert all(progress[i] > progress[i - 1] for i in (1, 3, 5)), f"mid-run kills follow progress: {progress}"
    assert progress[-1] < len(planned_ids(path)), f"the kills must land before the end: {progress}"

    process = start_sweep(path, log)
    try:
        assert process.wait(timeout=240) == 0, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            kill_session(process)
    assert f"{progress[-1]} already recorded" in log.read_text()
    assert_exactly_the_plan(run, path)


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_runner_process_killed_mid_sweep_loses_and_duplicates_nothing(tmp_path):
    import ray

    # About 15 s of calls at 20/s, so the kill lands mid-sweep.
    path = write_config(
        tmp_path, name="chaos-runner", tasks=[{"name": "multiverse_math"}, {"name": "relational_data"}],
        seeds=1, models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                          "latency_ms": {"mean": 30, "jitter": 10}}],
        providers={"simulated": {"rpm": 1200}}, ray={"runners": 2, "max_concurrency_per_runner": 8})
    run = tmp_path / "runs" / "chaos-runner"
    killed: list[dict] = []

    def kill_runner_0_process_once_it_runs_episodes() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            try:
                info = ray.get(ray.get_actor("toolsweep/chaos-runner/runner-0").describe.remote(), timeout=5)
            except Exception:  # not created yet
                time.sleep(0.2)
                continue
            if info["running"] > 0 and recorded(run) > 0:
                os.kill(info["pid"], signal.SIGKILL)
                killed.append(info)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_runner_0_process_once_it_runs_episodes, daemon=True)
    killer.start()
    assert run_sweep(load_config(path), config_path=path) == 0
    killer.join(5)
    assert killed, "runner-0 was never killed"
    assert killed[0]["running"] > 0
    df = assert_exactly_the_plan(run, path)
    assert df["correct"].all()


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_60s_outage_on_one_endpoint_leaves_the_other_flowing(tmp_path):
    storm_start, storm_s = 5.0, 60.0
    path = write_config(
        tmp_path, name="chaos-storm", tasks=[{"name": "multiverse_math"}], seeds=12,
        models=[
            {"id": "healthy", "provider": "simulated", "model": "oracle", "gate": "sim-healthy",
             "latency_ms": {"mean": 40, "jitter": 10}},
            {"id": "stormy", "provider": "simulated", "model": "oracle", "gate": "sim-stormy",
             "latency_ms": {"mean": 40, "jitter": 10},
             "faults": {"outages": [{"start_s": storm_start, "duration_s": storm_s, "status": 503}]}},
        ],
        providers={
            # The healthy endpoint's own limit sets its pace, 14 calls/s (4 episodes/s), so its
            # 372 episodes outlast the storm; the stormy one catches up quickly once it is over.
            "sim-healthy": {"rpm": 840},
            "sim-stormy": {"rpm": 4200, "breaker": {"failures": 5, "cooldown_s": 5, "max_wait_s": 90}},
        },
        ray={"runners": 2, "max_concurrency_per_runner": 8})
    run = tmp_path / "runs" / "chaos-storm"
    started = time.monotonic()
    assert run_sweep(load_config(path), config_path=path) == 0
    assert time.monotonic() - started < 240, "an episode hung"
    df = assert_exactly_the_plan(run, path)

    # The storm on the simulator's clock, in unix seconds.
    server_start = simulator_stats(run)[-1]["started_at"]
    storm = (server_start + storm_start, server_start + storm_start + storm_s)
    ended = df.with_columns((pl.col("started_at") + pl.col("duration_s")).alias("ended_at"))
    healthy = ended.filter(pl.col("model_id") == "healthy")
    assert healthy["status"].unique().to_list() == ["completed"]
    # Healthy completions per second inside the storm (its first and last 5 s aside) and after it.
    inside = healthy.filter(pl.col("ended_at").is_between(storm[0] + 5, storm[1] - 5)).height / (storm_s - 10)
    last_end = healthy["ended_at"].max()
    assert last_end > storm[1] + 5, "the healthy episodes must outlast the storm to compare"
    after = healthy.filter(pl.col("ended_at") > storm[1]).height / (last_end - storm[1])
    assert inside >= 0.8 * after, f"healthy throughput fell in the storm: {inside:.1f}/s vs {after:.1f}/s"

    stormy = ended.filter(pl.col("model_id") == "stormy")
    assert set(stormy["status"]) <= {"completed", "provider_failed"}
    # some waited out the storm and completed after it
    assert stormy.filter((pl.col("status") == "completed") & (pl.col("started_at") < storm[1])
                         & (pl.col("ended_at") > storm[1])).height > 0
    events = pl.read_ipc(str(run / "events" / "*.arrow"))
    opened = events.filter((pl.col("kind") == "breaker") & (pl.col("to_state") == "open"))
    assert set(opened["provider"]) == {"sim-stormy"}
    assert opened["at"].min() >= storm[0] - 1


def test_sigterm_mid_run_ends_the_sweep_interrupted_with_130_and_nothing_left(tmp_path):
    # Ray installs SIGTERM handlers of its own when it starts (ray.init's exits with 15); the
    # sweep's must be the one that runs once the runners are up: flush, mark interrupted, exit 130.
    path = write_config(
        tmp_path, name="sigterm", tasks=[{"name": "typewriter_single"}], seeds=3,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle", "latency_ms": {"mean": 50, "jitter": 0}}],
        providers={"simulated": {"rpm": 120}}, ray={"runners": 2, "max_concurrency_per_runner": 4})
    run, log = tmp_path / "runs" / "sigterm", tmp_path / "sweep.log"
    process = start_sweep(path, log)
    try:
        deadline = time.monotonic() + 180
        while part_count(run) == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # the first part file: the runners are up and calling
        assert process.poll() is None, log.read_text(errors="replace")[-2000:]
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
    finally:
        kill_session(process)
    assert code == 130, log.read_text(errors="replace")[-2000:]
    assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"
