"""One request's path up to its fate, whatever the wire format: account → authenticate →
validate → resolve the model → draw the fault and delay → hand the ``Exchange`` to the handler
(latency and fault wrappers around the policy's reply, composed in ``server``).

The wire formats (``routes_openai``, ``routes_anthropic``) only read requests and write bodies.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from providers.simulator.config import POLICY_NAMES, FaultConfig, LatencyConfig, ModelProfile
from providers.simulator.conversation import Script
from providers.simulator.faults import FaultDecision, FaultInjector
from providers.simulator.stats import ServerStats
from providers.types import Message, ToolCall, ToolSpec

INVALID_KEY = "invalid-key"  # the one key the simulator rejects, so clients can test auth errors
UNKNOWN_MODEL = "(unknown)"


class WireFormat(Protocol):
    """What a wire format supplies to the exchange."""

    server_statuses: tuple[int, ...]

    def api_key(self, request: web.Request) -> str | None: ...

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]: ...

    def call_id(self, rng: random.Random) -> str: ...

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int) -> dict[str, Any]: ...

    def error(self, status: int, message: str, *, code: str | None = None) -> dict[str, Any]: ...


class SimulateOverride(BaseModel):
    """Body field ``simulate``: latency and faults for this request instead of the profile's."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: LatencyConfig | None = None
    faults: FaultConfig | None = None


@dataclass(frozen=True)
class ParsedRequest:
    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    script: Script | None
    override: SimulateOverride
    seed: int | None  # the body's sampling seed: part of the policy's seed


class Simulation:
    """The server's shared state: profiles, seeds, fault generators, counters, and the signal that
    releases hung requests when the server stops."""

    def __init__(self, profiles: dict[str, ModelProfile], seed: int) -> None:
        self.profiles = dict(profiles)
        self.seed = seed
        self.injector = FaultInjector(seed)
        self.stats = ServerStats()
        self.closing = asyncio.Event()
        self._reply_ids = itertools.count(1)
        self._policy_defaults = {name: ModelProfile(policy=name) for name in POLICY_NAMES}

    def profile(self, model: str) -> ModelProfile | None:
        """A configured profile, else the default profile of a policy of that name."""
        return self.profiles.get(model) or self._policy_defaults.get(model)

    def next_reply_id(self) -> int:
        return next(self._reply_ids)


@dataclass(frozen=True)
class Exchange:
    """A valid request for a known model, with its drawn fate, on its way through the handler."""

    sim: Simulation
    fmt: WireFormat
    request: web.Request
    parsed: ParsedRequest
    profile: ModelProfile
    faults: FaultConfig
    decision: FaultDecision

    def count(self, outcome: str) -> None:
        self.sim.stats.outcome(self.parsed.model, outcome)


Handler = Callable[[Exchange], Awaitable[web.StreamResponse]]


def error_response(fmt: WireFormat, status: int, message: str, *, code: str | None = None,
                   retry_after_s: float | None = None) -> web.Response:
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    return web.json_response(fmt.error(status, message, code=code), status=status, headers=headers)


def _parse(fmt: WireFormat, body: dict[str, Any]) -> ParsedRequest:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ValueError("'model' must be a non-empty string")
    if body.get("stream"):
        raise ValueError("streaming is not simulated: send stream=false")
    messages, tools = fmt.parse(body)
    script = Script.model_validate(body["script"]) if body.get("script") is not None else None
    override = SimulateOverride.model_validate(body.get("simulate") or {})
    seed = body.get("seed")
    return ParsedRequest(model, messages, tools, script, override, seed if isinstance(seed, int) else None)


def _masked(key: str | None) -> str:
    """The key as real providers echo it (a few characters each end), so clients must redact it."""
    if not key:
        return "(none)"
    return key[:3] + "*" * max(3, len(key) - 7) + key[-4:]


async def serve(sim: Simulation, fmt: WireFormat, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer one model request in ``fmt``'s wire format, counting it in ``sim.stats``; requests
    that get this far go to ``handler``."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    model: str = body["model"] if isinstance(body, dict) and isinstance(body.get("model"), str) else UNKNOWN_MODEL
    sim.stats.arrival(model)
    key = fmt.api_key(request)
    if not key or key == INVALID_KEY:
        sim.stats.outcome(model, "auth")
        return error_response(fmt, 401, f"Incorrect API key provided: {_masked(key)}.", code="invalid_api_key")
    if not isinstance(body, dict):
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, 400, "the request body is not a JSON object")
    try:
        parsed = _parse(fmt, body)
    except (KeyError, TypeError, AttributeError, ValueError, ValidationError) as exc:
        sim.stats.outcome(model, "bad_request")
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        return error_response(fmt, 400, f"invalid request: {detail}")
    profile = sim.profile(model)
    if profile is None:
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, 404, f"The model `{model}` does not exist.", code="model_not_found")
    faults = parsed.override.faults or profile.faults
    latency = parsed.override.latency_ms or profile.latency_ms
    decision = sim.injector.decide(model, profile.seed, faults, latency, fmt.server_statuses)
    return await handler(Exchange(sim, fmt, request, parsed, profile, faults, decision))

