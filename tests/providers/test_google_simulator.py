"""The simulator's Gemini route through the google-genai SDK (via the adapter and directly), on
loopback: the oracle on every task with and without thinking, the thought-signature rules built by
hand, and Gemini's faults through the gate to the outcomes the error tree gives them."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import types as genai_types

import tasks
from providers.errors import MalformedToolCall, ProviderConfigError, ProviderError, QuotaExhausted, Refusal
from providers.gate.config import BreakerConfig, GateConfig
from providers.gate.gate import ProviderGate
from providers.google_provider import GoogleProvider
from providers.keys import MissingApiKey, key_env_name, resolve_api_key
from providers.registry import EndpointSpec, make_provider
from providers.simulator import FaultConfig, ModelProfile, Outage, SimulatorServer
from providers.simulator.routes_google import CORRUPTED_SIGNATURE, MISSING_SIGNATURE
from providers.types import AttemptRecord, CompletionRequest, Message, Reasoning, ToolSpec

KEY = "AIza-sim-test-key"
THINKER, PLAIN = "gemini-sim-thinking", "gemini-sim"
PROFILES = {THINKER: ModelProfile(reasoning=True), PLAIN: ModelProfile()}
ADD = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"},
                                                                              "b": {"type": "number"}}})
SCRIPT = {"steps": [{"name": "add", "arguments": {"a": 1, "b": 2}}, {"name": "add", "arguments": {"a": 3, "b": 4}}],
          "answer": "10"}


@pytest.fixture
async def gsim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(PROFILES, seed=5) as server:
        yield server


@pytest.fixture
async def gemini(gsim) -> AsyncIterator[GoogleProvider]:
    provider = GoogleProvider(api_key=KEY, base_url=gsim.google_base_url, timeout_s=10)
    yield provider
    await provider.aclose()


async def post(sim: SimulatorServer, model: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A request built by hand, as a client that ignores the rules would send it."""
    url = f"{sim.base_url}/v1beta/models/{model}:generateContent"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers={"x-goog-api-key": KEY}) as r:
        return r.status, await r.json()


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def results(content: dict[str, Any], value: str = "3") -> dict[str, Any]:
    calls = [p["functionCall"] for p in content["parts"] if "functionCall" in p]
    return {"role": "user", "parts": [{"functionResponse": {"name": c["name"], "id": c["id"], "response": {"result": value}}}
                                      for c in calls]}


THINKING_ON = {"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}}
TOOLS = [{"functionDeclarations": [{"name": "add", "description": "Add.", "parametersJsonSchema": ADD.parameters}]}]


def body_for(contents: list[dict[str, Any]], generation: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"contents": contents, "tools": TOOLS, "generationConfig": generation or THINKING_ON, "script": SCRIPT}


# -- the oracle on every task ------------------------------------------------------------------


async def oracle_episode(provider: GoogleProvider, task_name: str, model: str,
                         reasoning: Reasoning | None) -> tuple[bool, list[Any], int]:
    """One example of ``task_name`` to its end through the adapter: (correct, completions, steps)."""
    task = tasks.get_task(task_name)
    example = task.examples[-1]
    environment = task.environment()
    tools = tuple(ToolSpec(t.name, t.description, t.parameters) for t in environment.tools)
    script = {"steps": [{"name": s.name, "arguments": dict(s.arguments)} for s in example.expected_steps],
              "answer": str(example.reference)}
    messages = [Message("system", task.instructions), Message("user", example.question)]
    completions = []
    for _ in range(len(example.expected_steps) + 2):
        completion = await provider.complete(CompletionRequest(
            model=model, messages=tuple(messages), tools=tools, max_tokens=4096, reasoning=reasoning, seed=7,
            extra_body={"script": script, "seed": 7}))
        completions.append(completion)
        messages.append(completion.as_message())
        if not completion.tool_calls:
            score = task.score(example, completion.text, environment)
            return score.correct, completions, len(environment.calls)
        for call in completion.tool_calls:
            result = environment.call(call.name, call.arguments)
            messages.append(Message("tool", result.content, tool_call_id=call.id, name=call.name))
    raise AssertionError("the oracle did not answer")


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
@pytest.mark.parametrize(("model", "reasoning"), [
    (PLAIN, None), (THINKER, Reasoning(budget_tokens=2048)), (THINKER, Reasoning(effort="high"))])
async def test_the_oracle_is_perfect_on_every_task_with_and_without_thinking(gsim, gemini, task_name, model, reasoning):
    correct, completions, steps = await oracle_episode(gemini, task_name, model, reasoning)
    assert correct and steps == len(tasks.get_task(task_name).examples[-1].expected_steps)
    stats = gsim.stats()
    assert stats["by_model"][model] == {"ok": len(completions)}  # no bad_request: every rule kept
    thinking = [c.reasoning_tokens for c in completions]
    if reasoning is None:
        assert thinking == [0] * len(completions) and all(not c.reasoning for c in completions)
        assert "thinkingConfig" not in stats["params_by_model"][model]
    else:
        assert all(tokens > 0 for tokens in thinking) and all(c.reasoning for c in completions)
        assert all(c.output_tokens > c.reasoning_tokens for c in completions)
        sent = stats["params_by_model"][model]["thinkingConfig"]
        expected = ({"includeThoughts": True, "thinkingBudget": 2048} if reasoning.budget_tokens
                    else {"includeThoughts": True, "thinkingLevel": "HIGH"})
        assert sent == {json.dumps(expected, sort_keys=True): len(completions)}
        # the signature came back with each call, so the next request was accepted
        assert all("thoughtSignature" in json.dumps(c.replay) for c in completions)


async def test_stats_report_the_sampling_parameters_as_sent(gsim, gemini):
    await gemini.complete(CompletionRequest(model=PLAIN, messages=(Message("user", "hi"),), temperature=0.0, seed=4,
                                            max_tokens=99))
    params = gsim.stats()["params_by_model"][PLAIN]
    assert params == {"temperature": {"0.0": 1}, "seed": {"4": 1}, "maxOutputTokens": {"99": 1}}


# -- replies parse with the SDK's own types ------------------------------------------------------


async def test_replies_parse_as_the_sdks_generate_content_response(gsim):
    status, first = await post(gsim, THINKER, body_for([user("1+2, then 3+4?")]))
    assert status == 200
    parsed = genai_types.GenerateContentResponse.model_validate(first)
    parts = parsed.candidates[0].content.parts
    assert parts[0].thought and parts[1].function_call.name == "add" and parts[1].thought_signature
    assert parsed.usage_metadata.thoughts_token_count > 0 and parsed.function_calls[0].args == {"a": 1, "b": 2}
    for faults, finish in (({"refusal": 1}, "SAFETY"), ({"malformed": 1}, "MALFORMED_FUNCTION_CALL")):
        status, reply = await post(gsim, PLAIN, {**body_for([user("x")]), "simulate": {"faults": faults}})
        assert status == 200
        assert genai_types.GenerateContentResponse.model_validate(reply).candidates[0].finish_reason == finish
    status, error = await post(gsim, PLAIN, {**body_for([user("x")]), "simulate": {"faults": {"http_429": 1}}})
    assert status == 429 and error["error"]["status"] == "RESOURCE_EXHAUSTED"


async def test_the_sdks_typed_path_round_trips_the_signature(gsim):
    """generate_content with typed contents re-encodes the signature URL-safe: the same bytes."""
    client = genai.Client(api_key=KEY, vertexai=False, http_options=genai_types.HttpOptions(
        base_url=gsim.google_base_url, api_version="v1beta", retry_options=genai_types.HttpRetryOptions(attempts=1)))
    config = genai_types.GenerateContentConfig(
        tools=[genai_types.Tool(function_declarations=[genai_types.FunctionDeclaration(
            name="add", description="Add.", parameters_json_schema=ADD.parameters)])],
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=genai_types.ThinkingConfig(thinking_budget=512, include_thoughts=True),
        http_options=genai_types.HttpOptions(extra_body={"script": SCRIPT}))
    contents: list[Any] = [genai_types.Content(role="user", parts=[genai_types.Part(text="1+2, then 3+4?")])]
    try:
        for _ in range(3):
            response = await client.aio.models.generate_content(model=THINKER, contents=contents, config=config)
            if not response.function_calls:
                break
            contents.append(response.candidates[0].content)
            contents.append(genai_types.Content(role="user", parts=[genai_types.Part.from_function_response(
                name=call.name, response={"result": "3"}) for call in response.function_calls]))
    finally:
        await client.aio.aclose()
    assert response.text == "10"
    assert gsim.stats()["by_model"][THINKER] == {"ok": 3}


# -- the thought-signature rules, broken by hand ---------------------------------------------------


async def first_turn(sim: SimulatorServer) -> dict[str, Any]:
    status, reply = await post(sim, THINKER, body_for([user("1+2, then 3+4?")]))
    assert status == 200
    return reply["candidates"][0]["content"]


async def test_a_call_sent_back_without_its_signature_gets_the_apis_400(gsim):
    content = await first_turn(gsim)
    stripped = copy.deepcopy(content)
    for part in stripped["parts"]:
        part.pop("thoughtSignature", None)
    status, error = await post(gsim, THINKER, body_for([user("1+2, then 3+4?"), stripped, results(stripped)]))
    assert status == 400
    assert error == {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                               "message": MISSING_SIGNATURE.format(name="add", position=2)}}
    assert error["error"]["message"].startswith("Function call is missing a thought_signature in functionCall parts.")
    assert gsim.stats()["by_model"][THINKER] == {"ok": 1, "bad_request": 1}


@pytest.mark.parametrize("alteration", ["signature", "arguments", "not base64"])
async def test_an_altered_signature_or_call_gets_corrupted_thought_signature(gsim, alteration):
    content = await first_turn(gsim)
    altered = copy.deepcopy(content)
    part = next(p for p in altered["parts"] if "functionCall" in p)
    if alteration == "signature":
        raw = bytearray(base64.b64decode(part["thoughtSignature"]))
        raw[0] ^= 1
        part["thoughtSignature"] = base64.b64encode(bytes(raw)).decode()
    elif alteration == "arguments":
        part["functionCall"]["args"] = {"a": 1, "b": 5}
    else:
        part["thoughtSignature"] = "not a signature!"
    status, error = await post(gsim, THINKER, body_for([user("1+2, then 3+4?"), altered, results(altered)]))
    assert (status, error["error"]["message"], error["error"]["status"]) == (
        400, CORRUPTED_SIGNATURE, "INVALID_ARGUMENT")


async def test_what_the_signature_rule_leaves_alone(gsim):
    content = await first_turn(gsim)
    stripped = copy.deepcopy(content)
    for part in stripped["parts"]:
        part.pop("thoughtSignature", None)
    history = [user("1+2, then 3+4?"), content, results(content)]
    # verbatim, and URL-safe base64 of the same bytes (what the SDK's typed path sends): accepted
    urlsafe = copy.deepcopy(content)
    for part in urlsafe["parts"]:
        if "thoughtSignature" in part:
            part["thoughtSignature"] = base64.urlsafe_b64encode(base64.b64decode(part["thoughtSignature"])).decode()
    assert (await post(gsim, THINKER, body_for(history)))[0] == 200
    assert (await post(gsim, THINKER, body_for([user("1+2, then 3+4?"), urlsafe, results(urlsafe)])))[0] == 200
    # an earlier turn (before the user's latest text) is not checked
    assert (await post(gsim, THINKER, body_for([user("q"), stripped, results(stripped), user("again: 1+2?")])))[0] == 200
    # thinking off (budget 0), or a model that does not think: no signature needed
    off = {"thinkingConfig": {"thinkingBudget": 0}}
    assert (await post(gsim, THINKER, body_for([user("q"), stripped, results(stripped)], off)))[0] == 200
    assert (await post(gsim, PLAIN, body_for([user("q"), stripped, results(stripped)])))[0] == 200
    assert gsim.stats()["by_model"][THINKER].get("bad_request", 0) == 0


async def test_in_parallel_calls_only_the_first_carries_the_signature(gsim):
    script = {"steps": [{"name": "add", "arguments": {"a": 1, "b": 2}}], "answer": "3"}
    status, reply = await post(gsim, THINKER, {**body_for([user("q")]), "script": script})
    content = reply["candidates"][0]["content"]
    parallel = copy.deepcopy(content)
    parallel["parts"].append({"functionCall": {"name": "add", "args": {"a": 5, "b": 5}, "id": "call_extra"}})
    assert (await post(gsim, THINKER, {**body_for([user("q"), parallel, results(parallel)]), "script": script}))[0] == 200


# -- Gemini's faults through the gate --------------------------------------------------------------


def fast_gate() -> ProviderGate:
    return ProviderGate("google", GateConfig(max_attempts=40, max_identical_failures=40, backoff_base_s=0.05,
                                             backoff_max_s=0.2, breaker=BreakerConfig(failures=1000, failure_ratio=1.0,
                                                                                        window=1000)))


async def through_gate(provider: GoogleProvider, model: str, faults: dict[str, Any] | None = None
                       ) -> tuple[list[AttemptRecord], ProviderError | None]:
    records: list[AttemptRecord] = []
    extra: dict[str, Any] = {"script": SCRIPT} | ({"simulate": {"faults": faults}} if faults else {})
    try:
        await fast_gate().complete(provider, CompletionRequest(
            model=model, messages=(Message("user", "1+2?"),), tools=(ADD,), timeout_s=5, extra_body=extra),
            model_id=model, on_attempt=records.append)
    except ProviderError as error:
        return records, error
    return records, None


@pytest.mark.parametrize(("faults", "error", "outcome", "reason"), [
    ({"refusal": 1}, Refusal, "refusal", "finish_reason SAFETY"),
    ({"quota": 1}, QuotaExhausted, "http_429", "GenerateRequestsPerDayPerProjectPerModel"),
    ({"malformed": 1}, MalformedToolCall, "malformed", "MALFORMED_FUNCTION_CALL"),
])
async def test_faults_the_gate_does_not_retry(gsim, gemini, faults, error, outcome, reason):
    records, raised = await through_gate(gemini, PLAIN, faults)
    assert type(raised) is error and reason in str(raised)
    assert [r.outcome for r in records] == [outcome]  # one attempt: retrying would not help
    assert gsim.stats()["by_model"][PLAIN] == {outcome: 1}


@pytest.mark.parametrize(("status", "retry_after_s"), [(429, 1.2), (503, None), (500, None)])
async def test_429_and_5xx_are_retried_429_after_its_retry_delay(status, retry_after_s):
    # the outage is long enough that the first request falls in it even on a loaded machine (client
    # set-up counts), and the 429's retry delay outlasts it, so exactly one 429 is seen
    outage = Outage(start_s=0, duration_s=1.0, status=status)
    profile = ModelProfile(faults=FaultConfig(outages=[outage], retry_after_s=retry_after_s or 1.0))
    async with SimulatorServer({"flaky": profile}, seed=1) as sim:
        provider = GoogleProvider(api_key=KEY, base_url=sim.google_base_url, timeout_s=5)
        try:
            records, raised = await through_gate(provider, "flaky")
        finally:
            await provider.aclose()
    assert raised is None and records[-1].outcome == "ok"
    failed = records[:-1]
    assert failed and {r.outcome for r in failed} == {"http_429" if status == 429 else "http_5xx"}
    if status == 429:
        assert len(failed) == 1 and failed[0].retry_after_s == retry_after_s  # RetryInfo read
        gap = records[1].started_at - (failed[0].started_at + failed[0].latency_s)
        assert gap >= retry_after_s - 0.01  # and honoured
        assert "RESOURCE_EXHAUSTED" in (failed[0].error_message or "")
    elif status == 503:
        assert "(UNAVAILABLE): The model is overloaded." in (failed[0].error_message or "")
    else:
        assert "(INTERNAL): An internal error has occurred." in (failed[0].error_message or "")


async def test_a_blocked_prompt_is_a_refusal_not_retried(canned):
    server = await canned(200, {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}})
    provider = GoogleProvider(api_key=KEY, base_url=server.url)
    try:
        records, raised = await through_gate(provider, "gemini-test")
    finally:
        await provider.aclose()
    assert isinstance(raised, Refusal) and "block_reason SAFETY" in str(raised)
    assert [r.outcome for r in records] == ["refusal"] and len(server.received) == 1


# -- registry ---------------------------------------------------------------------------------------


async def test_registry_builds_the_google_adapter_for_the_simulator_and_the_vendor(gsim, monkeypatch):
    provider = make_provider(EndpointSpec(kind="simulated", base_url=gsim.base_url + "/v1", api_format="google"))
    assert isinstance(provider, GoogleProvider)
    reply = await provider.complete(CompletionRequest(model=PLAIN, messages=(Message("user", "hello"),)))
    assert "hello" in reply.text
    await provider.aclose()
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    provider = make_provider(EndpointSpec(kind="google"))
    assert isinstance(provider, GoogleProvider) and provider._api_key == "gemini-key"
    await provider.aclose()
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key")  # preferred when both are set, as the SDK does
    provider = make_provider(EndpointSpec(kind="google"))
    assert provider._api_key == "google-key"
    await provider.aclose()


def test_a_missing_google_key_names_both_variables(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    with pytest.raises(ProviderConfigError, match="set the environment variable GEMINI_API_KEY or GOOGLE_API_KEY"):
        make_provider(EndpointSpec(kind="google"))
    with pytest.raises(MissingApiKey, match="GEMINI_API_KEY or GOOGLE_API_KEY"):  # as orchestrator validate asks
        resolve_api_key("google", key_env_name("google"))
    with pytest.raises(ProviderConfigError, match="variable MY_GEMINI$"):
        make_provider(EndpointSpec(kind="google", api_key_env="MY_GEMINI"))


async def test_the_quota_fault_is_a_spent_quota_in_openais_shape_too(sim, adapter_for):
    with pytest.raises(QuotaExhausted, match="insufficient_quota"):
        await adapter_for("openai", sim.base_url).complete(CompletionRequest(
            model="oracle", messages=(Message("user", "hi"),), extra_body={"simulate": {"faults": {"quota": 1}}}))
    assert sim.stats()["by_model"]["oracle"] == {"http_429": 1}
