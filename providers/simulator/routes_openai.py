"""The OpenAI Chat Completions side of the simulator: ``POST /v1/chat/completions``."""

from __future__ import annotations

import random
import time
from typing import Any

from aiohttp import web

from providers.simulator.config import ModelProfile
from providers.simulator.exchange import Thought
from providers.simulator.signatures import Signer
from providers.types import Message, ToolCall, ToolSpec
from providers.wire import openai_chat

# the body fields /stats reports per model
SAMPLING_AND_REASONING = ("temperature", "top_p", "seed", "max_tokens", "max_completion_tokens", "reasoning_effort", "parallel_tool_calls")


class OpenAIFormat:
    """Reads Chat Completions requests and writes their replies and errors."""

    server_statuses: tuple[int, ...] = (500, 502, 503)

    def api_key(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def model(self, request: web.Request, body: dict[str, Any]) -> str | None:
        return body.get("model")

    def params(self, body: dict[str, Any]) -> dict[str, Any]:
        return {name: body[name] for name in SAMPLING_AND_REASONING if name in body}

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer) -> bool:
        return False

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        messages = openai_chat.messages_from_wire(body["messages"])
        tools = tuple(openai_chat.tool_from_wire(item) for item in body.get("tools") or ())
        return messages, tools

    def call_id(self, rng: random.Random) -> str:
        return f"call_{rng.getrandbits(64):016x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer) -> dict[str, Any]:
        return openai_chat.reply_to_wire(
            reply_id=f"chatcmpl-sim{reply_id:010d}", model=model, created=int(time.time()), text=text,
            tool_calls=tool_calls, refusal=text if refusal else None,
            input_tokens=input_tokens, output_tokens=output_tokens,
        )

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        return openai_chat.error_to_wire(status, message, code=code)
