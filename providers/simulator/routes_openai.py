"""The OpenAI Chat Completions side of the simulator: ``POST /v1/chat/completions``.

A model with ``reasoning`` set behaves like OpenAI's reasoning models (o-series, gpt-5 family) on
this API: it thinks unless ``reasoning_effort`` is ``"none"`` (Chat never shows the thought, only
``completion_tokens_details.reasoning_tokens``), and it rejects what they reject, with their error
bodies (see ``check``).
"""

from __future__ import annotations

import json
import random
import re
import time
from typing import Any

from aiohttp import web

from providers.simulator import history
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import AUTO, Event, RuleViolation, Stop, Thought, ToolChoice
from providers.simulator.signatures import Signer
from providers.simulator.streaming import chat_events
from providers.types import Message, Reasoning, ToolCall, ToolSpec
from providers.wire import openai_chat

# OpenAI's reasoning models think at medium effort when the request names none
DEFAULT_EFFORT = "medium"

# the body fields /stats reports per model
SAMPLING_AND_REASONING = ("temperature", "top_p", "seed", "max_tokens", "max_completion_tokens", "reasoning_effort",
                          "parallel_tool_calls")


class OpenAIFormat:
    """Reads Chat Completions requests and writes their replies and errors."""

    api = "openai"
    server_statuses: tuple[int, ...] = (500, 502, 503)
    params_reported: tuple[str, ...] = SAMPLING_AND_REASONING

    def api_key(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def model(self, request: web.Request, body: dict[str, Any]) -> str | None:
        return body.get("model")

    def params(self, body: dict[str, Any]) -> dict[str, Any]:
        return {name: body[name] for name in self.params_reported if name in body}

    def streams(self, request: web.Request, body: dict[str, Any]) -> bool:
        return body.get("stream") is True

    def streams_as_array(self, request: web.Request) -> bool:
        return False

    def headers(self, request: web.Request) -> None:
        return None

    def history(self, body: dict[str, Any]) -> None:
        history.chat(body.get("messages"))

    def model_not_found(self, request: web.Request, model: str) -> str:
        return f"The model `{model}` does not exist."

    def tool_choice(self, body: dict[str, Any], tools: tuple[ToolSpec, ...]) -> ToolChoice:
        return openai_tool_choice(body.get("tool_choice"), tools, nested=True)

    def max_output(self, body: dict[str, Any]) -> int | None:
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        return cap if isinstance(cap, int) else None

    def stop_sequences(self, body: dict[str, Any]) -> tuple[str, ...]:
        stop = body.get("stop")
        return (stop,) if isinstance(stop, str) else tuple(s for s in stop or () if isinstance(s, str))

    def stream_events(self, reply: dict[str, Any], body: dict[str, Any]) -> list[Event]:
        options = body.get("stream_options")
        return chat_events(reply, include_usage=isinstance(options, dict) and options.get("include_usage") is True)

    def stream_failure(self) -> Event | None:
        return None

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer,
              request: web.Request) -> Reasoning | None:
        n = body.get("n", 1)
        if n != 1:
            # the simulator's refusal, not OpenAI's (which would answer n choices): one choice per reply
            raise RuleViolation(400, f"the simulator answers one choice per request; 'n' must be 1, not {n}",
                                code="unsupported_value", param="n")
        if not profile.reasoning:
            return None
        effort = body.get("reasoning_effort")
        reasoning_chat_rules(body, effort)
        return None if effort == "none" else Reasoning(effort=effort if isinstance(effort, str) else DEFAULT_EFFORT)

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        messages = openai_chat.messages_from_wire(body["messages"])
        tools = tuple(openai_chat.tool_from_wire(item) for item in body.get("tools") or ())
        return messages, tools

    def call_id(self, rng: random.Random) -> str:
        return f"call_{rng.getrandbits(64):016x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer, body: dict[str, Any], stop: Stop = "natural",
              stop_sequence: str | None = None) -> dict[str, Any]:
        reply = openai_chat.reply_to_wire(
            reply_id=f"chatcmpl-sim{reply_id:010d}", model=model, created=int(time.time()), text=text,
            tool_calls=tool_calls, refusal=text if refusal else None, input_tokens=input_tokens,
            output_tokens=output_tokens + (thought.tokens if thought else 0),
            reasoning_tokens=thought.tokens if thought else 0,
        )
        if stop == "max_tokens":
            reply["choices"][0]["finish_reason"] = "length"
        return reply

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        return openai_chat.error_to_wire(status, message, code=code, param=param)


def openai_tool_choice(choice: Any, tools: tuple[ToolSpec, ...], *, nested: bool) -> ToolChoice:
    """``tool_choice`` of Chat Completions (``nested``: ``{"type": "function", "function": {"name"}}``)
    or of Responses (``{"type": "function", "name"}``, ``{"type": "allowed_tools", "mode", "tools"}``)."""
    if choice is None or choice == "auto":
        return AUTO
    if choice in ("none", "required"):
        return ToolChoice(mode=choice)
    if isinstance(choice, dict) and choice.get("type") == "function":
        named = choice.get("function") if nested else choice
        name = named.get("name") if isinstance(named, dict) else None
        if name not in {tool.name for tool in tools}:
            # modelled on the API's "Invalid value" errors for this parameter
            raise RuleViolation(400, f"Invalid value for 'tool_choice': no function named {name!r} was specified "
                                     "in the 'tools' parameter.", code="invalid_value", param="tool_choice")
        return ToolChoice(mode="required", names=(str(name),))
    if not nested and isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        names = tuple(str(t.get("name")) for t in choice.get("tools") or () if isinstance(t, dict))
        return ToolChoice(mode="required" if choice.get("mode") == "required" else "auto", names=names)
    raise RuleViolation(400, f"Invalid value for 'tool_choice': {json.dumps(choice)}.", code="invalid_value",
                        param="tool_choice")


# gpt-5.4 and later refuse function tools with reasoning on this API. The rule follows the model's
# name, as OpenAI's does, so a simulated model called e.g. "gpt-5.4" enacts it and others do not.
_GPT5_MINOR = re.compile(r"^gpt-5\.(\d+)")
# gpt-5.6 applies a reasoning effort by default, so tools fail unless it is explicitly "none".
_TOOLS_NEED_EXPLICIT_NONE_FROM = 6


def reasoning_chat_rules(body: dict[str, Any], effort: object) -> None:
    """Raise the error OpenAI's reasoning models answer a Chat Completions body with, if any.

    Bodies as quoted in public issue trackers: ``max_tokens`` (microsoft/clarity-agent#59),
    ``temperature`` other than 1 (microsoft/vscode#255504; accepted with ``reasoning_effort:
    "none"``, as gpt-5.1 and later do), function tools with reasoning on gpt-5.4+
    (pipecat-ai/pipecat#4043; gpt-5.6's wording: GoogleChromeLabs/webmcp-tools#417).
    """
    if "max_tokens" in body:
        raise RuleViolation(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                                 "Use 'max_completion_tokens' instead.", code="unsupported_parameter", param="max_tokens")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1 and effort != "none":
        shown = f"{temperature:g}" if isinstance(temperature, int | float) else json.dumps(temperature)
        raise RuleViolation(400, f"Unsupported value: 'temperature' does not support {shown} with this model. "
                                 "Only the default (1) value is supported.", code="unsupported_value", param="temperature")
    minor = _GPT5_MINOR.match(str(body.get("model", "")))
    if minor is None or int(minor[1]) < 4 or not body.get("tools"):
        return
    model, newer = minor[0], int(minor[1]) >= _TOOLS_NEED_EXPLICIT_NONE_FROM
    if effort == "none" or (effort is None and not newer):
        return
    raise tools_with_reasoning(model, explicit_none=newer)


def tools_with_reasoning(model: str, *, explicit_none: bool = False) -> RuleViolation:
    """Chat Completions' 400 for function tools with reasoning on a model that refuses them there
    (``explicit_none``: gpt-5.6's wording, for models whose default effort is not "none")."""
    advice = ("To use function tools, use /v1/responses or set reasoning_effort to 'none'." if explicit_none
              else "Please use /v1/responses instead.")
    return RuleViolation(400, f"Function tools with reasoning_effort are not supported for {model} in "
                              f"/v1/chat/completions. {advice}", param="reasoning_effort")
