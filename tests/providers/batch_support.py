"""What the batch tests share: a scripted request the oracle answers, and waiting for a batch."""

from __future__ import annotations

import asyncio
from typing import Any

from providers.batch.types import BatchClient, BatchStatus
from providers.types import CompletionRequest, Message, ToolSpec

ADD = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"},
                                                                            "b": {"type": "number"}}})


def scripted(n: int, model: str = "oracle") -> CompletionRequest:
    """A request whose oracle reply is a call to ``add(n, n + 1)``."""
    script = {"steps": [{"name": "add", "arguments": {"a": n, "b": n + 1}}], "answer": str(2 * n + 1)}
    return CompletionRequest(model=model, messages=(Message("user", f"What is {n} + {n + 1}?"),), tools=(ADD,),
                             max_tokens=256, extra_body={"script": script})


async def wait_ended(client: BatchClient, batch_id: str, *, polls: int = 400) -> BatchStatus:
    for _ in range(polls):
        status = await client.poll(batch_id)
        if status.done:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"batch {batch_id} did not end")


def batch_counts(stats: dict[str, Any]) -> tuple[int, list[str]]:
    """Batches submitted, and every custom id of every batch (one list, so a repeat shows)."""
    batches = stats["batches"]
    return batches["submitted"], [cid for ids in batches["requests"].values() for cid in ids]
