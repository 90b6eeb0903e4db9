"""The simulator in a child process, so its CPU does not compete with the caller's event loop (GIL)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from providers.simulator.config import BatchConfig, ModelProfile, profiles_to_json
from providers.simulator.urls import SimulatorUrls

STARTUP_TIMEOUT_S = 20.0
STOP_GRACE_S = 3.0
POLL_S = 0.02
# Loopback only: never through a proxy the environment may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The directory holding the ``providers`` package this module was imported from: the child imports
# the same code from any working directory (a Ray worker's is not the checkout's).
_CODE_ROOT = str(Path(__file__).resolve().parents[2])


def _child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": _CODE_ROOT + (os.pathsep + path if path else "")}


class SimulatorProcess(SimulatorUrls):
    """``with SimulatorProcess(profiles, seed=1) as sim:`` runs ``python -m providers.simulator`` on
    127.0.0.1 with a free port, waits until it answers, and terminates it on exit (killed after a
    short grace). Same URL properties as ``SimulatorServer``; ``stats()`` fetches ``/stats``.
    ``batch``: how its batch API behaves; ``exit_with_parent=False`` lets it outlive a killed parent
    (as a provider's API outlives a killed sweep: the batch failure drills).
    ``async with`` does the blocking start and stop in a thread."""

    def __init__(self, profiles: dict[str, ModelProfile] | None = None, *, seed: int = 0,
                 startup_timeout_s: float = STARTUP_TIMEOUT_S, batch: BatchConfig | None = None,
                 exit_with_parent: bool = True) -> None:
        self._batch = batch
        self._exit_with_parent = exit_with_parent
        self._profiles = dict(profiles or {})
        self._seed = seed
        self._startup_timeout_s = startup_timeout_s
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("the simulator process is already running")
        self._workdir = tempfile.TemporaryDirectory(prefix="toolsweep-sim-")
        workdir = Path(self._workdir.name)
        config, port_file, log = workdir / "profiles.json", workdir / "port", workdir / "simulator.log"
        config.write_text(profiles_to_json(self._profiles))
        command = [sys.executable, "-m", "providers.simulator", "--host", "127.0.0.1", "--port", "0",
                   "--config", str(config), "--seed", str(self._seed), "--port-file", str(port_file)]
        if self._exit_with_parent:
            command.append("--exit-with-parent")
        if self._batch is not None:
            command += ["--batch", self._batch.model_dump_json()]
        with log.open("wb") as log_file:
            self._process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=_child_env())
        try:
            self._port = self._wait_for_port(port_file, log)
            self._wait_until_healthy(log)
        except BaseException:
            self.stop()
            raise

    def _startup_failed(self, log: Path, why: str) -> RuntimeError:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        return RuntimeError(f"the simulator process {why}" + (": " + " | ".join(tail) if tail else ""))

    def _wait_for_port(self, port_file: Path, log: Path) -> int:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise self._startup_failed(log, f"exited with code {self._process.returncode}")
            if port_file.exists():
                return int(port_file.read_text())
            time.sleep(POLL_S)
        raise self._startup_failed(log, f"did not start within {self._startup_timeout_s:g} s")

    def _wait_until_healthy(self, log: Path) -> None:
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            try:
                with _OPENER.open(self.base_url + "/health", timeout=1.0) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(POLL_S)
        raise self._startup_failed(log, "did not answer /health")

    def stop(self) -> None:
        """Terminate the child (kill it if it does not exit within a short grace) and clean up."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def __aenter__(self) -> SimulatorProcess:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the simulator process has not been started")
        return f"http://127.0.0.1:{self._port}"

    def stats(self) -> dict[str, Any]:
        with _OPENER.open(self.base_url + "/stats", timeout=5.0) as response:
            stats: dict[str, Any] = json.loads(response.read())
        return stats
