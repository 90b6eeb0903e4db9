"""An API key never lands in a record, a log line, the manifest or a report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.report import write_report
from providers.simulator import SimulatorProcess
from providers.simulator.config import FaultConfig, ModelProfile
from tests.orchestrator.sweep_helpers import episodes, write_config

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-0123456789abcdefSECRETSECRET"


def test_the_key_appears_nowhere(tmp_path):
    faults = FaultConfig(http_5xx=0.2, http_429=0.1, refusal=0.05, malformed=0.05, retry_after_s=0.05)
    with SimulatorProcess({"leaky": ModelProfile(policy="random", faults=faults)}) as sim:
        path = write_config(
            tmp_path, tasks=[{"name": "relational_data", "limit": 8}], seeds=2,
            models=[{"id": "real-sdk", "provider": "openai", "model": "leaky", "base_url": sim.openai_base_url,
                     "api_key_env": "TOOLSWEEP_TEST_KEY"},
                    {"id": "bad-key", "provider": "openai", "model": "leaky", "base_url": sim.openai_base_url,
                     "api_key_env": "TOOLSWEEP_BAD_KEY", "gate": "bad-key-endpoint"}],
            providers={"bad-key-endpoint": {"max_attempts": 2}})
        # the simulator answers this key with a 401, so the auth error path is covered too
        env = {**os.environ, "TOOLSWEEP_TEST_KEY": KEY, "TOOLSWEEP_BAD_KEY": "invalid-key"}
        done = subprocess.run([sys.executable, "-m", "orchestrator", "sweep", str(path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert df.height == 32
    assert set(df.filter(df["model_id"] == "bad-key")["error_class"]) == {"AuthError"}
    assert df.filter(df["model_id"] == "real-sdk")["n_attempts"].sum() > 16
    write_report([run])

    leaks = [str(p) for p in run.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaks, f"the key leaked into {leaks}"
    assert KEY not in done.stdout + done.stderr
