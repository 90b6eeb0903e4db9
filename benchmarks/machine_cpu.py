"""Whole-machine CPU over a sweep's run phase, minus the simulator's own.

A sweep's CPU is spread over processes that come and go (the driver, the runners, Ray's own), so
it is read where nothing escapes: ``/proc/stat``, the machine's busy time (user, nice, system,
irq, softirq, steal). The simulator serves the calls but is not ToolSweep's cost: its process's
time (``/proc/<pid>/stat``, found by its command line under the sweep's process) is taken out.
A thread samples both every 0.1 s; the figures are interpolated at the run phase's first and
last call, so Ray's and the runners' start-up and the shutdown stay outside.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PERIOD_S = 0.1


def machine_busy_s() -> float:
    """Seconds of CPU the whole machine has spent busy since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def process_cpu_s(pid: int) -> float | None:
    """User + system seconds of one process (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text.rsplit(")", 1)[1].split()  # after the command, which may hold spaces
    return (int(rest[11]) + int(rest[12])) / TICK


def _parent(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text.rsplit(")", 1)[1].split()[1])


def _descends_from(pid: int, ancestor: int) -> bool:
    seen = 0
    while pid > 1 and seen < 64:
        if pid == ancestor:
            return True
        parent = _parent(pid)
        if parent is None:
            return False
        pid, seen = parent, seen + 1
    return False


def find_simulator(ancestor: int) -> int | None:
    """The pid of the simulator process started under ``ancestor`` (``python -m providers.simulator``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"providers.simulator" in command and _descends_from(int(entry.name), ancestor):
            return int(entry.name)
    return None


@dataclass
class CpuSampler:
    """Samples (time, machine busy s, simulator CPU s) on a thread until ``stop``."""

    root_pid: int
    times: list[float] = field(default_factory=list)
    machine: list[float] = field(default_factory=list)
    simulator: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        pid: int | None = None
        last_sim = 0.0
        while not self._stop.is_set():
            if pid is None:
                pid = find_simulator(self.root_pid)
            sim = process_cpu_s(pid) if pid is not None else None
            last_sim = sim if sim is not None else last_sim  # gone: its time stays as last read
            self.times.append(time.time())
            self.machine.append(machine_busy_s())
            self.simulator.append(last_sim)
            self._stop.wait(PERIOD_S)

    def _at(self, series: list[float], t: float) -> float:
        i = bisect.bisect_left(self.times, t)
        if i <= 0:
            return series[0]
        if i >= len(self.times):
            return series[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        share = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        return series[i - 1] + share * (series[i] - series[i - 1])

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(machine busy s, simulator s) between two unix times."""
        if not self.times:
            return 0.0, 0.0
        return (self._at(self.machine, end) - self._at(self.machine, start),
                self._at(self.simulator, end) - self._at(self.simulator, start))
