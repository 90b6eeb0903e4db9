"""The simulator through the real OpenAI and Anthropic SDKs (via the adapters), on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    MalformedToolCall,
    ProviderError,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.simulator import FaultConfig, ModelProfile, NoiseConfig, Outage, SimulatorServer
from providers.types import CompletionRequest, Message, ToolSpec

TYPE_LETTER = ToolSpec("type_letter", "Append one letter to the paper.", {
    "type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
CAT_SCRIPT: dict[str, Any] = {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in "cat"],
                              "answer": "cat"}
START = (Message(role="system", content="Type the word with the tools, one letter at a time."),
         Message(role="user", content="Type: cat"))
TAG = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


def request_for(model: str = "oracle", messages: tuple[Message, ...] = START, *,
                tools: tuple[ToolSpec, ...] = (TYPE_LETTER,), script: dict[str, Any] | None = CAT_SCRIPT,
                faults: dict[str, Any] | None = None, latency_ms: dict[str, Any] | None = None,
                timeout_s: float = 5.0) -> CompletionRequest:
    extra: dict[str, Any] = {"script": script} if script is not None else {}
    simulate = {key: value for key, value in (("faults", faults), ("latency_ms", latency_ms)) if value is not None}
    if simulate:
        extra["simulate"] = simulate
    return CompletionRequest(model=model, messages=messages, tools=tools, max_tokens=256, timeout_s=timeout_s,
                             extra_body=extra or None)


async def test_native_tool_calls_follow_a_three_step_script(provider, run_episode):
    calls, final = await run_episode(provider, request_for())
    assert calls == [("type_letter", {"letter": c}) for c in "cat"]
    assert (final.text, final.finish_reason, final.refusal) == ("cat", "stop", False)
    assert final.input_tokens > 0 and final.output_tokens > 0 and final.latency_s > 0


async def test_text_mode_writes_tool_calls_as_tags(provider):
    messages = list(START)
    typed = []
    for _ in range(5):
        completion = await provider.complete(request_for(messages=tuple(messages), tools=()))
        assert completion.tool_calls == ()
        tags = TAG.findall(completion.text)
        if not tags:
            break
        typed += [json.loads(tag) for tag in tags]
        messages += [Message(role="assistant", content=completion.text),
                     Message(role="user", content="<tool_result>OK</tool_result>")]
    assert typed == CAT_SCRIPT["steps"] and completion.text == "cat"


async def test_without_a_script_the_reply_is_plain_text(provider):
    completion = await provider.complete(request_for(script=None))
    assert completion.tool_calls == () and "Type: cat" in completion.text


FAULTS = [
    ("http_5xx", {"http_5xx": 1.0}, ServerError, "http_5xx"),
    ("http_429", {"http_429": 1.0, "retry_after_s": 7}, RateLimited, "http_429"),
    ("refusal", {"refusal": 1.0}, Refusal, "refusal"),
    ("reset", {"reset": 1.0}, ConnectionFailed, "connection"),
    ("hang", {"hang": 1.0, "hang_s": 30}, Timeout, "timeout"),
    ("malformed", {"malformed": 1.0}, MalformedToolCall, "malformed"),
]


@pytest.mark.parametrize(("name", "faults", "error", "outcome"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_each_fault_maps_to_its_error_and_is_counted(fmt, provider, sim, name, faults, error, outcome):
    with pytest.raises(error) as caught:
        await provider.complete(request_for(faults=faults, timeout_s=0.3 if name == "hang" else 5.0))
    assert type(caught.value) is error and caught.value.outcome == outcome
    if name == "http_5xx":
        assert caught.value.status in ((500, 502, 503) if fmt == "openai" else (500, 502, 503, 529))
    if name == "http_429":
        assert caught.value.retry_after == 7.0
    if name == "malformed":
        completion = caught.value.completion
        assert completion is not None and completion.tool_calls[0].name == "type_letter"
        assert completion.tool_calls[0].error and completion.tool_calls[0].arguments == {}
    await provider.complete(request_for())  # one success beside it
    assert sim.stats()["by_model"] == {"oracle": {outcome: 1, "ok": 1}}
    assert sim.stats()["requests"] == 2


async def test_malformed_in_text_mode_breaks_the_tag_and_on_an_answer_turn_invents_a_call(provider, sim):
    completion = await provider.complete(request_for(tools=(), faults={"malformed": 1.0}))
    (tag,) = TAG.findall(completion.text)
    with pytest.raises(json.JSONDecodeError):
        json.loads(tag)
    assert tag.startswith('{"name": "type_letter"')
    done = (*START, Message(role="assistant", content="".join(
        f'<tool_call>{{"name": "type_letter", "arguments": {{"letter": "{c}"}}}}</tool_call>' for c in "cat")))
    with pytest.raises(MalformedToolCall) as caught:  # the oracle would answer; the fault garbles a call
        await provider.complete(request_for(messages=done, faults={"malformed": 1.0}))
    assert caught.value.completion.tool_calls[0].raw_arguments == "{"
    assert sim.stats()["by_model"] == {"oracle": {"malformed": 2}}


async def test_a_hang_shorter_than_the_client_timeout_ends_in_a_gateway_timeout(provider, sim):
    with pytest.raises(ServerError) as caught:
        await provider.complete(request_for(faults={"hang": 1.0, "hang_s": 0.1}))
    assert caught.value.status == 504
    assert sim.stats()["by_model"] == {"oracle": {"timeout": 1}}  # counted when the hang began


async def test_anthropic_overloaded_529_is_a_server_error(sim, adapter_for):
    provider = adapter_for("anthropic", sim.base_url)
    with pytest.raises(ServerError) as caught:
        await provider.complete(request_for(faults={"outages": [{"start_s": 0, "duration_s": 600, "status": 529}]}))
    assert caught.value.status == 529 and "overloaded" in str(caught.value)


async def test_bad_key_unknown_model_and_bad_body(fmt, sim, adapter_for):
    with pytest.raises(AuthError) as caught:
        await adapter_for(fmt, sim.base_url, api_key="invalid-key").complete(request_for())
    assert "invalid-key" not in str(caught.value) and caught.value.status == 401
    provider = adapter_for(fmt, sim.base_url)
    with pytest.raises(BadRequest) as caught:
        await provider.complete(request_for("no-such-model"))
    assert caught.value.status == 404 and "no-such-model" in str(caught.value)
    with pytest.raises(BadRequest) as caught:
        await provider.complete(request_for(script={"steps": [], "answer": "x", "surprise": 1}))
    assert caught.value.status == 400
    assert sim.stats()["by_model"] == {"oracle": {"auth": 1, "bad_request": 1}, "no-such-model": {"bad_request": 1}}


async def test_no_api_key_in_any_error_or_log(fmt, sim, adapter_for, fake_key, caplog):
    caplog.set_level(logging.DEBUG)
    provider = adapter_for(fmt, sim.base_url)
    texts = []
    for faults in [f[1] for f in FAULTS]:
        with pytest.raises(ProviderError) as caught:
            await provider.complete(request_for(faults=faults, timeout_s=0.3))
        texts += [str(caught.value), repr(caught.value)]
    for model, key in (("no-such-model", fake_key), ("oracle", "invalid-key")):
        with pytest.raises(ProviderError) as caught:
            await adapter_for(fmt, sim.base_url, api_key=key).complete(request_for(model))
        texts += [str(caught.value), repr(caught.value)]
    assert len(texts) == 16
    everything = "\n".join(texts) + caplog.text
    assert fake_key not in everything and fake_key[-8:] not in everything
    assert "invalid-key" not in "\n".join(texts) and "-key" not in "\n".join(texts)


async def _outcome_sequence(fmt: str, seed: int, adapter_for, n: int = 30) -> list[str]:
    profile = ModelProfile(faults=FaultConfig(http_5xx=0.2, http_429=0.15, reset=0.1, refusal=0.1, malformed=0.1))
    async with SimulatorServer({"flaky": profile}, seed=seed) as server:
        provider = adapter_for(fmt, server.base_url)
        seen = []
        for _ in range(n):
            try:
                await provider.complete(request_for("flaky"))
                seen.append("ok")
            except ProviderError as exc:
                seen.append(f"{exc.outcome}:{exc.status}")
        served = server.stats()["by_model"]["flaky"]
    assert sum(served.values()) == n
    assert served.get("ok", 0) == seen.count("ok")
    return seen


async def test_same_seed_same_outcome_sequence(fmt, adapter_for):
    first = await _outcome_sequence(fmt, 5, adapter_for)
    assert len(set(first)) >= 4  # a real mix, not all one outcome
    assert await _outcome_sequence(fmt, 5, adapter_for) == first
    assert await _outcome_sequence(fmt, 6, adapter_for) != first


async def test_same_conversation_same_behaviour_whatever_the_arrival_order(fmt, adapter_for):
    noisy = ModelProfile(policy="noisy", noise=NoiseConfig(wrong_tool=0.3, wrong_argument=0.3, repeat=0.3))
    words = ["cat", "dog", "house", "keyboard", "school"]

    def conversation(word: str) -> CompletionRequest:
        script = {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in word], "answer": word}
        return request_for("noisy", (Message(role="user", content=f"Type: {word}"),), script=script)

    async def replies(order: list[str]) -> dict[str, Any]:
        async with SimulatorServer({"noisy": noisy}, seed=3) as server:
            provider = adapter_for(fmt, server.base_url)
            got = {}
            for word in order:
                completion = await provider.complete(conversation(word))
                got[word] = (completion.text, [(c.name, c.arguments) for c in completion.tool_calls])
            return got

    forward = await replies(words)
    assert forward == await replies(list(reversed(words)))
    assert len({str(v) for v in forward.values()}) > 1


async def test_the_body_seed_varies_a_conversation_and_repeats_it(fmt, adapter_for):
    noisy = ModelProfile(policy="noisy", noise=NoiseConfig(wrong_tool=0.3, wrong_argument=0.3, stop_early=0.3))
    async with SimulatorServer({"noisy": noisy}) as server:
        provider = adapter_for(fmt, server.base_url)

        async def reply(seed: int) -> str:
            # the seed rides in the body: OpenAI's own field, and accepted there in either format
            request = request_for("noisy")
            request = CompletionRequest(model=request.model, messages=request.messages, tools=request.tools,
                                        extra_body={**(request.extra_body or {}), "seed": seed})
            completion = await provider.complete(request)
            return completion.text + str([(c.name, c.arguments) for c in completion.tool_calls])

        by_seed = [await reply(seed) for seed in range(8)]
        assert len(set(by_seed)) > 1 and await reply(0) == by_seed[0]


async def test_outage_answers_its_status_only_inside_the_window(fmt, adapter_for):
    # The window is generous: the first request (client set-up included) must land inside it
    # even on a loaded machine.
    outage = Outage(start_s=0.0, duration_s=1.5, status=503)
    async with SimulatorServer({"m": ModelProfile(faults=FaultConfig(outages=[outage]))}) as server:
        ends_at = server.stats()["started_at"] + outage.duration_s
        provider = adapter_for(fmt, server.base_url)
        with pytest.raises(ServerError) as caught:
            await provider.complete(request_for("m"))
        assert caught.value.status == 503 and time.time() < ends_at
        await asyncio.sleep(max(0.0, ends_at + 0.05 - time.time()))
        assert (await provider.complete(request_for("m"))).tool_calls
        assert server.stats()["by_model"]["m"] == {"http_5xx": 1, "ok": 1}


async def test_latency_override_delays_the_reply(provider):
    completion = await provider.complete(request_for(latency_ms={"mean": 150}))
    assert completion.latency_s >= 0.15


async def test_stop_is_prompt_with_a_hung_request_in_flight(fmt, adapter_for):
    server = SimulatorServer()
    await server.start()
    provider = adapter_for(fmt, server.base_url)
    hung = asyncio.create_task(provider.complete(request_for(faults={"hang": 1.0}, timeout_s=60)))
    while server.stats()["by_model"].get("oracle", {}).get("timeout") != 1:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await server.stop()
    assert time.monotonic() - started < 1.0
    with pytest.raises(ConnectionFailed):
        await asyncio.wait_for(hung, 2.0)


async def test_stats_count_requests_by_arrival_second(provider, sim):
    for _ in range(6):
        await provider.complete(request_for())
    stats = sim.stats()
    assert stats["requests"] == 6 and sum(stats["per_second"].values()) == 6
    assert stats["per_second_by_model"]["oracle"] == stats["per_second"]
    assert all(int(second) >= int(stats["started_at"]) for second in stats["per_second"])


async def test_the_sdks_typed_replies_parse_unchanged(sim):
    body = {"script": CAT_SCRIPT}
    async with openai.AsyncOpenAI(api_key="k", base_url=sim.openai_base_url, max_retries=0) as client:
        reply = await client.chat.completions.create(
            model="oracle", messages=[{"role": "user", "content": "Type: cat"}], extra_body=body,
            tools=[{"type": "function", "function": {"name": "type_letter", "parameters": TYPE_LETTER.parameters}}])
        call = reply.choices[0].message.tool_calls[0]
        assert (call.function.name, json.loads(call.function.arguments)) == ("type_letter", {"letter": "c"})
        refused = await client.chat.completions.create(
            model="oracle", messages=[{"role": "user", "content": "x"}], extra_body={"simulate": {"faults": {"refusal": 1}}})
        assert refused.choices[0].finish_reason == "content_filter" and refused.choices[0].message.refusal
    async with anthropic.AsyncAnthropic(api_key="k", base_url=sim.anthropic_base_url, max_retries=0) as client:
        message = await client.messages.create(
            model="oracle", max_tokens=64, messages=[{"role": "user", "content": "Type: cat"}], extra_body=body,
            tools=[{"name": "type_letter", "description": "d", "input_schema": TYPE_LETTER.parameters}])
        assert message.stop_reason == "tool_use" and message.content[0].input == {"letter": "c"}
        assert message.usage.input_tokens > 0


@pytest.mark.parametrize(("path", "shape"), [("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic")])
async def test_malformed_bodies_get_a_400_in_the_format_shape(sim, path, shape):
    bodies = [b"{not json", b"[1, 2]", json.dumps({"model": "oracle"}).encode(),
              json.dumps({"model": "oracle", "messages": ["hi"], "max_tokens": 5}).encode(),
              json.dumps({"model": "oracle", "messages": [{"role": "user", "content": [1, "x"]}],
                          "max_tokens": 5, "stream": True}).encode(),
              json.dumps({"model": "oracle", "messages": [{"role": "assistant", "content": ["x"]}],
                          "max_tokens": 5}).encode()]
    async with aiohttp.ClientSession() as session:
        for body in bodies:
            async with session.post(sim.base_url + path, data=body, headers={"Authorization": "Bearer k"}) as reply:
                document = await reply.json()
                assert reply.status == 400, document
                assert (document["type"] == "error") if shape == "anthropic" else ("type" in document["error"])
    assert sum(sim.stats()["by_model"]["oracle"].values()) == 4
    async with aiohttp.ClientSession() as session, session.get(sim.base_url + "/health") as reply:
        assert reply.status == 200
