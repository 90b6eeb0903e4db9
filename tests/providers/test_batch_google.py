"""Gemini's batch mode: the client against the simulator, and what the SDK's typed batches API sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from providers.batch.google import GoogleBatchClient
from providers.batch.types import CallFailure
from providers.google_provider import GoogleProvider
from providers.simulator import SimulatorServer
from providers.simulator.config import BatchConfig
from providers.types import Completion
from tests.providers.batch_support import batch_counts, scripted, wait_ended

KEY = "AIza-sim-batch-key"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(seed=3, batch=BatchConfig(processing_s=0.2)) as server:
        yield server


async def test_submit_poll_results_answer_as_online(sim):
    online = GoogleProvider(api_key=KEY, base_url=sim.google_base_url)
    client = GoogleBatchClient(api_key=KEY, base_url=sim.google_base_url)
    try:
        handle = await client.submit("oracle", [(f"r{n}", online._body(scripted(n))) for n in range(3)])
        assert handle.id.startswith("batches/")
        first = await client.poll(handle.id)
        assert first.provider_state in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING") and first.total == 3
        status = await wait_ended(client, handle.id)
        assert (status.provider_state, status.succeeded) == ("BATCH_STATE_SUCCEEDED", 3)
        results = await client.results(handle.id)
        for n in range(3):
            batched, direct = results[f"r{n}"], await online.complete(scripted(n))
            assert isinstance(batched, Completion)
            assert [(c.name, c.arguments) for c in batched.tool_calls] == [("add", {"a": n, "b": n + 1})]
            assert [c.arguments for c in batched.tool_calls] == [c.arguments for c in direct.tool_calls]
        assert batch_counts(sim.stats()) == (1, ["0", "1", "2"])
    finally:
        await client.aclose()
        await online.aclose()


async def test_the_sdks_typed_batches_create_and_get_work_against_the_simulator(sim):
    sdk = genai.Client(api_key=KEY, vertexai=False, http_options=genai_types.HttpOptions(
        base_url=sim.google_base_url, api_version="v1beta"))
    try:
        job = await sdk.aio.batches.create(model="oracle", src=[
            genai_types.InlinedRequest(contents="hello", metadata={"key": "one"}),
            genai_types.InlinedRequest(contents="again", metadata={"key": "two"})],
            config={"display_name": "typed"})
        assert job.name and job.name.startswith("batches/") and job.state == genai_types.JobState.JOB_STATE_PENDING
        for _ in range(400):
            job = await sdk.aio.batches.get(name=job.name)
            if job.done:
                break
            await asyncio.sleep(0.02)
        assert job.state == genai_types.JobState.JOB_STATE_SUCCEEDED
        assert job.dest is not None and job.dest.inlined_responses is not None
        assert [r.metadata for r in job.dest.inlined_responses] == [{"key": "one"}, {"key": "two"}]
        assert all(r.response is not None and r.response.candidates for r in job.dest.inlined_responses)
        with pytest.raises(genai_errors.ClientError) as refused:
            await sdk.aio.batches.create(model="oracle", src=[genai_types.InlinedRequest(model="other", contents="x")])
        assert refused.value.code == 400
    finally:
        await sdk.aio.aclose()
        sdk.close()


async def test_failures_and_expiry_come_back_per_request():
    config = BatchConfig(processing_s=0.4, expire_after_s=0.25, failure_rate=0.5, seed=11)
    async with SimulatorServer(seed=3, batch=config) as sim:
        online = GoogleProvider(api_key=KEY, base_url=sim.google_base_url)
        client = GoogleBatchClient(api_key=KEY, base_url=sim.google_base_url)
        try:
            handle = await client.submit("oracle", [(f"r{n}", online._body(scripted(n))) for n in range(8)])
            status = await wait_ended(client, handle.id)
            assert status.provider_state == "BATCH_STATE_EXPIRED"
            results = await client.results(handle.id)
            outcomes = {cid: r.outcome if isinstance(r, CallFailure) else "ok" for cid, r in results.items()}
            assert [outcomes[f"r{n}"] for n in (5, 6, 7)] == ["expired"] * 3
            assert {"ok", "http_5xx"} <= set(outcomes.values())
        finally:
            await client.aclose()
            await online.aclose()
