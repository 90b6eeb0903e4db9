"""What goes wrong with each request, and how long it takes: drawn before the policy runs.

Each model has its own generator, seeded from the server seed, the profile seed and the model
name, and every request takes the same four draws from it in arrival order — so the same seed
gives the same sequence of outcomes, whatever the fault settings of other models.
Scheduled outages override the draw inside their window (seconds since server start).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from providers.simulator.config import FaultConfig, LatencyConfig

FaultKind = Literal["none", "http_5xx", "http_429", "hang", "reset", "refusal", "malformed", "quota", "outage",
                    "midstream"]
# The error code a ``quota`` fault is answered with (OpenAI's own); each format renders its body.
QUOTA_CODE = "insufficient_quota"
# New kinds go last: the slices before them, and so every existing seed's draws, stay as they were.
_DRAWN: tuple[FaultKind, ...] = ("http_5xx", "http_429", "hang", "reset", "refusal", "malformed", "quota",
                                 "midstream")


@dataclass(frozen=True)
class FaultDecision:
    """One request's fate: ``kind``, the HTTP status for error kinds, the server-side delay."""

    kind: FaultKind
    delay_s: float
    status: int | None = None
    retry_after_s: float | None = None


def delay_s(latency: LatencyConfig, u_jitter: float, u_tail: float) -> float:
    """Mean ± uniform jitter (never below zero), plus the tail with probability ``tail_p``."""
    ms = max(0.0, latency.mean + (2.0 * u_jitter - 1.0) * latency.jitter)
    if u_tail < latency.tail_p:
        ms += latency.tail
    return ms / 1000.0


def drawn_kind(faults: FaultConfig, u: float) -> FaultKind:
    """The fault whose slice of [0, 1) holds ``u``; slices in the order of ``_DRAWN``."""
    edge = 0.0
    for kind in _DRAWN:
        edge += getattr(faults, kind)
        if u < edge:
            return kind
    return "none"


class FaultInjector:
    """Decides each request's fault and delay. ``clock`` (monotonic seconds) places outages."""

    def __init__(self, seed: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._seed = seed
        self._clock = clock
        self._started = clock()
        self._generators: dict[str, random.Random] = {}

    def elapsed_s(self) -> float:
        return self._clock() - self._started

    def _generator(self, model: str, profile_seed: int) -> random.Random:
        generator = self._generators.get(model)
        if generator is None:
            generator = self._generators[model] = random.Random(f"faults:{self._seed}:{profile_seed}:{model}")
        return generator

    def decide(self, model: str, profile_seed: int, faults: FaultConfig, latency: LatencyConfig,
               server_statuses: tuple[int, ...]) -> FaultDecision:
        """``server_statuses``: the 5xx codes the wire format uses (Anthropic adds 529 overloaded)."""
        rng = self._generator(model, profile_seed)
        u_jitter, u_tail, u_fault, u_status = rng.random(), rng.random(), rng.random(), rng.random()
        delay = delay_s(latency, u_jitter, u_tail)
        elapsed = self.elapsed_s()
        for outage in faults.outages:
            if outage.start_s <= elapsed < outage.start_s + outage.duration_s:
                retry_after = faults.retry_after_s if outage.status == 429 else None
                return FaultDecision("outage", delay, outage.status, retry_after)
        kind = drawn_kind(faults, u_fault)
        if kind == "http_5xx":
            return FaultDecision(kind, delay, server_statuses[int(u_status * len(server_statuses))])
        if kind == "http_429":
            return FaultDecision(kind, delay, 429, faults.retry_after_s)
        if kind == "quota":  # no Retry-After: there is nothing to wait for
            return FaultDecision(kind, delay, 429)
        return FaultDecision(kind, delay)
