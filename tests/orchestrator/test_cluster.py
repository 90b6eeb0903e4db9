"""A sweep on a real two-node Ray cluster on loopback: runners on both nodes, each node's runners
on a simulator of their node, the rate limit held.

The cluster is two ``ray start --block`` processes on this machine (a head and a second node
with a resource of its own), each in a session of its own; the sweep runs in a subprocess that
joins it with ``--address``, as a user would. This test process never connects to it.

Teardown stops exactly what the fixture started: SIGTERM to each ``ray start --block`` (which
stops the processes it started), then SIGKILL to anything left whose command line names the
cluster's temp dir. ``ray stop`` is not used: it stops every Ray process on the machine,
including other sweeps' and other test sessions'.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, simulator_stats, write_config
from tests.rate_window import max_in_window

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).with_name("ray"))
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30
SWEEP_TIMEOUT_S = 240
# RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER must be 1 here: at 0 (the local-mode setting) `ray start`
# refuses to join a second node. --node-ip-address 127.0.0.1 keeps every node's traffic on loopback.
CLUSTER_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1", "RAY_USAGE_STATS_ENABLED": "0",
               "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    temp_dir: Path
    nodes: list[subprocess.Popen]


def start_node(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats",
             f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}", *args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **CLUSTER_ENV})


def wait_started(node: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if "Ray runtime started" in log.read_text(errors="replace"):
            return
        if node.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"a Ray node did not start: {log.read_text(errors='replace')[-2000:]}")


# `ray start` reports a node started before the head lists it (Ray's own test cluster waits for
# that too); a sweep that looks for nodes in between would see only the head.
NODES_PROBE = """
import sys, time, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
deadline = time.monotonic() + float(sys.argv[3])
while sum(n["Alive"] for n in ray.nodes()) < int(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.2)
print(sum(n["Alive"] for n in ray.nodes()))
"""


def wait_listed(cluster: Cluster, count: int) -> None:
    probe = subprocess.run([sys.executable, "-c", NODES_PROBE, cluster.address, str(count), str(START_TIMEOUT_S)],
                           capture_output=True, text=True, timeout=START_TIMEOUT_S + 30,
                           env={**os.environ, **CLUSTER_ENV})
    listed = probe.stdout.strip().splitlines()[-1:] or ["?"]
    if listed != [str(count)]:
        raise RuntimeError(f"the head lists {listed[0]} alive nodes, not {count}: {probe.stderr[-2000:]}")


def processes_naming(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
    return found


def stop_cluster(cluster: Cluster) -> None:
    for node in reversed(cluster.nodes):
        if node.poll() is None:
            node.send_signal(signal.SIGTERM)
    for node in cluster.nodes:
        try:
            node.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait(timeout=10)
    for pid in processes_naming(str(cluster.temp_dir)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    temp_dir = Path(tempfile.mkdtemp(prefix="tsc-"))  # short: Ray's unix sockets fail on long paths
    port = free_port()
    cluster = Cluster(f"127.0.0.1:{port}", temp_dir, [])
    try:
        head_log = temp_dir / "head.log"
        cluster.nodes.append(start_node(
            ["--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false",
             f"--dashboard-port={free_port()}", f"--ray-client-server-port={free_port()}"], head_log))
        wait_started(cluster.nodes[0], head_log)
        node_log = temp_dir / "node2.log"
        cluster.nodes.append(start_node(
            [f"--address={cluster.address}", f"--temp-dir={temp_dir}", '--resources={"node2": 1}'], node_log))
        wait_started(cluster.nodes[1], node_log)
        wait_listed(cluster, 2)
        yield cluster
    finally:
        stop_cluster(cluster)
        shutil.rmtree(temp_dir, ignore_errors=True)


def run_on(cluster: Cluster, path: Path, *options: str) -> str:
    """``python -m orchestrator sweep`` joining the cluster; its output. Killed whole on timeout."""
    process = subprocess.Popen([sys.executable, "-m", "orchestrator", "sweep", str(path), "--address",
                                cluster.address, *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        out, _ = process.communicate(timeout=SWEEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        pytest.fail(f"the sweep did not finish in {SWEEP_TIMEOUT_S} s: {out.decode()[-2000:]}")
    assert process.returncode == 0, out.decode()[-3000:]
    return out.decode()


def test_a_sweep_runs_its_runners_on_both_nodes(cluster, tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single"}, {"name": "multiverse_math"}], seeds=2,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                 "latency_ms": {"mean": 20, "jitter": 5}}],
        ray={"runners": 2, "max_concurrency_per_runner": 16})
    run_on(cluster, path)
    df = episodes(tmp_path / "runs" / "e2e")
    assert set(df["episode_id"]) == planned_ids(path) and df["episode_id"].n_unique() == df.height
    assert df["correct"].all()
    assert df["node_id"].n_unique() == 2, "the two runners should run on different nodes (SPREAD)"
    assert df["node_id"].value_counts()["count"].min() > df.height // 10
    # The runner on the node that is not the driver's ran on a simulator of its own, on its node
    # (the driver's on the other node served the rest); together they served every call.
    stats = simulator_stats(tmp_path / "runs" / "e2e")
    own = [s for s in stats if "node_id" in s]
    assert len(own) == 1 and own[0]["requests"] > 0 and own[0]["node_id"] in set(df["node_id"])
    assert len(stats) == 2 and sum(s["requests"] for s in stats) == calls(tmp_path / "runs" / "e2e").height


def test_four_runners_on_two_nodes_keep_every_second_within_the_rate_limit(cluster, tmp_path):
    rate, runners = 20, 4  # requests/s: 5 per runner
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single"}], seeds=2,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                 "latency_ms": {"mean": 20, "jitter": 5}}],
        providers={"simulated": {"rpm": rate * 60}},
        ray={"runners": runners, "max_concurrency_per_runner": 8})
    run_on(cluster, path)
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert set(df["episode_id"]) == planned_ids(path) and df["episode_id"].n_unique() == df.height
    assert df["node_id"].n_unique() == 2
    started = calls(run)["started_at"].to_list()
    # The runners' shares sum to the budget: as the gates let attempts go (across both nodes),
    # no sliding 1 s window holds more than the limit; and the sweep did press against it.
    assert max_in_window(started) <= rate
    assert max_in_window(started) >= rate - 2, "the sweep never reached the limit: the check proves nothing"
    # What the simulators saw (the driver's, and one per runner on the other node), per second of
    # arrival. A request can arrive a few ms after it was let go, so one second may gain a request
    # its neighbour lost: at most one per runner's gate.
    stats = simulator_stats(run)
    assert len(stats) == 1 + runners // 2
    per_second = pl.DataFrame(
        {"second": [int(second) for s in stats for second in s["per_second"]],
         "n": [n for s in stats for n in s["per_second"].values()]}).group_by("second").agg(pl.col("n").sum())
    assert per_second["n"].sum() == len(started)
    assert per_second["n"].max() <= rate + runners


def test_an_mcp_task_and_a_plugin_run_on_both_nodes(cluster, tmp_path):
    # the plugin and the server's folder travel to the runners in Ray's runtime_env (py_modules);
    # every episode starts its own stdio server on the node that runs it
    examples = ROOT / "examples" / "tasks"
    path = write_config(
        tmp_path, tasks=[{"name": "inventory", "path": str(examples / "inventory.py"), "limit": 8},
                         {"name": "notes", "mcp": {"command": ["python", "notes_server.py"], "cwd": str(examples),
                                                   "dataset": str(examples / "notes.jsonl"), "state": "dump_notes",
                                                   "max_sessions": 4}}],
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"}],
        ray={"runners": 2, "max_concurrency_per_runner": 8})
    run_on(cluster, path)
    df = episodes(tmp_path / "runs" / "e2e")
    assert set(df["episode_id"]) == planned_ids(path) and df.height == 8 + 21
    assert df["status"].unique().to_list() == ["completed"] and df["correct"].all()
    notes = df.filter(pl.col("task") == "notes")
    assert notes["node_id"].n_unique() == 2, "MCP episodes should run on both nodes"


def test_runners_on_both_nodes_answer_from_the_drivers_cache(cluster, tmp_path):
    """The driver owns the cache file and ships each batch its entries: runners on the second node
    hit it as the head's do, and no request reaches the simulator the second time."""
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single"}, {"name": "multiverse_math"}], seeds=2,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                 "latency_ms": {"mean": 20, "jitter": 5}}],
        cache={"mode": "readwrite", "path": str(tmp_path / "cache")},
        ray={"runners": 2, "max_concurrency_per_runner": 16})
    run_on(cluster, path)
    run_on(cluster, path, "--fresh")
    first, second = tmp_path / "runs" / "e2e", tmp_path / "runs" / "e2e-2"
    assert sum(s["requests"] for s in simulator_stats(second)) == 0
    df = episodes(second)
    assert set(df["episode_id"]) == planned_ids(path) and df["correct"].all()
    assert df["node_id"].n_unique() == 2, "both nodes ran episodes"
    c = calls(second).join(df.select("episode_id", "node_id"), on="episode_id")
    assert set(c["outcome"]) == {"cached"} and c.height == calls(first).height
    assert c["node_id"].n_unique() == 2, "both nodes' runners were answered from the cache"
