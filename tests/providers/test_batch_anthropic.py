"""Anthropic's Message Batches: the client against the simulator, and its validation through the SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest

from providers.anthropic_provider import AnthropicProvider
from providers.batch.anthropic import AnthropicBatchClient
from providers.batch.types import CallFailure
from providers.errors import BadRequest
from providers.simulator import SimulatorServer
from providers.simulator.config import BatchConfig
from providers.types import Completion
from tests.providers.batch_support import batch_counts, scripted, wait_ended

KEY = "sk-ant-test-batch-0123456789"


def body_of(online: AnthropicProvider, n: int) -> dict[str, Any]:
    """The online adapter's Messages body for the scripted request (its SDK arguments, merged)."""
    arguments = online._arguments(scripted(n))
    extra = arguments.pop("extra_body", {})
    arguments.pop("timeout")
    arguments.pop("model")
    return arguments | extra


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(seed=3, batch=BatchConfig(processing_s=0.2)) as server:
        yield server


async def test_submit_poll_results_answer_as_online(sim):
    online = AnthropicProvider(api_key=KEY, base_url=sim.anthropic_base_url)
    client = AnthropicBatchClient(api_key=KEY, base_url=sim.anthropic_base_url)
    try:
        handle = await client.submit("oracle", [(f"r{n}", body_of(online, n)) for n in range(3)])
        first = await client.poll(handle.id)
        assert first.provider_state == "in_progress" and first.pending == 3
        status = await wait_ended(client, handle.id)
        assert (status.provider_state, status.succeeded, status.pending) == ("ended", 3, 0)
        results = await client.results(handle.id)
        for n in range(3):
            batched, direct = results[f"r{n}"], await online.complete(scripted(n))
            assert isinstance(batched, Completion)
            assert [(c.name, c.arguments) for c in batched.tool_calls] == [("add", {"a": n, "b": n + 1})]
            assert [c.arguments for c in batched.tool_calls] == [c.arguments for c in direct.tool_calls]
        assert batch_counts(sim.stats()) == (1, ["r0", "r1", "r2"])
    finally:
        await client.aclose()
        await online.aclose()


def _request(custom_id: str, **params: Any) -> Any:
    base = {"model": "oracle", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    return {"custom_id": custom_id, "params": base | params}


@pytest.mark.parametrize(("requests", "expected"), [
    ([_request("a"), _request("a")], "requests.1.custom_id"),
    ([_request("a" * 65)], "requests.0.custom_id: String should have at most 64 characters"),
    ([{"custom_id": "a", "params": {"model": "oracle", "messages": []}}], "requests.0.params.max_tokens: Field required"),
])
async def test_a_malformed_batch_is_refused_at_creation(sim, requests, expected):
    sdk = anthropic.AsyncAnthropic(api_key=KEY, base_url=sim.anthropic_base_url, max_retries=0)
    try:
        with pytest.raises(anthropic.BadRequestError) as refused:
            await sdk.messages.batches.create(requests=requests)
        body: Any = refused.value.body
        assert body["error"]["type"] == "invalid_request_error" and expected in body["error"]["message"]
    finally:
        await sdk.close()
    assert sim.stats()["batches"]["submitted"] == 0


async def test_the_client_refuses_a_duplicate_before_any_call(sim):
    client = AnthropicBatchClient(api_key=KEY, base_url=sim.anthropic_base_url)
    try:
        with pytest.raises(BadRequest, match="appears twice"):
            await client.submit("oracle", [("a", {}), ("a", {})])
    finally:
        await client.aclose()


async def test_failures_expiry_and_cancel_come_back_per_request():
    config = BatchConfig(processing_s=0.4, expire_after_s=0.25, failure_rate=0.5, seed=11)
    async with SimulatorServer(seed=3, batch=config) as sim:
        online = AnthropicProvider(api_key=KEY, base_url=sim.anthropic_base_url)
        client = AnthropicBatchClient(api_key=KEY, base_url=sim.anthropic_base_url)
        try:
            handle = await client.submit("oracle", [(f"r{n}", body_of(online, n)) for n in range(8)])
            status = await wait_ended(client, handle.id)
            results = await client.results(handle.id)
            outcomes = {cid: r.outcome if isinstance(r, CallFailure) else "ok" for cid, r in results.items()}
            assert [outcomes[f"r{n}"] for n in (5, 6, 7)] == ["expired"] * 3
            assert {"ok", "http_5xx"} <= set(outcomes.values())
            assert status.failed == sum(1 for o in outcomes.values() if o != "ok")

            cancelled = await client.submit("oracle", [(f"c{n}", body_of(online, n)) for n in range(4)])
            assert (await client.cancel(cancelled.id)).provider_state in ("canceling", "ended")
            await wait_ended(client, cancelled.id)
            assert any(isinstance(r, CallFailure) and r.outcome == "canceled"
                       for r in (await client.results(cancelled.id)).values())
            submitted, ids = batch_counts(sim.stats())
            assert submitted == 2 and len(ids) == len(set(ids)) == 12
        finally:
            await client.aclose()
            await online.aclose()
