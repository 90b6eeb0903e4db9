"""Requests-per-minute and tokens-per-minute limits of one provider endpoint.

Both limits are sized so that no 1-second window ever carries more than a second's share of the
per-minute budget — including the first second, when an unprimed bucket would otherwise let a
burst through:

- **requests**: one permit every ``60 / rpm`` seconds on a fixed grid, and never more than
  ``ceil(rpm / 60)`` permits in any half-open 1 s window (a log of the last permits' times).
  The grid is what a leaky bucket one permit deep gives (a bucket holding a whole second would
  admit ``2r`` in a second that starts with a full burst), with one difference: a caller that
  resumes late — the event loop was busy for a millisecond — does not push the grid back, so the
  next permits catch up instead of the lateness being lost on every permit (at 200 permits/s a
  busy loop's ~1 ms of lateness per permit would cost 15% of the rate). Catch-up is bounded by
  the window log, so it never puts more than the budget into any 1 s window, and by
  ``CATCH_UP_S``: a caller later than that (or the first after an idle spell) restarts the grid.
  Fractional rates work: rpm 30 is one permit every 2 s.
- **tokens**: a bucket holding one second of tokens (``tpm / 60``). A request is charged an
  estimate before it is sent (see :func:`estimate_tokens`); one bigger than the bucket is charged
  in bucket-sized chunks, so it waits as long as its size requires instead of deadlocking on an
  ``acquire`` the bucket could never satisfy.

Tokens are charged first and the request permit last, right before the call: the request
permits' spacing is then the spacing on the wire, whatever the token wait was.

Clock: both read the running event loop's clock (``loop.time()``), so the clock is injected by
running on a loop whose time is virtual — as the tests do — rather than by argument.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque
from types import TracebackType

from aiolimiter import AsyncLimiter

from providers.types import CompletionRequest

CHARS_PER_TOKEN = 4
# Providers (OpenAI's documented accounting) charge max_tokens against the TPM budget up front.
# Tool-calling replies here are short, so a large max_tokens is charged at most this much: a
# sweep that sets max_tokens=32000 must not throttle itself to a crawl on replies of 50 tokens.
OUTPUT_TOKEN_ALLOWANCE = 1024
# How far behind its grid the request pacer may fall and still catch up (see the module docstring).
CATCH_UP_S = 0.25


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


def permits_per_window(rpm: float) -> int:
    """The most request permits any 1 s window carries at ``rpm``: ``ceil(rpm / 60)``."""
    # the float quotient of an integer rate can land a hair above it (e.g. 1200/60)
    return max(1, math.ceil(round(rpm / 60.0, 9)))


class RequestPacer:
    """One permit every ``60 / rpm`` s on a grid that late callers do not push back, and at most
    ``ceil(rpm / 60)`` permits in any half-open 1 s window. Callers are served in arrival order."""

    def __init__(self, rpm: float) -> None:
        self.interval = 60.0 / rpm
        self.per_window = permits_per_window(rpm)
        self._next: float | None = None  # the grid point of the next permit
        self._recent: deque[float] = deque(maxlen=self.per_window)  # times of the last permits
        self._turn = asyncio.Lock()  # FIFO: one caller at a time waits for its grid point

    async def acquire(self) -> None:
        async with self._turn:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next is None or now - self._next > CATCH_UP_S:
                self._next = now
            while (wait_s := self._wait_s(now)) > 0:
                await asyncio.sleep(wait_s)
                now = loop.time()
            self._recent.append(now)
            self._next += self.interval

    def _wait_s(self, now: float) -> float:
        """How long until a permit may go (<= 0: now). The window test is written as the
        definition of a half-open window reads, so float rounding cannot admit one too many."""
        assert self._next is not None, "acquire sets the next grid point before it waits"
        wait_s = self._next - now
        if len(self._recent) == self.per_window and not self._recent[0] <= now - 1.0:
            wait_s = max(wait_s, self._recent[0] + 1.0 - now, 1e-9)
        return wait_s


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
        self._requests = RequestPacer(rpm) if rpm else None
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
            await self._requests.acquire()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None

    def __repr__(self) -> str:
        return f"RateLimiter(rpm={self.rpm}, tpm={self.tpm})"
