"""The Anthropic Messages side of the simulator: ``POST /v1/messages``.

A reasoning model that thinks on a request answers with a signed ``thinking`` block first (and,
on some tool-calling turns, a ``redacted_thinking`` block after it, as the API does when part of
a thought is withheld), counts the thought in ``output_tokens`` and reports it in
``usage.output_tokens_details.thinking_tokens``; ``rules_anthropic`` enforces the API's rules.
"""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from providers.simulator import rules_anthropic
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import Thought
from providers.simulator.signatures import Signer
from providers.types import Message, Reasoning, ToolCall, ToolSpec
from providers.wire import anthropic_messages

# What the refusal fault's reply says in ``stop_details``.
REFUSAL_DETAILS = {"type": "refusal", "category": "general_harms",
                   "explanation": "A safety classifier declined this turn (a simulated refusal)."}
# The share of tool-calling turns (out of 64) whose thought is partly redacted; drawn from the
# thought's signature, so the same turn is always redacted or not.
REDACTED_OF_64 = 16
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


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

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer) -> Reasoning | None:
        return rules_anthropic.check(body, signer) if profile.reasoning else None

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
              signer: Signer, body: dict[str, Any]) -> dict[str, Any]:
        thinking = thinking_blocks(thought, signer, calls_tools=bool(tool_calls)) if thought else []
        thinking_tokens = thought.tokens if thought else 0
        return anthropic_messages.reply_to_wire(
            reply_id=f"msg_sim{reply_id:010d}", model=model, text=text, tool_calls=tool_calls, refusal=refusal,
            input_tokens=input_tokens, output_tokens=output_tokens + thinking_tokens, thinking=thinking,
            thinking_tokens=thinking_tokens, stop_details=REFUSAL_DETAILS if refusal else None,
        )

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        return anthropic_messages.error_to_wire(status, message)
