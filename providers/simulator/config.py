"""How a simulated model behaves: its policy, latency and injected faults.

Field names are those of sweep.yaml's simulated models (``latency_ms``, ``faults``), so the sweep
config reuses these models as they are.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, TypeAdapter

Probability = Field(0.0, ge=0.0, le=1.0)
DEFAULT_TTFT_SHARE = 0.3  # of a streamed reply's delay, spent before its first event
PolicyName = Literal["oracle", "noisy", "single-call", "random", "grounded"]
POLICY_NAMES: tuple[str, ...] = get_args(PolicyName)


class LatencyConfig(BaseModel):
    """Server-side delay per request, in milliseconds: ``mean`` ± uniform ``jitter``, and with
    probability ``tail_p`` an extra ``tail`` (a slow tail).

    A streamed reply is paced over that delay: its first event goes after ``ttft_share`` of it (the
    time to first token), the rest evenly over the remainder, as a model generates; an error
    status or fault on a streamed request comes after the ``ttft_share`` part alone."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mean: NonNegativeFloat = 0.0
    jitter: NonNegativeFloat = 0.0
    tail_p: float = Probability
    tail: NonNegativeFloat = 0.0
    ttft_share: float = Field(DEFAULT_TTFT_SHARE, ge=0.0, le=1.0)


class Outage(BaseModel):
    """Every request answers ``status`` from ``start_s`` to ``start_s + duration_s`` after server start."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    start_s: NonNegativeFloat
    duration_s: PositiveFloat
    status: int = Field(503, ge=400, le=599)


class FaultConfig(BaseModel):
    """Per-request fault probabilities (drawn from the model's seeded generator, in arrival order).

    ``quota``: a 429 that waiting will not fix — the API's quota is spent (OpenAI's
    ``insufficient_quota``, Gemini's per-day ``QuotaFailure``); Anthropic's API has no such 429 and
    answers its ``rate_limit_error``. ``midstream``: a streamed reply breaks part way — the
    connection drops after some events, or (Anthropic) an ``error`` event with
    ``overloaded_error`` ends it; a request that does not stream loses its connection (as ``reset``).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    http_5xx: float = Probability
    http_429: float = Probability
    hang: float = Probability
    reset: float = Probability
    refusal: float = Probability
    malformed: float = Probability
    quota: float = Probability
    midstream: float = Probability
    retry_after_s: NonNegativeFloat = 1.0
    hang_s: PositiveFloat = 600.0
    outages: list[Outage] = Field(default_factory=list)


class NoiseConfig(BaseModel):
    """Skill knobs of the ``noisy`` policy: per-turn probabilities of each kind of mistake."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    wrong_tool: float = Field(0.05, ge=0.0, le=1.0)
    wrong_argument: float = Field(0.05, ge=0.0, le=1.0)
    stop_early: float = Field(0.03, ge=0.0, le=1.0)
    repeat: float = Field(0.03, ge=0.0, le=1.0)
    skip_answer: float = Field(0.02, ge=0.0, le=1.0)
    ignore_tool_output: float = Field(0.05, ge=0.0, le=1.0)


class TruncateConfig(BaseModel):
    """Replies cut by the output cap: with probability ``rate`` a reply stops part way (in its
    text or in a call's arguments), reported as each API reports hitting ``max_tokens``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    rate: float = Probability


class ModelProfile(BaseModel):
    """A simulated model: an agent policy plus its latency and faults.

    ``reasoning``: the model behaves like a reasoning model of whichever API it is asked through —
    it thinks (reasoning items, thinking blocks, thought signatures, reasoning tokens) when the
    request turns thinking on, and it enforces that API's rules for reasoning models, answering a
    request that breaks one with the real API's error. ``truncate``: how often a reply is cut as
    if by ``max_tokens`` (a reply longer than the request's own cap is always cut).
    ``impersonates``: the real model this one stands for (e.g. ``gpt-5.5``): the simulator enforces
    that model's rules from the model catalog, with its API's error bodies, and thinks by default
    where it does, instead of ``reasoning`` (see ``impersonation``).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    policy: PolicyName = "oracle"
    reasoning: bool = False
    latency_ms: LatencyConfig = Field(default_factory=LatencyConfig)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    truncate: TruncateConfig = Field(default_factory=TruncateConfig)
    seed: int = 0
    impersonates: str | None = Field(None, min_length=1)


_PROFILES = TypeAdapter(dict[str, ModelProfile])


def profiles_from_json(text: str | bytes) -> dict[str, ModelProfile]:
    """Profiles keyed by model name, from a JSON object (the simulator's ``--config`` file)."""
    return _PROFILES.validate_json(text)


def profiles_to_json(profiles: dict[str, ModelProfile]) -> str:
    return _PROFILES.dump_json(profiles).decode()


class BatchConfig(BaseModel):
    """How the simulator runs batches. ``processing_s``: simulated seconds from submission until
    the last request is answered (the batch ends then). ``failure_rate``: the share of requests
    that come back as a server error (drawn per request from ``seed``). ``expire_after_s``: the
    batch expires this long after submission (None: the API's own window, never reached here);
    requests not yet answered by then come back expired."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    processing_s: NonNegativeFloat = 0.0
    failure_rate: float = Field(0.0, ge=0.0, le=1.0)
    expire_after_s: PositiveFloat | None = None
    seed: int = 0
