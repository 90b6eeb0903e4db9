"""Each adapter streaming (``stream=True``) against the simulator: the same completions as without
streaming, a time to first token inside the call's latency, mid-stream failures as the errors the
plain path raises; and the accumulators and the simulator's pacing on their own."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from providers.errors import ConnectionFailed, ProviderError, ServerError
from providers.registry import API_FORMATS, EndpointSpec, make_provider
from providers.simulator import FaultConfig, ModelProfile, SimulatorServer
from providers.simulator.config import LatencyConfig
from providers.simulator.streaming import (
    anthropic_events,
    chat_events,
    gemini_events,
    paced,
    responses_events,
)
from providers.types import Completion, CompletionRequest, Message, Reasoning, ToolSpec, output_tokens_per_s
from providers.wire import anthropic_messages, google_genai, openai_chat, openai_responses
from providers.wire.streamed import (
    ChatAccumulator,
    GeminiAccumulator,
    IncompleteStream,
    MessagesAccumulator,
    ResponsesAccumulator,
)

WORD = "cat"
SCRIPT: dict[str, Any] = {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in WORD],
                          "answer": f"I typed the word {WORD} one letter at a time, as asked by the user."}
TOOL = ToolSpec("type_letter", "Type one letter.",
                {"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
LATENCY = LatencyConfig(mean=60.0)
PROFILES = {"oracle": ModelProfile(latency_ms=LATENCY),
            "thinker": ModelProfile(policy="oracle", reasoning=True, latency_ms=LATENCY),
            "breaker": ModelProfile(faults=FaultConfig(midstream=1.0))}


@pytest.fixture
async def sims() -> AsyncIterator[tuple[SimulatorServer, SimulatorServer]]:
    """Two simulators of the same seed: one answers plain requests, one streamed, so reply ids match."""
    async with SimulatorServer(PROFILES, seed=5) as plain, SimulatorServer(PROFILES, seed=5) as streamed:
        yield plain, streamed


async def tool_loop(sim: SimulatorServer, api_format: str, *, stream: bool, model: str = "oracle",
                    reasoning: Reasoning | None = None) -> list[Completion]:
    provider = make_provider(EndpointSpec(kind="simulated", base_url=sim.base_url, api_format=api_format,  # type: ignore[arg-type]
                                          options={"stream": stream}))
    messages = [Message("user", f"Type: {WORD}")]
    completions: list[Completion] = []
    try:
        for _ in range(6):
            completion = await provider.complete(CompletionRequest(
                model=model, messages=tuple(messages), tools=(TOOL,), max_tokens=4096, reasoning=reasoning,
                extra_body={"script": SCRIPT}))
            completions.append(completion)
            if not completion.tool_calls:
                break
            messages.append(completion.as_message())
            messages += [Message("tool", "ok", tool_call_id=call.id, name=call.name) for call in completion.tool_calls]
    finally:
        await provider.aclose()
    return completions


def untimed(completion: Completion) -> Completion:
    return dataclasses.replace(completion, latency_s=0.0, ttft_s=None)


@pytest.mark.parametrize("api_format", API_FORMATS)
async def test_a_streamed_tool_loop_equals_the_plain_one_with_ttft_inside_latency(sims, api_format):
    plain_sim, stream_sim = sims
    plain = await tool_loop(plain_sim, api_format, stream=False)
    streamed = await tool_loop(stream_sim, api_format, stream=True)
    assert [call.name for c in plain for call in c.tool_calls] == ["type_letter"] * len(WORD)
    assert plain[-1].text == SCRIPT["answer"] and plain[-1].output_tokens > 0
    assert [untimed(c) for c in streamed] == [untimed(c) for c in plain]  # text, calls, tokens, finish reason, replay
    assert all(c.ttft_s is None for c in plain)
    for completion in streamed:
        assert completion.ttft_s is not None
        # the simulator waits 30% of 60 ms before the first event, then spreads the rest
        assert 0.015 < completion.ttft_s < completion.latency_s
        assert completion.latency_s > 0.055


@pytest.mark.parametrize("api_format", ["openai_responses", "anthropic", "google"])
async def test_a_thinking_model_streams_the_same_reasoning_and_replay(sims, api_format):
    plain_sim, stream_sim = sims
    reasoning = Reasoning(effort="low") if api_format != "anthropic" else Reasoning(budget_tokens=1024)
    plain = await tool_loop(plain_sim, api_format, stream=False, model="thinker", reasoning=reasoning)
    streamed = await tool_loop(stream_sim, api_format, stream=True, model="thinker", reasoning=reasoning)
    assert plain[0].reasoning_tokens > 0 and plain[0].replay
    assert [untimed(c) for c in streamed] == [untimed(c) for c in plain]  # signatures accumulated whole: each turn's replay is accepted


@pytest.mark.parametrize(("api_format", "error", "status"), [
    ("openai", ConnectionFailed, None),
    ("openai_responses", ConnectionFailed, None),
    ("google", ConnectionFailed, None),
    ("anthropic", ServerError, 529),  # the ``error`` event with overloaded_error
])
async def test_a_stream_breaking_part_way_is_the_plain_paths_error(sims, api_format, error, status):
    sim = sims[1]
    provider = make_provider(EndpointSpec(kind="simulated", base_url=sim.base_url, api_format=api_format,
                                          options={"stream": True}))
    try:
        with pytest.raises(ProviderError) as raised:
            await provider.complete(CompletionRequest(model="breaker", messages=(
                Message("user", "a question long enough to stream in many pieces " * 4),), timeout_s=5.0))
    finally:
        await provider.aclose()
    assert type(raised.value) is error and raised.value.retryable
    assert raised.value.status == status
    if api_format == "anthropic":
        assert "overloaded" in str(raised.value)


# -- the accumulators, event for event ---------------------------------------------------------

CALL_ARGS = '{"letter": "a", "note": "long enough to be cut into pieces"}'


def _reply_bodies() -> dict[str, tuple[dict[str, Any], Any, Any]]:
    from providers.types import ToolCall

    calls = (ToolCall(id="call_1", name="type_letter", arguments={"letter": "a"}, raw_arguments=CALL_ARGS),)
    text = "Here is some text, streamed a few words at a time."
    chat = openai_chat.reply_to_wire(reply_id="r1", model="m", created=1, text=text, tool_calls=calls,
                                     input_tokens=5, output_tokens=7)
    output = [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
               "content": [{"type": "output_text", "text": text, "annotations": []}]},
              {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "type_letter",
               "arguments": CALL_ARGS, "status": "completed"}]
    responses = openai_responses.response_to_wire(response_id="r1", model="m", created=1, output=output, tools=[],
                                                  input_tokens=5, output_tokens=7)
    messages = anthropic_messages.reply_to_wire(reply_id="r1", model="m", text=text, tool_calls=calls,
                                                input_tokens=5, output_tokens=7)
    gemini = google_genai.reply_to_wire(response_id="r1", model="m", text=text, tool_calls=calls, input_tokens=5,
                                        output_tokens=7)
    return {"chat": (chat, chat_events(chat, include_usage=True), ChatAccumulator),
            "responses": (responses, responses_events(responses), ResponsesAccumulator),
            "messages": (messages, anthropic_events(messages), MessagesAccumulator),
            "gemini": (gemini, gemini_events(gemini), GeminiAccumulator)}


READERS = {"chat": openai_chat.completion_from_wire, "responses": openai_responses.completion_from_wire,
           "messages": anthropic_messages.completion_from_wire, "gemini": google_genai.completion_from_wire}
# the events before the first that carries content: Chat's role chunk; Responses' created, in_progress,
# item added and content part added; Messages' message_start, ping and content_block_start; none for Gemini
FIRST_CONTENT = {"chat": 1, "responses": 4, "messages": 3, "gemini": 0}


@pytest.mark.parametrize("fmt", list(READERS))
def test_accumulated_events_read_as_the_reply_body(fmt):
    body, events, accumulator_class = _reply_bodies()[fmt]
    accumulator = accumulator_class()
    carrying = [accumulator.add(data) for _, data in events if data != "[DONE]"]
    assert carrying.index(True) == FIRST_CONTENT[fmt]
    assert READERS[fmt](accumulator.reply()) == READERS[fmt](body)


@pytest.mark.parametrize("fmt", list(READERS))
def test_a_stream_cut_before_its_finish_is_incomplete(fmt):
    _, events, accumulator_class = _reply_bodies()[fmt]
    accumulator = accumulator_class()
    for _, data in events[:-3] if fmt != "gemini" else events[:-1]:
        accumulator.add(data)
    with pytest.raises(IncompleteStream):
        accumulator.reply()


@pytest.mark.parametrize("api_format", API_FORMATS)
async def test_the_first_token_comes_at_the_ttft_share_of_the_latency(api_format):
    """The stream's head (role chunk, ``message_start``, ``response.created``…) goes out with its
    first content, so the client's first token is at 30% of a 400 ms delay, not some writes later."""
    steady = {"oracle": ModelProfile(latency_ms=LatencyConfig(mean=400.0, jitter=0.0))}
    async with SimulatorServer(steady, seed=1) as sim:
        provider = make_provider(EndpointSpec(kind="simulated", base_url=sim.base_url,
                                              api_format=api_format, options={"stream": True}))  # type: ignore[arg-type]
        try:
            completion = await provider.complete(CompletionRequest(
                model="oracle", messages=(Message("user", f"Type: {WORD}"),), tools=(TOOL,), max_tokens=4096,
                extra_body={"script": SCRIPT}))
        finally:
            await provider.aclose()
    assert completion.ttft_s is not None and completion.tool_calls
    assert completion.ttft_s >= 0.12  # the simulator's wait: 30% of 400 ms
    assert completion.ttft_s / completion.latency_s < 0.45  # not held back behind the stream's head


def test_pacing_sends_the_first_write_at_once_and_spreads_the_rest():
    events: list[Any] = [(None, {"n": n}) for n in range(40)]
    writes, last_wait = paced(events, 0.28)
    assert len(writes) == 14  # ceil(40 / 16) = 3 events a write
    assert writes[0][0] == 0.0 and all(wait == pytest.approx(0.02) for wait, _ in writes[1:])
    assert last_wait == pytest.approx(0.02)  # the stream ends spread_s after its first write
    assert [event for _, group in writes for event in group] == events
    assert paced(events[:1], 0.3) == ([(0.0, events[:1])], 0.3)  # one event: at once, the end at the latency
    assert paced(events, 0.0) == ([(0.0, events)], 0.0)
    with_head, _ = paced(events[:6], 0.3, opening=3)  # the head goes out with the first content
    assert [len(group) for _, group in with_head] == [3, 1, 1, 1]


def test_output_tokens_per_s_is_the_generation_phase_rate():
    assert output_tokens_per_s(100, 2.5, 0.5) == pytest.approx(50.0)  # 100 tokens over 2 s after the first
    assert output_tokens_per_s(100, 2.5, None) is None  # not streamed
    assert output_tokens_per_s(100, 0.5, 0.5) is None  # everything came in the first event


async def test_a_stream_that_stalls_after_its_first_event_is_a_timeout_not_a_hang():
    """The server sends one event and then nothing: the request's timeout ends it as a Timeout
    (retried by the gate), for the two adapters that read the SDK's event stream."""
    import asyncio
    import json
    import time

    from aiohttp import web

    from providers.anthropic_provider import AnthropicProvider
    from providers.errors import Timeout
    from providers.openai_provider import OpenAIProvider

    first = {
        "/v1/chat/completions": "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 1,
                                                        "model": "m", "choices": [{"index": 0, "finish_reason": None,
                                                                                   "delta": {"content": "Hel"}}]}),
        "/v1/messages": "event: message_start\ndata: " + json.dumps({"type": "message_start", "message": {
            "id": "m", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
            "usage": {"input_tokens": 1, "output_tokens": 0}}}),
    }

    released = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(request)
        await reply.write((first[request.path] + "\n\n").encode())
        await released.wait()  # until the test is done: the server's shutdown waits for its handlers
        return reply

    app = web.Application()
    for path in first:
        app.router.add_post(path, stall)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    request = CompletionRequest(model="m", messages=(Message("user", "hi"),), timeout_s=0.5)
    try:
        for provider in (OpenAIProvider(api_key="k", base_url=f"{base}/v1", stream=True, timeout_s=0.5),
                         AnthropicProvider(api_key="k", base_url=base, stream=True, timeout_s=0.5)):
            started = time.perf_counter()
            with pytest.raises(Timeout):
                await asyncio.wait_for(provider.complete(request), 20)
            assert time.perf_counter() - started < 20  # ended by the request's timeout, not the guard
            await provider.aclose()
    finally:
        released.set()
        await runner.cleanup()


async def test_a_responses_stream_ending_in_response_failed_is_a_retryable_server_error():
    """The Responses API ends a stream whose generation failed with ``response.failed``, its
    ``response.error`` saying why (event shape: the API reference's ResponseFailedEvent): the
    adapter raises what a plain request answered with a 500 raises, the server's message kept."""
    import json

    from aiohttp import web

    from providers.openai_responses_provider import OpenAIResponsesProvider

    def event(kind: str, sequence: int, **fields: Any) -> bytes:
        body = {"type": kind, "sequence_number": sequence, **fields}
        return f"event: {kind}\ndata: {json.dumps(body)}\n\n".encode()

    response = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "output": [],
                "status": "in_progress", "error": None}
    failed = {**response, "status": "failed",
              "error": {"code": "server_error", "message": "The model failed to generate a response."}}

    async def fail(request: web.Request) -> web.StreamResponse:
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(request)
        await reply.write(event("response.created", 0, response=response))
        await reply.write(event("response.failed", 1, response=failed))
        await reply.write_eof()
        return reply

    app = web.Application()
    app.router.add_post("/v1/responses", fail)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    provider = OpenAIResponsesProvider(api_key="k", base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v1",
                                       stream=True, timeout_s=5.0)
    try:
        with pytest.raises(ProviderError) as raised:
            await provider.complete(CompletionRequest(model="m", messages=(Message("user", "hi"),), timeout_s=5.0))
    finally:
        await provider.aclose()
        await runner.cleanup()
    assert type(raised.value) is ServerError and raised.value.retryable and raised.value.status == 500
    assert "The model failed to generate a response." in str(raised.value)
