"""How many requests per second the simulator serves with zero latency and no faults.

The simulator runs in its own process (``SimulatorProcess``); this process drives it with a
bare aiohttp client (cheap, so the server is the bottleneck) and then through the adapters
(the official SDKs, where the client usually is). Prints one line per (format, client).

    python benchmarks/simulator_rate.py [--seconds 3] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import aiohttp

from providers.registry import EndpointSpec, make_provider
from providers.simulator import SimulatorProcess
from providers.types import CompletionRequest, Message, ToolSpec

TOOL = ToolSpec("type_letter", "Append one letter to the paper.",
                {"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
SCRIPT = {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in "cat"], "answer": "cat"}
MESSAGES = (Message(role="system", content="Type the word."), Message(role="user", content="Type: cat"))
RAW_BODIES = {
    "openai": ("/v1/chat/completions", {
        "model": "oracle", "messages": [{"role": m.role, "content": m.content} for m in MESSAGES],
        "tools": [{"type": "function", "function": {"name": TOOL.name, "description": TOOL.description,
                                                    "parameters": TOOL.parameters}}],
        "script": SCRIPT}),
    "anthropic": ("/v1/messages", {
        "model": "oracle", "max_tokens": 64, "system": MESSAGES[0].content,
        "messages": [{"role": "user", "content": MESSAGES[1].content}],
        "tools": [{"name": TOOL.name, "description": TOOL.description, "input_schema": TOOL.parameters}],
        "script": SCRIPT}),
}


async def _saturate(call: Callable[[], Awaitable[None]], seconds: float, concurrency: int) -> tuple[int, int]:
    """(successes, failures) of ``concurrency`` workers calling back to back for ``seconds``."""
    deadline = time.perf_counter() + seconds
    counts = [0, 0]

    async def worker() -> None:
        while time.perf_counter() < deadline:
            try:
                await call()
                counts[0] += 1
            except Exception:  # a benchmark counts failures rather than stopping at the first
                counts[1] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts[0], counts[1]


async def raw_rate(base_url: str, fmt: str, seconds: float, concurrency: int) -> tuple[float, int]:
    path, body = RAW_BODIES[fmt]
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench", "x-api-key": "bench",
               "anthropic-version": "2023-06-01"}  # the Messages API requires it
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def call() -> None:
            async with session.post(base_url + path, data=payload, headers=headers) as response:
                await response.read()
                response.raise_for_status()

        started = time.perf_counter()
        ok, failed = await _saturate(call, seconds, concurrency)
        return ok / (time.perf_counter() - started), failed


async def sdk_rate(base_url: str, fmt: str, seconds: float, concurrency: int) -> tuple[float, int]:
    provider = make_provider(EndpointSpec(kind="simulated", base_url=base_url, api_format=fmt))
    request = CompletionRequest(model="oracle", messages=MESSAGES, tools=(TOOL,), max_tokens=64,
                                extra_body={"script": SCRIPT})

    async def call() -> None:
        await provider.complete(request)

    started = time.perf_counter()
    ok, failed = await _saturate(call, seconds, concurrency)
    rate = ok / (time.perf_counter() - started)
    await provider.aclose()
    return rate, failed


async def main(seconds: float, concurrency: int) -> None:
    async with SimulatorProcess() as sim:
        for fmt in ("openai", "anthropic"):
            for client, measure in (("bare aiohttp", raw_rate), ("SDK adapter", sdk_rate)):
                rate, failed = await measure(sim.base_url, fmt, seconds, concurrency)
                print(f"{fmt:9s}  {client:12s}  {rate:7.0f} requests/s  ({failed} failed, "
                      f"{concurrency} in flight, {seconds:g} s)", flush=True)
        served = sim.stats()
        peak = max(served["per_second"].values())
        print(f"simulator served {served['requests']} requests, peak {peak} in one second")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=64)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.concurrency))
