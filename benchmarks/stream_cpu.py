"""The client CPU a call costs streamed and not, through the OpenAI Chat adapter.

The simulator runs in its own process (``SimulatorProcess``, zero latency, no faults), so this
process's CPU time (``time.process_time()``) is the client's alone: the SDK, the transport, the
adapter's body and reply reading. Two replies: a tool call (6 events streamed) and a
47-word answer (about twenty events). Prints CPU ms per call for each, plain and streamed.

    python benchmarks/stream_cpu.py [--calls 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from providers.registry import EndpointSpec, make_provider
from providers.simulator import SimulatorProcess
from providers.types import CompletionRequest, Message, ToolSpec

TOOL = ToolSpec("type_letter", "Append one letter to the paper.",
                {"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
ANSWER = ("The word has been typed one letter at a time, exactly as asked, and the paper now reads cat; "
          "nothing else was written, no letter was repeated or skipped, and every call returned OK, so "
          "the task is complete and there is nothing further to do here.")
REPLIES = {
    "tool call": {"steps": [{"name": "type_letter", "arguments": {"letter": "c"}}], "answer": ANSWER},
    "47-word answer": {"steps": [], "answer": ANSWER},
}


async def cpu_per_call(base_url: str, script: dict, *, stream: bool, calls: int, concurrency: int) -> float:
    provider = make_provider(EndpointSpec(kind="simulated", base_url=base_url, api_format="openai",
                                          options={"stream": stream}))
    request = CompletionRequest(model="oracle", messages=(Message("user", "Type: cat"),), tools=(TOOL,),
                                extra_body={"script": script})
    for _ in range(20):  # warm the connection pool and the code paths
        await provider.complete(request)
    queue = iter(range(calls))

    async def worker() -> None:
        for _ in queue:
            await provider.complete(request)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    used = time.process_time() - started
    await provider.aclose()
    return used / calls * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    async with SimulatorProcess() as sim:
        for name, script in REPLIES.items():
            plain = await cpu_per_call(sim.base_url, script, stream=False, calls=args.calls,
                                       concurrency=args.concurrency)
            streamed = await cpu_per_call(sim.base_url, script, stream=True, calls=args.calls,
                                          concurrency=args.concurrency)
            print(f"{name:>15}: plain {plain:.2f} ms CPU/call, streamed {streamed:.2f} ms "
                  f"(+{streamed - plain:.2f} ms, x{streamed / plain:.2f})", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
