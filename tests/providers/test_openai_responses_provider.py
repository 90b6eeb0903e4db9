"""The Responses adapter against canned replies: what it sends, and replies the simulator never
makes (incomplete, content-filtered, cached tokens, errors)."""

from __future__ import annotations

import pytest

from providers.errors import (
    BadRequest,
    MalformedToolCall,
    ProviderConfigError,
    RateLimited,
    Refusal,
    ServerError,
)
from providers.openai_responses_provider import OpenAIResponsesProvider
from providers.registry import EndpointSpec, make_provider
from providers.types import CompletionRequest, Message, Reasoning, ToolCall, ToolSpec
from providers.wire import openai_responses

TOOL = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"}}})
MESSAGES = (Message(role="system", content="Be brief."), Message(role="user", content="2+2?"))
CALL = ToolCall(id="call_1", name="add", arguments={"a": 2}, raw_arguments='{"a": 2}')
REASONING_ITEM = openai_responses.reasoning_item("rs_1", summary="Add them.", encrypted_content="gAAAAsealed")


def reply(output: list[dict], *, status: str = "completed", reason: str | None = None,
          cached: int = 0, reasoning_tokens: int = 0) -> dict:
    body = openai_responses.response_to_wire(
        response_id="resp_1", model="m", created=0, output=output, tools=[], input_tokens=50,
        output_tokens=30, reasoning_tokens=reasoning_tokens, incomplete_reason=reason)
    body["status"] = status
    body["usage"]["input_tokens_details"]["cached_tokens"] = cached
    return body


OK_REPLY = reply([openai_responses.message_item("msg_1", text="4", refusal=False)])


@pytest.fixture
async def responses_adapter():
    made: list[OpenAIResponsesProvider] = []

    def make(root: str) -> OpenAIResponsesProvider:
        made.append(OpenAIResponsesProvider(api_key="sk-test-FAKEKEY0123456789abcdef", base_url=root + "/v1"))
        return made[-1]

    yield make
    for adapter in made:
        await adapter.aclose()


async def test_request_is_stateless_with_flat_tools_and_no_unset_sampling(canned, responses_adapter):
    server = await canned(200, OK_REPLY)
    adapter = responses_adapter(server.url)
    completion = await adapter.complete(CompletionRequest(model="gpt-5.6", messages=MESSAGES, tools=(TOOL,),
                                                          seed=3, max_tokens=900, reasoning=Reasoning(effort="high")))
    assert (completion.text, completion.finish_reason, completion.input_tokens) == ("4", "stop", 50)
    _, body = server.received[0]
    assert body == {
        "model": "gpt-5.6",
        "input": [{"type": "message", "role": "developer", "content": "Be brief."},
                  {"type": "message", "role": "user", "content": "2+2?"}],
        "max_output_tokens": 900, "store": False, "include": ["reasoning.encrypted_content"],
        "tools": [{"type": "function", "name": "add", "description": "Add two numbers.",
                   "parameters": TOOL.parameters, "strict": False}],
        "reasoning": {"effort": "high"},
    }  # no seed (the API has none), no temperature (not set), no summary (not asked for: some accounts get a 400)
    request = CompletionRequest(model="m", messages=MESSAGES, temperature=0.2)
    await adapter.complete(request)
    assert server.received[1][1]["temperature"] == 0.2 and "reasoning" not in server.received[1][1]
    assert adapter.wire_params(request) == {"temperature": 0.2, "max_output_tokens": 1024, "store": False,
                                            "include": ["reasoning.encrypted_content"]}


async def test_a_reasoning_summary_is_sent_only_when_set(canned):
    server = await canned(200, OK_REPLY)
    adapter = OpenAIResponsesProvider(api_key="sk-test", base_url=server.url + "/v1", reasoning_summary="concise")
    try:
        await adapter.complete(CompletionRequest(model="m", messages=MESSAGES, reasoning=Reasoning(effort="low")))
        await adapter.complete(CompletionRequest(model="m", messages=MESSAGES))
    finally:
        await adapter.aclose()
    assert server.received[0][1]["reasoning"] == {"effort": "low", "summary": "concise"}
    assert server.received[1][1]["reasoning"] == {"summary": "concise"}


async def test_every_output_item_goes_back_in_order_then_the_results(canned, responses_adapter):
    message = openai_responses.message_item("msg_1", text="Adding.", refusal=False)
    call_item = openai_responses.function_call_item(CALL, item_id="fc_1")
    server = await canned(200, reply([REASONING_ITEM, message, call_item], reasoning_tokens=20))
    adapter = responses_adapter(server.url)
    first = await adapter.complete(CompletionRequest(model="m", messages=MESSAGES, tools=(TOOL,)))
    assert first.tool_calls == (CALL,) and first.text == "Adding." and first.finish_reason == "tool_calls"
    assert (first.reasoning, first.reasoning_tokens, first.replay) == ("Add them.", 20, (REASONING_ITEM, message, call_item))
    result = Message(role="tool", content="4", tool_call_id="call_1", name="add")
    await adapter.complete(CompletionRequest(model="m", messages=(*MESSAGES, first.as_message(), result), tools=(TOOL,)))
    sent = server.received[1][1]["input"]
    assert sent[2:] == [REASONING_ITEM, message, call_item,
                        {"type": "function_call_output", "call_id": "call_1", "output": "4"}]


def test_a_turn_without_replay_is_rebuilt_from_its_text_and_calls():
    broken = ToolCall(id="call_2", name="add", raw_arguments='{"a": ', error="malformed")
    items = openai_responses.input_to_wire([Message(role="assistant", content="Let me add.", tool_calls=(CALL, broken))])
    assert items == [{"type": "message", "role": "assistant", "content": "Let me add."},
                     {"type": "function_call", "call_id": "call_1", "name": "add", "arguments": '{"a": 2}'},
                     {"type": "function_call", "call_id": "call_2", "name": "add", "arguments": "{}"}]
    back = openai_responses.input_from_wire([*items, {"type": "function_call_output", "call_id": "call_1", "output": "4"}])
    assert back == (Message(role="assistant", content="Let me add.", tool_calls=(CALL, ToolCall(
        id="call_2", name="add", arguments={}, raw_arguments="{}"))), Message(role="tool", content="4",
                                                                              tool_call_id="call_1", name="add"))


async def test_usage_counts_cached_and_reasoning_tokens(canned, responses_adapter):
    server = await canned(200, reply([openai_responses.message_item("m", text="4", refusal=False)],
                                     cached=32, reasoning_tokens=12))
    completion = await responses_adapter(server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert (completion.input_tokens, completion.cached_input_tokens) == (50, 32)
    assert (completion.output_tokens, completion.reasoning_tokens) == (30, 12)


async def test_incomplete_at_the_token_limit_is_truncated_not_an_answer(canned, responses_adapter):
    server = await canned(200, reply([REASONING_ITEM], status="incomplete", reason="max_output_tokens",
                                     reasoning_tokens=30))
    completion = await responses_adapter(server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert (completion.truncated, completion.finish_reason, completion.text, completion.refusal) == (True, "length", "", False)
    assert completion.replay == (REASONING_ITEM,)


@pytest.mark.parametrize("output, status, reason", [
    ([openai_responses.message_item("msg_1", text="I can't help with that.", refusal=True)], "completed", None),
    ([], "incomplete", "content_filter"),
], ids=["refusal-part", "content-filter"])
async def test_refusals(canned, responses_adapter, output, status, reason):
    server = await canned(200, reply(output, status=status, reason=reason))
    with pytest.raises(Refusal, match="content_filter"):
        await responses_adapter(server.url).complete(CompletionRequest(model="m", messages=MESSAGES))


async def test_a_call_whose_arguments_do_not_parse_is_malformed(canned, responses_adapter):
    bad = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "add", "arguments": '{"a": '}
    server = await canned(200, reply([bad]))
    with pytest.raises(MalformedToolCall) as caught:
        await responses_adapter(server.url).complete(CompletionRequest(model="m", messages=MESSAGES, tools=(TOOL,)))
    assert caught.value.completion is not None and caught.value.completion.replay == (bad,)


@pytest.mark.parametrize(("status", "body", "error"), [
    (429, {"error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
     RateLimited),
    (400, {"error": {"message": "Unsupported parameter: 'max_tokens'.", "type": "invalid_request_error",
                     "param": None, "code": "unsupported_parameter"}}, BadRequest),
    (200, {"id": "resp_1", "object": "response", "status": "failed", "output": []}, ServerError),
])
async def test_errors_are_translated(canned, responses_adapter, status, body, error):
    server = await canned(status, body)
    with pytest.raises(error) as caught:
        await responses_adapter(server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert type(caught.value) is error and "FAKEKEY" not in str(caught.value)
    assert len(server.received) == 1


async def test_a_thinking_budget_cannot_be_expressed(responses_adapter):
    adapter = responses_adapter("http://127.0.0.1:1")
    with pytest.raises(BadRequest, match="the OpenAI Responses API takes a reasoning effort, not a token budget"):
        adapter.wire_params(CompletionRequest(model="m", messages=MESSAGES, reasoning=Reasoning(budget_tokens=2048)))


async def test_the_registry_builds_it_for_openai_and_the_simulator(monkeypatch, sim):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    for spec in (EndpointSpec(kind="openai", api_format="openai_responses"),
                 EndpointSpec(kind="simulated", base_url=sim.base_url, api_format="openai_responses")):
        provider = make_provider(spec)
        assert isinstance(provider, OpenAIResponsesProvider)
        await provider.aclose()
    with pytest.raises(ProviderConfigError, match="does not take that option"):
        make_provider(EndpointSpec(kind="openai", api_format="openai_responses", options={"token_param": "max_tokens"}))
