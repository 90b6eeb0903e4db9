"""One request's path up to its fate, whatever the wire format: account → authenticate →
validate → resolve the model → enforce the API's rules for that model (and, for a model
impersonating a real one, that model's own: ``impersonation``) → draw the fault and delay →
hand the ``Exchange`` to the handler (latency and fault wrappers around the policy's reply,
composed in ``server``).

The wire formats (``routes_*``) read requests, check their API's rules and write bodies.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from providers.simulator.config import POLICY_NAMES, FaultConfig, LatencyConfig, ModelProfile
from providers.simulator.conversation import Script
from providers.simulator.faults import FaultDecision, FaultInjector
from providers.simulator.signatures import Signer
from providers.simulator.stats import ServerStats
from providers.types import Message, Reasoning, ToolCall, ToolSpec

INVALID_KEY = "invalid-key"  # the one key the simulator rejects, so clients can test auth errors
UNKNOWN_MODEL = "(unknown)"


class RuleViolation(Exception):
    """A request the real API rejects (for this model): answered with that API's status and body."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param


@dataclass(frozen=True)
class Thought:
    """What a reasoning model thought before its turn: the text (summarised or signed by each
    format as its API does) and the tokens it cost."""

    text: str
    tokens: int


class WireFormat(Protocol):
    """What a wire format supplies to the exchange."""

    api: str  # its API, as the model catalog names it (providers.registry.ApiFormat)
    server_statuses: tuple[int, ...]

    def model(self, request: web.Request, body: dict[str, Any]) -> str | None:
        """The model the request names (the body's ``model``, or the URL's where the API puts it there)."""
        ...

    def api_key(self, request: web.Request) -> str | None: ...

    def streams(self, request: web.Request, body: dict[str, Any]) -> bool:
        """Whether the request asks for its reply as a stream of server-sent events."""
        ...

    def streams_as_array(self, request: web.Request) -> bool:
        """Whether a stream goes as one JSON array of its chunks (Gemini without ``alt=sse``)."""
        ...

    def headers(self, request: web.Request) -> None:
        """Raise ``RuleViolation`` for a header the API requires and the request lacks or misstates."""
        ...

    def history(self, body: dict[str, Any]) -> None:
        """Raise ``RuleViolation`` with the API's 400 for a tool history it rejects (a result with
        no call, a call left unanswered); one pass over the messages."""
        ...

    def tool_choice(self, body: dict[str, Any], tools: tuple[ToolSpec, ...]) -> ToolChoice:
        """What the request's tool choice asks of the reply (raising the API's error for one it refuses)."""
        ...

    def max_output(self, body: dict[str, Any]) -> int | None:
        """The request's cap on output tokens, None when it sets none."""
        ...

    def stop_sequences(self, body: dict[str, Any]) -> tuple[str, ...]: ...

    def model_not_found(self, request: web.Request, model: str) -> str:
        """The API's message for a model it does not serve."""
        ...

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]: ...

    def params(self, body: dict[str, Any]) -> dict[str, Any]:
        """The sampling and reasoning parameters the body sets, as sent (for ``/stats``)."""
        ...

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer,
              request: web.Request) -> Reasoning | None:
        """Enforce the API's rules for this model: raise ``RuleViolation`` with the real API's
        error where the request breaks one. Returns how hard the model thinks on this request (the
        effort or budget asked for, the API's default where none is), None when it does not."""
        ...

    def call_id(self, rng: random.Random) -> str: ...

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer, body: dict[str, Any], stop: Stop = "natural",
              stop_sequence: str | None = None) -> dict[str, Any]:
        """The reply body to the request ``body``. ``output_tokens`` counts the visible output;
        ``thought`` (None when the model does not think) adds its tokens as that API counts them.
        ``stop``: why the reply ended when not naturally (cut at the output cap, or at a stop
        sequence), in that API's words."""
        ...

    def stream_events(self, reply: dict[str, Any], body: dict[str, Any]) -> list[Event]:
        """The reply body as the events the API streams it in."""
        ...

    def stream_failure(self) -> Event | None:
        """The event a stream failing part way ends with; None: the connection just drops."""
        ...

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]: ...


# Why a reply ended: the model finished, it hit the request's output cap, or a stop sequence.
Stop = Literal["natural", "max_tokens", "stop_sequence"]
# One server-sent event: its ``event:`` name (None: a bare ``data:`` line) and its data.
Event = tuple[str | None, dict[str, Any] | str]


@dataclass(frozen=True)
class ToolChoice:
    """What a request's tool choice demands: ``auto`` (the model decides), ``required`` (some
    call, to one of ``names`` when given) or ``none`` (no call)."""

    mode: Literal["auto", "required", "none"] = "auto"
    names: tuple[str, ...] = ()


AUTO = ToolChoice()


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
    params: dict[str, Any]  # the sampling and reasoning parameters as sent
    body: dict[str, Any]  # the request as it came, for what a format's reply echoes
    stream: bool = False  # answered as server-sent events


class Simulation:
    """The server's shared state: profiles, seeds, fault generators, counters, and the signal that
    releases hung requests when the server stops."""

    def __init__(self, profiles: dict[str, ModelProfile], seed: int) -> None:
        self.profiles = dict(profiles)
        self.seed = seed
        self.injector = FaultInjector(seed)
        self.signer = Signer(seed)
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
    reasoning: Reasoning | None = None  # how hard a reasoning model thinks on this request
    tool_choice: ToolChoice = AUTO
    spread_s: float = 0.0  # a streamed reply's events go out evenly over this long (``with_latency``)

    def count(self, outcome: str) -> None:
        self.sim.stats.outcome(self.parsed.model, outcome)


Handler = Callable[[Exchange], Awaitable[web.StreamResponse]]
# The rules a request must pass for its model, returning how hard the model thinks (see WireFormat.check).
Rules = Callable[[WireFormat, dict[str, Any], ModelProfile, Signer, web.Request], Reasoning | None]


def error_response(fmt: WireFormat, status: int, message: str, *, code: str | None = None,
                   param: str | None = None, retry_after_s: float | None = None) -> web.Response:
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    body = fmt.error(status, message, code=code, param=param, retry_after_s=retry_after_s)
    return web.json_response(body, status=status, headers=headers)


def _parse(fmt: WireFormat, request: web.Request, model: str | None, body: dict[str, Any]) -> ParsedRequest:
    if not isinstance(model, str) or not model:
        raise ValueError("'model' must be a non-empty string")
    messages, tools = fmt.parse(body)
    script = Script.model_validate(body["script"]) if body.get("script") is not None else None
    override = SimulateOverride.model_validate(body.get("simulate") or {})
    seed = body.get("seed")
    return ParsedRequest(model, messages, tools, script, override, seed if isinstance(seed, int) else None,
                         fmt.params(body), body, fmt.streams(request, body))


def _masked(key: str | None) -> str:
    """The key as real providers echo it (a few characters each end), so clients must redact it."""
    if not key:
        return "(none)"
    return key[:3] + "*" * max(3, len(key) - 7) + key[-4:]


async def serve(sim: Simulation, fmt: WireFormat, request: web.Request, handler: Handler,
                rules: Rules) -> web.StreamResponse:
    """Answer one model request in ``fmt``'s wire format, counting it in ``sim.stats``; requests
    that pass ``rules`` (``fmt.check`` as the model's profile calls for it: ``impersonation.check``)
    go to ``handler``."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    named = fmt.model(request, body) if isinstance(body, dict) else None
    model = named if isinstance(named, str) and named else UNKNOWN_MODEL
    sim.stats.arrival(model)
    key = fmt.api_key(request)
    if not key or key == INVALID_KEY:
        sim.stats.outcome(model, "auth")
        return error_response(fmt, 401, f"Incorrect API key provided: {_masked(key)}.", code="invalid_api_key")
    if not isinstance(body, dict):
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, 400, "the request body is not a JSON object")
    try:
        parsed = _parse(fmt, request, named, body)
    except RuleViolation as exc:
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, exc.status, exc.message, code=exc.code, param=exc.param)
    except (KeyError, TypeError, AttributeError, ValueError, ValidationError) as exc:
        sim.stats.outcome(model, "bad_request")
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        return error_response(fmt, 400, f"invalid request: {detail}")
    profile = sim.profile(model)
    if profile is None:
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, 404, fmt.model_not_found(request, model), code="model_not_found")
    sim.stats.params(model, parsed.params)
    try:
        fmt.headers(request)
        reasoning = rules(fmt, body, profile, sim.signer, request)
        fmt.history(body)
        tool_choice = fmt.tool_choice(body, parsed.tools) if parsed.tools else AUTO
    except RuleViolation as exc:
        sim.stats.outcome(model, "bad_request")
        return error_response(fmt, exc.status, exc.message, code=exc.code, param=exc.param)
    faults = parsed.override.faults or profile.faults
    latency = parsed.override.latency_ms or profile.latency_ms
    decision = sim.injector.decide(model, profile.seed, faults, latency, fmt.server_statuses)
    return await handler(Exchange(sim, fmt, request, parsed, profile, faults, decision, reasoning,
                                     tool_choice))

