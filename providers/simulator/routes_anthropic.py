"""The Anthropic Messages side of the simulator: ``POST /v1/messages``."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from providers.simulator.config import ModelProfile
from providers.simulator.exchange import Thought
from providers.simulator.signatures import Signer
from providers.types import Message, ToolCall, ToolSpec
from providers.wire import anthropic_messages

# the body fields /stats reports per model
SAMPLING_AND_REASONING = ("temperature", "top_p", "top_k", "max_tokens", "thinking", "output_config", "tool_choice")


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
        return {name: body[name] for name in SAMPLING_AND_REASONING if name in body}

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer) -> bool:
        return False

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
              signer: Signer) -> dict[str, Any]:
        return anthropic_messages.reply_to_wire(
            reply_id=f"msg_sim{reply_id:010d}", model=model, text=text, tool_calls=tool_calls, refusal=refusal,
            input_tokens=input_tokens, output_tokens=output_tokens,
        )

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        return anthropic_messages.error_to_wire(status, message)
