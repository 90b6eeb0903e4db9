"""The Anthropic Messages side of the simulator: ``POST /v1/messages``.

A reasoning model that thinks on a request answers with a signed ``thinking`` block first (and,
on some tool-calling turns, a ``redacted_thinking`` block after it, as the API does when part of
a thought is withheld), counts the thought in ``output_tokens`` and reports it in
``usage.output_tokens_details.thinking_tokens``; ``rules_anthropic`` enforces the API's rules.
"""

from __future__ import annotations

import random
import re
from typing import Any

from aiohttp import web

from providers.simulator import history, rules_anthropic
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import AUTO, Event, RuleViolation, Stop, Thought, ToolChoice
from providers.simulator.signatures import Signer
from providers.simulator.streaming import ANTHROPIC_OVERLOADED, anthropic_events
from providers.types import Message, Reasoning, ToolCall, ToolSpec
from providers.wire import anthropic_messages

# What the refusal fault's reply says in ``stop_details``.
REFUSAL_DETAILS = {"type": "refusal", "category": "general_harms",
                   "explanation": "A safety classifier declined this turn (a simulated refusal)."}
# The share of tool-calling turns (out of 64) whose thought is partly redacted; drawn from the
# thought's signature, so the same turn is always redacted or not.
REDACTED_OF_64 = 16
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# An ``anthropic-version`` is a date (2023-06-01 is the documented one; SDKs send newer ones), so
# any date is taken and anything else refused.
API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
# Quoted in envoyproxy/ai-gateway#1909 and PipedreamHQ/pipedream#9697.
VERSION_REQUIRED = "anthropic-version: header is required"
# Not quoted in public reports; worded after the one above.
VERSION_UNKNOWN = "anthropic-version: {version!r} is not a valid version"
# With this beta, thinking may go on between tool calls and its budget may exceed ``max_tokens``.
INTERLEAVED_THINKING = "interleaved-thinking-2025-05-14"


def thinking_blocks(thought: Thought, signer: Signer, *, calls_tools: bool) -> list[dict[str, Any]]:
    """The thought as the API returns it: a ``thinking`` block signed over its text, and on some
    tool-calling turns a ``redacted_thinking`` block whose ``data`` is sealed."""
    signature = signer.sign(thought.text)
    blocks: list[dict[str, Any]] = [{"type": "thinking", "thinking": thought.text, "signature": signature}]
    if calls_tools and _BASE64.index(signer.sign("redact " + thought.text)[0]) < REDACTED_OF_64:
        blocks.append({"type": "redacted_thinking", "data": signer.seal("withheld: " + thought.text)})
    return blocks


class AnthropicFormat:
    """Reads Messages requests and writes their replies and errors; 529 is Anthropic's "overloaded"."""

    api = "anthropic"
    server_statuses: tuple[int, ...] = (500, 502, 503, 529)

    def api_key(self, request: web.Request) -> str | None:
        key = request.headers.get("x-api-key")
        if key:
            return key.strip()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def model(self, request: web.Request, body: dict[str, Any]) -> str | None:
        return body.get("model")

    def params(self, body: dict[str, Any]) -> dict[str, Any]:
        return {name: body[name] for name in anthropic_messages.PARAMETERS if name in body}

    def streams(self, request: web.Request, body: dict[str, Any]) -> bool:
        return body.get("stream") is True

    def streams_as_array(self, request: web.Request) -> bool:
        return False

    def headers(self, request: web.Request) -> None:
        version = request.headers.get("anthropic-version")
        if version is None:
            raise RuleViolation(400, VERSION_REQUIRED)
        if not API_VERSION.fullmatch(version):
            raise RuleViolation(400, VERSION_UNKNOWN.format(version=version))

    def history(self, body: dict[str, Any]) -> None:
        history.anthropic(body.get("messages"))

    def model_not_found(self, request: web.Request, model: str) -> str:
        return f"The model `{model}` does not exist."

    def tool_choice(self, body: dict[str, Any], tools: tuple[ToolSpec, ...]) -> ToolChoice:
        choice = body.get("tool_choice")
        kind = choice.get("type") if isinstance(choice, dict) else None
        if choice is None or kind == "auto":
            return AUTO
        if kind == "any":
            return ToolChoice(mode="required")
        if kind == "none":
            return ToolChoice(mode="none")
        if kind == "tool" and isinstance(choice, dict):
            name = choice.get("name")
            if name not in {tool.name for tool in tools}:
                # modelled on the API's field errors (no public report quotes this one)
                raise RuleViolation(400, f"tool_choice.name: Tool '{name}' not found in provided tools")
            return ToolChoice(mode="required", names=(str(name),))
        raise RuleViolation(400, "tool_choice: Input tag does not match any of the expected tags: "
                                 "'auto', 'any', 'tool', 'none'")

    def max_output(self, body: dict[str, Any]) -> int | None:
        limit: int = body["max_tokens"]  # required, and checked an integer before any reply
        return limit

    def stop_sequences(self, body: dict[str, Any]) -> tuple[str, ...]:
        return tuple(s for s in body.get("stop_sequences") or () if isinstance(s, str))

    def stream_events(self, reply: dict[str, Any], body: dict[str, Any]) -> list[Event]:
        return anthropic_events(reply)

    def stream_failure(self) -> Event | None:
        return ANTHROPIC_OVERLOADED

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer,
              request: web.Request) -> Reasoning | None:
        if not profile.reasoning:
            return None
        betas = {b.strip() for b in request.headers.get("anthropic-beta", "").split(",")}
        return rules_anthropic.check(body, signer, interleaved=INTERLEAVED_THINKING in betas)

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        if not isinstance(body.get("max_tokens"), int):
            raise ValueError("'max_tokens' is required and must be an integer")
        messages = anthropic_messages.messages_from_wire(body.get("system"), body["messages"])
        tools = tuple(anthropic_messages.tool_from_wire(item) for item in body.get("tools") or ())
        return messages, tools

    def call_id(self, rng: random.Random) -> str:
        return f"toolu_{rng.getrandbits(96):024x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer, body: dict[str, Any], stop: Stop = "natural",
              stop_sequence: str | None = None) -> dict[str, Any]:
        thinking = thinking_blocks(thought, signer, calls_tools=bool(tool_calls)) if thought else []
        thinking_tokens = thought.tokens if thought else 0
        reply = anthropic_messages.reply_to_wire(
            reply_id=f"msg_sim{reply_id:010d}", model=model, text=text, tool_calls=tool_calls, refusal=refusal,
            input_tokens=input_tokens, output_tokens=output_tokens + thinking_tokens, thinking=thinking,
            thinking_tokens=thinking_tokens, stop_details=REFUSAL_DETAILS if refusal else None,
        )
        if stop != "natural":
            reply["stop_reason"], reply["stop_sequence"] = stop, stop_sequence
        return reply

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        return anthropic_messages.error_to_wire(status, message)
