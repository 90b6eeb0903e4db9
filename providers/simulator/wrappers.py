"""Latency and faults as wrappers around the policy's reply: ``with_latency(with_faults(policy_reply))``.

Each applies the part of the request's drawn ``FaultDecision`` it owns and counts the outcome
before the client can see it, so ``/stats`` is current when the client's call returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from aiohttp import web

from providers.simulator.exchange import Exchange, Handler, error_response
from providers.simulator.faults import QUOTA_CODE
from providers.simulator.replies import REFUSAL_TEXT, Reply, garbled, reply_response
from providers.wire.translate import outcome_of_status

QUOTA_MESSAGE = "You exceeded your current quota, please check your plan and billing details."
_STATUS_MESSAGES = {429: "Rate limit reached; retry later.", 500: "The server had an error.", 502: "Bad gateway.",
                    503: "The service is temporarily unavailable.", 529: "Overloaded"}


def with_latency(inner: Handler) -> Handler:
    """Wait the drawn delay first; a client giving up meanwhile counts as a timeout. A request
    answered as server-sent events waits the latency's ``ttft_share`` of it and spreads its
    events over the rest (``Exchange.spread_s``)."""

    async def handle(exchange: Exchange) -> web.StreamResponse:
        delay = exchange.decision.delay_s
        if exchange.parsed.stream and not exchange.fmt.streams_as_array(exchange.request):
            latency = exchange.parsed.override.latency_ms or exchange.profile.latency_ms
            wait = delay * latency.ttft_share
            exchange = replace(exchange, spread_s=delay - wait)
            delay = wait
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                exchange.count("timeout")
                raise
        return await inner(exchange)

    return handle


def _drop_connection(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.abort()
    return web.Response()  # never delivered: the transport is gone


async def _hang(exchange: Exchange) -> web.StreamResponse:
    """Say nothing for ``hang_s`` (a client disconnecting cancels this), then answer 504 like a
    gateway giving up; a stopping server drops the connection at once. Counted as a timeout
    when it begins."""
    try:
        await asyncio.wait_for(exchange.sim.closing.wait(), timeout=exchange.faults.hang_s)
    except TimeoutError:
        return error_response(exchange.fmt, 504, "upstream timed out")
    return _drop_connection(exchange.request)


def with_faults(make_reply: Callable[[Exchange], Reply]) -> Handler:
    """Fail as drawn (error status, hang, reset, refusal), or reply — garbling a call if drawn malformed."""

    async def handle(exchange: Exchange) -> web.StreamResponse:
        decision = exchange.decision
        if decision.status is not None:
            exchange.count(outcome_of_status(decision.status))
            if decision.kind == "quota":
                return error_response(exchange.fmt, 429, QUOTA_MESSAGE, code=QUOTA_CODE)
            message = _STATUS_MESSAGES.get(decision.status, f"simulated HTTP {decision.status}")
            return error_response(exchange.fmt, decision.status, message, retry_after_s=decision.retry_after_s)
        if decision.kind == "hang":
            exchange.count("timeout")
            return await _hang(exchange)
        if decision.kind == "reset":
            exchange.count("connection")
            return _drop_connection(exchange.request)
        if decision.kind == "refusal":
            exchange.count("refusal")
            return await reply_response(exchange, Reply(REFUSAL_TEXT, refusal=True))
        if decision.kind == "midstream":
            # a stream breaks part way; a request that does not stream loses its connection
            if not exchange.parsed.stream:
                exchange.count("connection")
                return _drop_connection(exchange.request)
            exchange.count("connection" if exchange.fmt.stream_failure() is None else "http_5xx")
            return await reply_response(exchange, make_reply(exchange), fail_midstream=True)
        reply = make_reply(exchange)
        broken = garbled(reply, exchange) if decision.kind == "malformed" else None
        exchange.count("ok" if broken is None else "malformed")
        return await reply_response(exchange, broken or reply)

    return handle
