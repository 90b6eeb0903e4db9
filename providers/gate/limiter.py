"""Requests-per-minute and tokens-per-minute limits of one provider endpoint.

Both limits are ``aiolimiter.AsyncLimiter`` leaky buckets, sized so that no 1-second window ever
carries more than a second's share of the per-minute budget — including the first second, when
an unprimed bucket would otherwise let a burst through:

- **requests**: a bucket one permit deep that drains one permit every ``60 / rpm`` seconds.
  A leaky bucket of depth ``B`` draining ``r`` per second admits up to ``B + r·T`` calls in any
  window of ``T`` seconds; a bucket holding a whole second (``B = r``) would admit ``2r`` in a
  second that starts with a full burst. Depth 1 is the only depth that keeps every half-open
  1 s window at ``rpm / 60`` or fewer while still sustaining the full rate. It also handles
  fractional rates: rpm 30 is one permit every 2 s, and ``acquire(1)`` never exceeds the bucket.
- **tokens**: a bucket holding one second of tokens (``tpm / 60``). A request is charged an
  estimate before it is sent (see :func:`estimate_tokens`); one bigger than the bucket is charged
  in bucket-sized chunks, so it waits as long as its size requires instead of deadlocking on an
  ``acquire`` the bucket could never satisfy.

Tokens are charged first and the request permit last, right before the call: the request
permits' spacing is then the spacing on the wire, whatever the token wait was.

Clock: ``AsyncLimiter`` reads the running event loop's clock (``loop.time()``), so the clock is
injected by running on a loop whose time is virtual — as the tests do — rather than by argument.
"""

from __future__ import annotations

import json
from types import TracebackType

from aiolimiter import AsyncLimiter

from providers.types import CompletionRequest

CHARS_PER_TOKEN = 4
# Providers (OpenAI's documented accounting) charge max_tokens against the TPM budget up front.
# Tool-calling replies here are short, so a large max_tokens is charged at most this much: a
# sweep that sets max_tokens=32000 must not throttle itself to a crawl on replies of 50 tokens.
OUTPUT_TOKEN_ALLOWANCE = 1024


def estimate_tokens(request: CompletionRequest) -> int:
    """Tokens a request is charged before it is sent: the characters of every message (content and
    tool-call arguments) and of the tool schemas, divided by 4, plus ``max_tokens`` capped at
    :data:`OUTPUT_TOKEN_ALLOWANCE`. Cheap and provider-neutral; real tokenizers differ by ±20%."""
    chars = 0
    for message in request.messages:
        chars += len(message.content)
        for call in message.tool_calls:
            chars += len(call.name) + len(call.arguments_json)
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description) + len(json.dumps(tool.parameters))
    return chars // CHARS_PER_TOKEN + min(request.max_tokens, OUTPUT_TOKEN_ALLOWANCE)


class RateLimiter:
    """Requests/min and tokens/min limits; either may be ``None`` (unlimited).

    ``async with limiter:`` takes one request permit; ``await limiter.acquire(tokens=n)`` also
    charges ``n`` tokens.
    """

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        if (rpm is not None and rpm <= 0) or (tpm is not None and tpm <= 0):
            raise ValueError(f"rpm and tpm must be positive or None, got rpm={rpm} tpm={tpm}")
        self.rpm = rpm
        self.tpm = tpm
        self._requests = AsyncLimiter(1, 60.0 / rpm) if rpm else None
        self._tokens = AsyncLimiter(tpm / 60.0, 1.0) if tpm else None

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until ``tokens`` tokens and one request fit within the limits, then take them."""
        if self._tokens is not None and tokens > 0:
            bucket = self._tokens.max_rate
            remaining = float(tokens)
            while remaining > 0:
                chunk = min(remaining, bucket)
                await self._tokens.acquire(chunk)
                remaining -= chunk
        if self._requests is not None:
            await self._requests.acquire(1)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.rpm}, tpm={self.tpm})"
