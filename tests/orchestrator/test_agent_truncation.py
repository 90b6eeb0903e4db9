"""The agent's handling of truncated replies (``Completion.truncated``), against the simulator
through each adapter: replies cut by the output cap, in their text or part way through a call."""

from __future__ import annotations

import time
from typing import Any

import pytest

import tasks
from orchestrator.agent import ModelCall, run_episode
from orchestrator.plan import EpisodeSpec
from providers.anthropic_provider import AnthropicProvider
from providers.errors import ProviderError
from providers.google_provider import GoogleProvider
from providers.openai_provider import OpenAIProvider
from providers.openai_responses_provider import OpenAIResponsesProvider
from providers.simulator import ModelProfile, SimulatorServer
from providers.simulator.config import TruncateConfig
from providers.types import AttemptRecord, CompletionRequest

KEY = "sk-test-truncation"
TASK = "typewriter_single"
FORMATS = ("openai", "openai_responses", "anthropic", "google")


def adapter(fmt: str, sim: SimulatorServer) -> Any:
    if fmt == "openai":
        return OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url)
    if fmt == "openai_responses":
        return OpenAIResponsesProvider(api_key=KEY, base_url=sim.openai_base_url)
    if fmt == "anthropic":
        return AnthropicProvider(api_key=KEY, base_url=sim.anthropic_base_url)
    return GoogleProvider(api_key=KEY, base_url=sim.google_base_url)


def through(provider: Any) -> Any:
    """The adapter as the agent's ``complete``: one attempt, reported."""

    async def complete(request: CompletionRequest, *, model_id: str, on_attempt: Any) -> Any:
        started = time.time()
        try:
            completion = await provider.complete(request)
        except ProviderError as exc:
            on_attempt(AttemptRecord(provider="sim", model_id=model_id, attempt=1, outcome="bad_request",
                                     http_status=exc.status, retry_after_s=None, latency_s=0.0,
                                     breaker_state="closed", input_tokens=0, output_tokens=0, started_at=started))
            raise
        on_attempt(AttemptRecord(provider="sim", model_id=model_id, attempt=1, outcome="ok", http_status=200,
                                 retry_after_s=None, latency_s=completion.latency_s, breaker_state="closed",
                                 input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                                 started_at=started))
        return completion

    return complete


@pytest.mark.parametrize("fmt", FORMATS)
async def test_cut_replies_through_each_adapter(fmt):
    """A third of replies cut part way: a cut answer is recorded truncated and never correct, a
    cut call is answered as an error and the episode goes on; uncut episodes stay correct."""
    task = tasks.get_task(TASK)
    examples = [e for e in task.examples if len(e.expected_steps) >= 2][:8]
    rows = []
    async with SimulatorServer({"cutter": ModelProfile(truncate=TruncateConfig(rate=0.3))}, seed=5) as sim:
        provider = adapter(fmt, sim)
        try:
            call = ModelCall(model_id="cutter", provider_name=fmt, model="cutter", request_model="cutter",
                             complete=through(provider), send_script=True, max_tokens=4096)
            for example in examples:
                spec = EpisodeSpec("cutter", TASK, example.id, 0, "native")
                result = await run_episode(run="r", episode_id=spec.episode_id, spec=spec, task=task,
                                           example=example, model=call, max_steps=40)
                rows.append((example, result.episode))
        finally:
            await provider.aclose()
        assert sim.stats()["by_model"]["cutter"].get("bad_request", 0) == 0
    truncated = [(example, row) for example, row in rows if row.truncated]
    assert truncated and len(truncated) < len(rows)  # some answers cut, not all
    for example, row in truncated:
        assert row.status == "completed" and row.correct is False
        assert str(example.reference).startswith(row.answer or "") and row.answer != str(example.reference)
    assert all(row.correct for _, row in rows if not row.truncated and row.status == "completed")
