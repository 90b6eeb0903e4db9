"""OpenAI's rules for reasoning models, as the simulator enforces them: each bad request built by
hand gets the real API's error body; the adapters never break them (multi-step oracle
conversations through each adapter, reasoning on and off: 0 bad_request); replies parse with the
SDK's own types; ``/stats`` shows what reached the wire."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from providers.errors import BadRequest, MalformedToolCall
from providers.openai_provider import OpenAIProvider
from providers.openai_responses_provider import OpenAIResponsesProvider
from providers.registry import EndpointSpec, make_provider
from providers.simulator import ModelProfile, SimulatorServer
from providers.simulator.signatures import Signer
from providers.types import Completion, CompletionRequest, Message, Reasoning, ToolSpec

REASONER, PLAIN = "sim-reasoner", "sim-plain"
TYPE_LETTER = ToolSpec("type_letter", "Append one letter to the paper.", {
    "type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
MULTIPLY = ToolSpec("multiply", "Multiply two numbers.", {
    "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]})
SCRIPTS = {
    "typewriter": ((TYPE_LETTER,), {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in "cat"],
                                    "answer": "cat"}),
    "math": ((MULTIPLY, TYPE_LETTER), {"steps": [{"name": "multiply", "arguments": {"a": 2, "b": 3}},
                                                 {"name": "multiply", "arguments": {"a": 6, "b": 7}}],
                                       "answer": "42"}),
}
START = (Message(role="system", content="Use the tools."), Message(role="user", content="Go."))
FLAT_TOOL = {"type": "function", "name": "type_letter", "description": "Append one letter.",
             "parameters": TYPE_LETTER.parameters, "strict": False}
CHAT_TOOL = {"type": "function", "function": {"name": "type_letter", "parameters": TYPE_LETTER.parameters}}
CAT = SCRIPTS["typewriter"][1]


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    profiles = {name: ModelProfile(reasoning=True) for name in (REASONER, "gpt-5.4", "gpt-5.6")}
    profiles[PLAIN] = ModelProfile()
    async with SimulatorServer(profiles, seed=3) as server:
        yield server


async def post(sim: SimulatorServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            sim.base_url + path, json=body, headers={"Authorization": "Bearer sk-test"}) as reply:
        return reply.status, await reply.json()


def chat(model: str = REASONER, **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Type: cat"}], "script": CAT, **fields}


def responses(model: str = REASONER, **fields: Any) -> dict[str, Any]:
    body = {"model": model, "input": [{"role": "user", "content": "Type: cat"}], "tools": [FLAT_TOOL],
            "store": False, "include": ["reasoning.encrypted_content"], "reasoning": {"effort": "high"},
            "script": CAT}
    return {**body, **fields}


def error(message: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


# -- Chat Completions --------------------------------------------------------------------------


async def test_chat_max_tokens_gets_the_unsupported_parameter_body(sim):
    assert await post(sim, "/v1/chat/completions", chat(max_tokens=64)) == (400, error(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        code="unsupported_parameter", param="max_tokens"))
    assert (await post(sim, "/v1/chat/completions", chat(max_completion_tokens=64)))[0] == 200


@pytest.mark.parametrize(("temperature", "effort", "status"), [
    (0, None, 400), (0.7, "high", 400), (1, None, 200), (0, "none", 200)])
async def test_chat_temperature_other_than_one_is_an_unsupported_value(sim, temperature, effort, status):
    fields: dict[str, Any] = {"temperature": temperature}
    if effort is not None:
        fields["reasoning_effort"] = effort
    got_status, body = await post(sim, "/v1/chat/completions", chat(**fields))
    assert got_status == status
    if status == 400:
        assert body == error(f"Unsupported value: 'temperature' does not support {temperature:g} with this model. "
                             "Only the default (1) value is supported.", code="unsupported_value", param="temperature")


@pytest.mark.parametrize(("model", "effort", "advice"), [
    ("gpt-5.4", "high", "Please use /v1/responses instead."),
    ("gpt-5.4", None, None),
    ("gpt-5.6", None, "To use function tools, use /v1/responses or set reasoning_effort to 'none'."),
    ("gpt-5.6", "none", None),
    (REASONER, "high", None),  # o3, gpt-5: tools with reasoning are fine on Chat
])
async def test_chat_function_tools_with_reasoning_on_gpt_5_4_and_later(sim, model, effort, advice):
    fields: dict[str, Any] = {"tools": [CHAT_TOOL]}
    if effort is not None:
        fields["reasoning_effort"] = effort
    status, body = await post(sim, "/v1/chat/completions", chat(model, **fields))
    if advice is None:
        assert status == 200
    else:
        assert (status, body) == (400, error(f"Function tools with reasoning_effort are not supported for {model} in "
                                             f"/v1/chat/completions. {advice}", param="reasoning_effort"))


async def test_chat_rules_are_for_reasoning_models_only(sim):
    status, body = await post(sim, "/v1/chat/completions", chat(PLAIN, max_tokens=64, temperature=0))
    assert status == 200 and body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_chat_replies_parse_as_the_sdk_type_and_count_reasoning(sim):
    _, thinking = await post(sim, "/v1/chat/completions", chat(reasoning_effort="high", tools=[CHAT_TOOL]))
    _, plain = await post(sim, "/v1/chat/completions", chat(reasoning_effort="none"))
    parsed = ChatCompletion.model_validate(thinking)
    assert parsed.choices[0].message.tool_calls and parsed.choices[0].finish_reason == "tool_calls"
    assert parsed.usage is not None and parsed.usage.completion_tokens_details is not None
    reasoning = parsed.usage.completion_tokens_details.reasoning_tokens
    assert reasoning and reasoning > 0 and parsed.usage.completion_tokens > reasoning
    assert ChatCompletion.model_validate(plain).usage.completion_tokens_details.reasoning_tokens == 0


# -- Responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "moved_to"), [("max_tokens", "max_output_tokens"),
                                                 ("max_completion_tokens", "max_output_tokens"),
                                                 ("reasoning_effort", "reasoning.effort")])
async def test_responses_chat_parameters_have_moved(sim, field, moved_to):
    assert await post(sim, "/v1/responses", responses(**{field: 64})) == (400, error(
        f"Unsupported parameter: '{field}'. In the Responses API, this parameter has moved to '{moved_to}'. "
        "Try again with the new parameter.", code="unsupported_parameter"))


async def test_responses_messages_instead_of_input_and_nested_tools(sim):
    body = responses()
    body["messages"] = body.pop("input")
    assert (await post(sim, "/v1/responses", body))[1]["error"]["message"].startswith(
        "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'.")
    assert await post(sim, "/v1/responses", responses(tools=[CHAT_TOOL])) == (400, error(
        "Missing required parameter: 'tools[0].name'.", code="missing_required_parameter", param="tools[0].name"))


async def test_responses_temperature_on_a_reasoning_model(sim):
    assert await post(sim, "/v1/responses", responses(temperature=0)) == (400, error(
        "Unsupported parameter: 'temperature' is not supported with this model.",
        code="unsupported_parameter", param="temperature"))
    assert (await post(sim, "/v1/responses", responses(temperature=0, reasoning={"effort": "none"})))[0] == 200
    assert (await post(sim, "/v1/responses", responses(PLAIN, temperature=0, reasoning=None)))[0] == 200


async def first_turn(sim: SimulatorServer, **fields: Any) -> list[dict[str, Any]]:
    """The output items of a thinking model's first reply (a reasoning item, then one call)."""
    status, body = await post(sim, "/v1/responses", responses(**fields))
    assert status == 200, body
    return body["output"]


def next_turn(output: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """The second request: the conversation, the items sent back, the call's result."""
    call = next(item for item in output if item["type"] == "function_call")
    items = [{"role": "user", "content": "Type: cat"}, *output,
             {"type": "function_call_output", "call_id": call["call_id"], "output": "OK"}]
    return responses(input=items, **fields)


async def test_responses_reasoning_item_then_call_and_the_sdk_type(sim):
    output = await first_turn(sim)
    reasoning, call = output
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_")
    assert reasoning["encrypted_content"] and reasoning["summary"] == []  # no summary asked for
    assert call["type"] == "function_call" and call["id"].startswith("fc_")
    status, body = await post(sim, "/v1/responses", next_turn(output))
    assert status == 200
    parsed = Response.model_validate(body)
    assert parsed.status == "completed" and parsed.output[0].type == "reasoning"
    assert parsed.usage is not None and parsed.usage.output_tokens_details.reasoning_tokens > 0
    assert parsed.usage.output_tokens > parsed.usage.output_tokens_details.reasoning_tokens
    assert parsed.tools[0].name == "type_letter"  # type: ignore[union-attr]


async def test_responses_call_without_its_reasoning_item(sim):
    output = await first_turn(sim)
    reasoning, call = output
    assert await post(sim, "/v1/responses", next_turn([call])) == (400, error(
        f"Item '{call['id']}' of type 'function_call' was provided without its required 'reasoning' item: "
        f"'{reasoning['id']}'.", param="input"))


async def test_responses_reasoning_item_without_encrypted_content_under_store_false(sim):
    output = await first_turn(sim)
    stripped = copy.deepcopy(output)
    del stripped[0]["encrypted_content"]
    assert await post(sim, "/v1/responses", next_turn(stripped)) == (404, error(
        f"Item with id '{output[0]['id']}' not found. Items are not persisted when `store` is set to false. "
        "Try again with `store` set to true, or remove this item from your input.", param="input"))
    # stored, the item can come back by id alone
    assert (await post(sim, "/v1/responses", next_turn(stripped, store=True)))[0] == 200


async def test_responses_without_include_the_reasoning_item_cannot_come_back(sim):
    output = await first_turn(sim, include=[])
    assert "encrypted_content" not in output[0]
    assert (await post(sim, "/v1/responses", next_turn(output)))[0] == 404


@pytest.mark.parametrize("alteration", ["edited", "foreign", "moved"])
async def test_responses_altered_encrypted_content(sim, alteration):
    output = await first_turn(sim)
    item = output[0]
    if alteration == "edited":
        item["encrypted_content"] = item["encrypted_content"][:-6] + "AAAA=="
    elif alteration == "foreign":  # sealed by another server
        item["encrypted_content"] = Signer(seed=99).seal(f"{item['id']}\nI should call type_letter.")
    else:  # a genuine blob under another item's id
        item["id"] = "rs_sim9999999999"
        output[1]["id"] = output[1]["id"].replace(output[1]["id"][6:16], "9999999999")
    blob = item["encrypted_content"]
    assert await post(sim, "/v1/responses", next_turn(output)) == (400, error(
        f"The encrypted content {blob[:4]}...{blob[-4:]} could not be verified. "
        "Reason: Encrypted content could not be decrypted or parsed.", code="invalid_encrypted_content"))


async def test_responses_reasoning_item_without_its_following_item(sim):
    output = await first_turn(sim)
    body = next_turn(output)
    body["input"].remove(output[1])  # the call goes, its result stays
    assert await post(sim, "/v1/responses", body) == (400, error(
        f"Item '{output[0]['id']}' of type 'reasoning' was provided without its required following item.",
        param="input"))


async def test_responses_summary_refusal_and_non_reasoning_replies_parse(sim):
    output = await first_turn(sim, reasoning={"effort": "low", "summary": "auto"})
    assert output[0]["summary"][0]["type"] == "summary_text" and "type_letter" in output[0]["summary"][0]["text"]
    _, refused = await post(sim, "/v1/responses", responses(simulate={"faults": {"refusal": 1.0}}))
    assert Response.model_validate(refused).output[0].content[0].type == "refusal"  # type: ignore[union-attr]
    _, plain = await post(sim, "/v1/responses", responses(PLAIN, reasoning=None))
    parsed = Response.model_validate(plain)
    assert [item.type for item in parsed.output] == ["function_call"]
    assert parsed.usage is not None and parsed.usage.output_tokens_details.reasoning_tokens == 0


# -- the adapters never break a rule -----------------------------------------------------------


async def converse(provider: Any, model: str, script: str, *, reasoning: Reasoning | None,
                   faults: dict[str, Any] | None = None) -> tuple[list[Completion], list[tuple[str, dict]]]:
    """An agent loop through ``provider`` until an answer: every completion, every call made."""
    tools, steps = SCRIPTS[script]
    extra: dict[str, Any] = {"script": steps, "seed": 5}
    if faults:
        extra["simulate"] = {"faults": faults}
    messages, completions, calls = list(START), [], []
    for _ in range(12):
        request = CompletionRequest(model=model, messages=tuple(messages), tools=tools, max_tokens=2048,
                                    reasoning=reasoning, extra_body=extra)
        try:
            completion = await provider.complete(request)
        except MalformedToolCall as exc:
            assert exc.completion is not None
            completion = exc.completion
        completions.append(completion)
        messages.append(completion.as_message())
        if not completion.tool_calls:
            return completions, calls
        for call in completion.tool_calls:
            calls.append((call.name, call.arguments))
            messages.append(Message(role="tool", content="OK", tool_call_id=call.id, name=call.name))
    raise AssertionError("no answer")


@pytest.mark.parametrize("api_format", ["openai", "openai_responses"])
@pytest.mark.parametrize("reasoning", [Reasoning(effort="high"), None], ids=["reasoning", "plain"])
async def test_oracle_conversations_through_each_adapter_break_no_rule(sim, api_format, reasoning):
    provider = make_provider(EndpointSpec(kind="simulated", base_url=sim.base_url, api_format=api_format))
    model = REASONER if reasoning else PLAIN
    try:
        for script, (_, steps) in SCRIPTS.items():
            completions, calls = await converse(provider, model, script, reasoning=reasoning)
            assert calls == [(step["name"], step["arguments"]) for step in steps["steps"]]
            assert completions[-1].text == steps["answer"] and not completions[-1].truncated
            if reasoning:
                assert all(c.reasoning_tokens > 0 and c.output_tokens > c.reasoning_tokens for c in completions)
            else:
                assert all(c.reasoning_tokens == 0 for c in completions)
            if api_format == "openai_responses" and reasoning:
                # reasoning items come back sealed; no summary, as none was asked for
                assert all(c.replay[0]["type"] == "reasoning" and not c.reasoning for c in completions)
    finally:
        await provider.aclose()
    stats = sim.stats()
    assert stats["by_model"][model] == {"ok": 7}  # 4 turns of typewriter, 3 of math
    params = stats["params_by_model"][model]
    if api_format == "openai":
        assert params["max_completion_tokens"] == {"2048": 7} and "max_tokens" not in params
        assert ("reasoning_effort" in params) == bool(reasoning)
    else:
        assert params["max_output_tokens"] == {"2048": 7} and params["store"] == {"false": 7}
        assert params["include"] == {'["reasoning.encrypted_content"]': 7}
        if reasoning:
            assert params["reasoning"] == {'{"effort": "high"}': 7}


async def test_a_thinking_model_without_a_reasoning_setting_still_gets_its_items_back(sim):
    """Reasoning models think at their default effort when none is asked for: the adapter's
    stateless settings hold anyway."""
    provider = OpenAIResponsesProvider(api_key="sk-test", base_url=sim.openai_base_url)
    completions, _ = await converse(provider, REASONER, "typewriter", reasoning=None)
    await provider.aclose()
    assert all(c.reasoning_tokens > 0 and c.reasoning == "" for c in completions)  # no summary asked for
    assert sim.stats()["by_model"][REASONER] == {"ok": 4}


async def test_malformed_calls_after_thinking_go_back_verbatim_and_the_conversation_goes_on(sim):
    provider = OpenAIResponsesProvider(api_key="sk-test", base_url=sim.openai_base_url)
    completions, _ = await converse(provider, REASONER, "typewriter", reasoning=Reasoning(effort="low"),
                                    faults={"malformed": 0.3})
    await provider.aclose()
    by_outcome = sim.stats()["by_model"][REASONER]
    assert by_outcome.get("malformed", 0) >= 1 and "bad_request" not in by_outcome
    assert any(call.error for c in completions for call in c.tool_calls)


async def test_the_chat_adapter_on_a_gpt_5_4_model_with_tools_and_reasoning_is_refused_by_its_rule(sim):
    """The rule the adapter cannot satisfy on Chat: reasoning + tools on gpt-5.4 means Responses."""
    chat_adapter = OpenAIProvider(api_key="sk-test", base_url=sim.openai_base_url, token_param="max_completion_tokens")
    responses_adapter = OpenAIResponsesProvider(api_key="sk-test", base_url=sim.openai_base_url)
    try:
        with pytest.raises(BadRequest, match="Please use /v1/responses instead"):
            await converse(chat_adapter, "gpt-5.4", "typewriter", reasoning=Reasoning(effort="high"))
        completions, _ = await converse(responses_adapter, "gpt-5.4", "typewriter", reasoning=Reasoning(effort="high"))
        assert completions[-1].text == "cat"
    finally:
        await chat_adapter.aclose()
        await responses_adapter.aclose()
