"""The simulator as a child process, and its command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from providers.errors import ServerError
from providers.simulator import FaultConfig, ModelProfile, SimulatorProcess
from providers.types import CompletionRequest, Message

CLI = [sys.executable, "-m", "providers.simulator"]


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that no longer exists to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


async def test_process_serves_reports_and_leaves_no_child(adapter_for):
    profiles = {"down": ModelProfile(faults=FaultConfig(http_5xx=1.0))}
    async with SimulatorProcess(profiles, seed=4) as sim:
        pid = sim.pid
        assert pid is not None and pid != os.getpid() and _alive(pid)
        provider = adapter_for("openai", sim.base_url)
        request = CompletionRequest(model="oracle", messages=(Message(role="user", content="hi"),),
                                    extra_body={"script": {"steps": [], "answer": "42"}})
        assert (await provider.complete(request)).text == "42"
        with pytest.raises(ServerError):
            await provider.complete(CompletionRequest(model="down", messages=request.messages))
        stats = sim.stats()
        assert stats["requests"] == 2 and stats["by_model"] == {"oracle": {"ok": 1}, "down": {"http_5xx": 1}}
        await provider.aclose()
    assert not _alive(pid)


def test_sync_context_manager():
    with SimulatorProcess() as sim:
        assert sim.stats()["requests"] == 0
        pid = sim.pid
    assert pid is not None and not _alive(pid)


def test_cli_help_and_refusals(tmp_path):
    shown = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True)
    assert "--port-file" in shown.stdout and "/v1/chat/completions" in shown.stdout
    refused = subprocess.run([*CLI, "--host", "0.0.0.0"], capture_output=True, text=True)
    assert refused.returncode == 2 and "loopback only" in refused.stderr
    config = tmp_path / "profiles.json"
    config.write_text('{"m": {"policy": "genius"}}')
    invalid = subprocess.run([*CLI, "--config", str(config)], capture_output=True, text=True)
    assert invalid.returncode == 2 and "invalid --config" in invalid.stderr and "(at m.policy)" in invalid.stderr


def test_the_child_exits_when_its_parent_dies_without_cleaning_up(tmp_path):
    parent = ("import os; from providers.simulator import SimulatorProcess; "
              "sim = SimulatorProcess(); sim.start(); print(sim.pid, flush=True); os._exit(0)")
    result = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, check=True, timeout=30,
                            env={**os.environ, "TMPDIR": str(tmp_path)})  # its files stay in tmp_path
    child = int(result.stdout.strip())
    deadline = time.monotonic() + 5.0
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
