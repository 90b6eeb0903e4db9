"""The Anthropic Messages side of the simulator: ``POST /v1/messages``."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from providers.types import Message, ToolCall, ToolSpec
from providers.wire import anthropic_messages


class AnthropicFormat:
    """Reads Messages requests and writes their replies and errors; 529 is Anthropic's "overloaded"."""

    server_statuses: tuple[int, ...] = (500, 502, 503, 529)

    def api_key(self, request: web.Request) -> str | None:
        key = request.headers.get("x-api-key")
        if key:
            return key.strip()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        if not isinstance(body.get("max_tokens"), int):
            raise ValueError("'max_tokens' is required and must be an integer")
        messages = anthropic_messages.messages_from_wire(body.get("system"), body["messages"])
        tools = tuple(anthropic_messages.tool_from_wire(item) for item in body.get("tools") or ())
        return messages, tools

    def call_id(self, rng: random.Random) -> str:
        return f"toolu_{rng.getrandbits(96):024x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        return anthropic_messages.reply_to_wire(
            reply_id=f"msg_sim{reply_id:010d}", model=model, text=text, tool_calls=tool_calls, refusal=refusal,
            input_tokens=input_tokens, output_tokens=output_tokens,
        )

    def error(self, status: int, message: str, *, code: str | None = None) -> dict[str, Any]:
        return anthropic_messages.error_to_wire(status, message)
