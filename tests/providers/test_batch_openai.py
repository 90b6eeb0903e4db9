"""OpenAI's Batch API: the client against the simulator, and the simulator's validation through the SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import openai
import pytest

from providers.batch.openai import OpenAIBatchClient, input_file
from providers.batch.types import CallFailure
from providers.openai_provider import OpenAIProvider
from providers.simulator import SimulatorServer
from providers.simulator.config import BatchConfig
from providers.types import Completion
from tests.providers.batch_support import batch_counts, scripted, wait_ended

KEY = "sk-test-batch-0123456789"


async def _client(sim: SimulatorServer) -> OpenAIBatchClient:
    return OpenAIBatchClient(api_key=KEY, base_url=sim.openai_base_url, timeout_s=10)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(seed=3, batch=BatchConfig(processing_s=0.2)) as server:
        yield server


async def test_submit_poll_results_answer_as_online(sim):
    online = OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url)
    client = await _client(sim)
    try:
        requests = [scripted(n) for n in range(3)]
        handle = await client.submit("oracle", [(f"r{n}", online._body(r)) for n, r in enumerate(requests)])
        assert handle.custom_ids == ("r0", "r1", "r2")
        first = await client.poll(handle.id)
        assert first.state in ("pending", "running") and first.total == 3  # the processing delay is honoured
        status = await wait_ended(client, handle.id)
        assert (status.state, status.provider_state, status.succeeded) == ("ended", "completed", 3)
        results = await client.results(handle.id)
        for n, request in enumerate(requests):
            batched, direct = results[f"r{n}"], await online.complete(request)
            assert isinstance(batched, Completion)
            assert [(c.name, c.arguments) for c in batched.tool_calls] == [("add", {"a": n, "b": n + 1})]
            assert [(c.name, c.arguments) for c in batched.tool_calls] == [(c.name, c.arguments)
                                                                          for c in direct.tool_calls]
        assert batch_counts(sim.stats()) == (1, ["r0", "r1", "r2"])
    finally:
        await client.aclose()
        await online.aclose()


async def _failed_batch(sim: SimulatorServer, content: bytes, endpoint: str = "/v1/chat/completions"):
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0)
    try:
        uploaded = await sdk.files.create(file=("in.jsonl", content), purpose="batch")
        batch = await sdk.batches.create(input_file_id=uploaded.id, endpoint=endpoint,  # type: ignore[arg-type]
                                         completion_window="24h")
        assert batch.status == "validating"
        return await sdk.batches.retrieve(batch.id)
    finally:
        await sdk.close()


def _line(custom_id: str, url: str = "/v1/chat/completions") -> str:
    body = {"model": "oracle", "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


@pytest.mark.parametrize(("lines", "code", "line"), [
    ([_line("a"), "{not json"], "invalid_json_line", 2),
    ([_line("a"), _line("b"), _line("a")], "duplicate_custom_id", 3),
    ([_line("a"), _line("b", "/v1/responses")], "url_mismatch", 2),
])
async def test_a_bad_input_file_fails_the_batch_with_the_apis_errors(sim, lines, code, line):
    batch = await _failed_batch(sim, ("\n".join(lines) + "\n").encode())
    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    error = batch.errors.data[0]
    assert (error.code, error.line) == (code, line) and error.message


async def test_the_client_reports_a_failed_batch_as_bad_request(sim):
    client = await _client(sim)
    try:
        sdk = openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0)
        uploaded = await sdk.files.create(file=("in.jsonl", (_line("a") + "\n{oops\n").encode()), purpose="batch")
        batch = await sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                         completion_window="24h")
        await sdk.close()
        status = await client.poll(batch.id)
        assert status.state == "failed" and "invalid_json_line" in status.errors[0]
        with pytest.raises(Exception, match="invalid_json_line"):
            await client.results(batch.id)
    finally:
        await client.aclose()


async def test_an_unsupported_endpoint_or_window_is_refused_at_creation(sim):
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0)
    try:
        uploaded = await sdk.files.create(file=("in.jsonl", (_line("a") + "\n").encode()), purpose="batch")
        with pytest.raises(openai.BadRequestError) as refused:
            await sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
        assert refused.value.param == "endpoint"  # type: ignore[attr-defined]
        with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
            await sdk.files.create(file=("in.txt", b"x"), purpose="batch")
    finally:
        await sdk.close()


async def test_partial_failures_and_expiry_give_per_request_outcomes():
    config = BatchConfig(processing_s=0.4, expire_after_s=0.25, failure_rate=0.5, seed=11)
    async with SimulatorServer(seed=3, batch=config) as sim:
        online = OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url)
        client = await _client(sim)
        try:
            bodies = [(f"r{n}", online._body(scripted(n))) for n in range(8)]
            handle = await client.submit("oracle", bodies)
            status = await wait_ended(client, handle.id)
            assert status.provider_state == "expired"
            results = await client.results(handle.id)
            assert set(results) == {f"r{n}" for n in range(8)}
            outcomes = [r.outcome if isinstance(r, CallFailure) else "ok" for r in results.values()]
            # requests due after the expiry (the last three of eight at 0.25 of 0.4 s) never ran
            assert [results[f"r{n}"].outcome for n in (5, 6, 7)] == ["expired"] * 3  # type: ignore[union-attr]
            assert "http_5xx" in outcomes and "ok" in outcomes
        finally:
            await client.aclose()
            await online.aclose()


def test_the_input_file_names_the_model_and_endpoint():
    line = json.loads(input_file("/v1/responses", "m", [("x", {"input": []})]))
    assert line == {"custom_id": "x", "method": "POST", "url": "/v1/responses", "body": {"model": "m", "input": []}}
