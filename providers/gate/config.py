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

    def split(self, n: int) -> GateConfig:
        """The share of one of ``n`` workers, so that the shares sum to this budget exactly."""
        if n < 1:
            raise ValueError("n must be >= 1")
        return self.model_copy(update={
            "rpm": self.rpm / n if self.rpm else None,
            "tpm": self.tpm / n if self.tpm else None,
            "max_in_flight": max(1, self.max_in_flight // n) if self.max_in_flight else None,
            "adaptive_max": max(1, self.adaptive_max // n),
        })
