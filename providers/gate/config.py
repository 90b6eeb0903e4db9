"""Limits of one provider endpoint: the ``providers:`` entries of sweep.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt


class BreakerConfig(BaseModel):
    """Circuit breaker: opens after ``failures`` consecutive failures, or when the failure ratio over
    the last ``window`` attempts reaches ``failure_ratio`` (with at least ``window`` attempts seen);
    half-opens after ``cooldown_s`` and lets ``half_open_probes`` calls through; callers wait at most
    ``max_wait_s`` for it to let them through before giving up."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    failures: PositiveInt = 5
    failure_ratio: float = Field(0.5, gt=0, le=1)
    window: PositiveInt = 20
    cooldown_s: PositiveFloat = 10.0
    half_open_probes: PositiveInt = 1
    max_wait_s: PositiveFloat = 120.0


class GateConfig(BaseModel):
    """Rate limits, retry policy and breaker of one provider endpoint.

    ``max_in_flight`` pins concurrency; left unset, adaptive concurrency (AIMD) picks it, capped by
    ``adaptive_max``. Retries back off with full jitter: the n-th wait is uniform in
    ``[0, min(backoff_max_s, backoff_base_s * 2**(n-1))]`` unless a 429 says Retry-After.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    rpm: PositiveFloat | None = None
    tpm: PositiveFloat | None = None
    max_in_flight: PositiveInt | None = None
    adaptive_max: PositiveInt = 256
    timeout_s: PositiveFloat = 60.0
    max_attempts: PositiveInt = 6
    max_total_s: PositiveFloat = 300.0
    max_identical_failures: PositiveInt = 3
    backoff_base_s: PositiveFloat = 0.5
    backoff_max_s: PositiveFloat = 30.0
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)

    def serving(self, n: int) -> int:
        """How many of ``n`` workers serve this endpoint: all of them, unless ``max_in_flight`` is
        smaller (then that many, each with one call in flight)."""
        if n < 1:
            raise ValueError("n must be >= 1")
        return min(n, self.max_in_flight) if self.max_in_flight else n

    def share(self, n: int, index: int) -> GateConfig | None:
        """Worker ``index``'s share of this budget among ``n`` workers, such that the shares sum to
        the budget exactly; None for a worker that serves none of it (see :meth:`serving`)."""
        if not 0 <= index < n:
            raise ValueError(f"index must be in [0, {n}), got {index}")
        k = self.serving(n)
        if index >= k:
            return None
        in_flight = None
        if self.max_in_flight:
            in_flight = self.max_in_flight // k + (1 if index < self.max_in_flight % k else 0)
        return self.model_copy(update={
            "rpm": self.rpm / k if self.rpm else None,
            "tpm": self.tpm / k if self.tpm else None,
            "max_in_flight": in_flight,
            "adaptive_max": max(1, self.adaptive_max // k),
        })
