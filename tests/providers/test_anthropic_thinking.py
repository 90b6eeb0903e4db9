"""Anthropic extended thinking: the simulator rejects what the Messages API rejects, with its error
bodies, for requests built by hand; the adapter, driving multi-step conversations with thinking on
and off, never triggers a rule; what it sends and reads (sampling, reasoning, usage, stop reasons)
is what the API means."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import pytest

from providers.anthropic_provider import AnthropicProvider
from providers.errors import BadRequest, MalformedToolCall, Refusal
from providers.simulator import FaultConfig, ModelProfile, SimulatorServer
from providers.text_tools import TextToolsProvider
from providers.types import Completion, CompletionRequest, Message, Reasoning, ToolSpec
from providers.wire import anthropic_messages

TYPE_LETTER = ToolSpec("type_letter", "Append one letter to the paper.", {
    "type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
TOOLS_WIRE = [anthropic_messages.tool_to_wire(TYPE_LETTER)]


def script(word: str) -> dict[str, Any]:
    return {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in word], "answer": word}


DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
MISSING_BLOCK = ("messages.{n}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. "
                 "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
                 "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
                 "thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please "
                 f"consult our documentation at {DOCS}")


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    profiles = {"thinker": ModelProfile(reasoning=True), "plain": ModelProfile()}
    async with SimulatorServer(profiles, seed=7) as server:
        yield server


async def post(sim: SimulatorServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            sim.base_url + "/v1/messages", json=body, headers={"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}) as response:
        return response.status, await response.json()


def request_body(messages: list[dict[str, Any]], *, word: str = "cat", model: str = "thinker",
                 **fields: Any) -> dict[str, Any]:
    body = {"model": model, "max_tokens": 4096, "messages": messages, "tools": TOOLS_WIRE, "script": script(word),
            "thinking": {"type": "enabled", "budget_tokens": 2048}}
    return {**body, **fields}


def invalid(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}


def tool_results(reply: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": b["id"], "content": "OK"}
                                        for b in reply["content"] if b["type"] == "tool_use"]}


async def two_turns(sim: SimulatorServer) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A valid conversation after two tool-calling replies, and the second reply."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Type: cat"}]
    reply: dict[str, Any] = {}
    for _ in range(2):
        status, reply = await post(sim, request_body(messages))
        assert status == 200 and reply["stop_reason"] == "tool_use"
        messages += [{"role": "assistant", "content": reply["content"]}, tool_results(reply)]
    return messages, reply


# -- each rule, broken by hand -------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({"thinking": {"type": "enabled", "budget_tokens": 1000}},
     "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"),
    ({"thinking": {"type": "enabled", "budget_tokens": 4096}},
     f"`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
     f"{DOCS}#max-tokens-and-context-window-size"),
    ({"temperature": 0},
     f"`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
     f"{DOCS}#important-considerations-when-using-extended-thinking"),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}, "temperature": 0.7},
     f"`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
     f"{DOCS}#important-considerations-when-using-extended-thinking"),
    ({"tool_choice": {"type": "any"}}, "Thinking may not be enabled when tool_choice forces tool use."),
    ({"tool_choice": {"type": "tool", "name": "type_letter"}},
     "Thinking may not be enabled when tool_choice forces tool use."),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "minimal"}},
     "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"),
], ids=["budget-below-1024", "budget-not-below-max-tokens", "temperature-0", "temperature-adaptive",
        "tool-choice-any", "tool-choice-tool", "effort-unknown"])
async def test_request_fields_that_break_a_rule_get_the_api_error(sim, fields, message):
    status, body = await post(sim, request_body([{"role": "user", "content": "Type: cat"}], **fields))
    assert (status, body) == (400, invalid(message))
    assert sim.stats()["by_model"]["thinker"] == {"bad_request": 1}


async def test_the_same_fields_are_accepted_where_they_break_no_rule(sim):
    start = [{"role": "user", "content": "Type: cat"}]
    for fields in ({"temperature": 1}, {"tool_choice": {"type": "auto"}},
                   {"thinking": {"type": "disabled"}, "temperature": 0, "tool_choice": {"type": "any"}},
                   {"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}}):
        assert (await post(sim, request_body(start, **fields)))[0] == 200
    # a model that does not reason is not held to the reasoning rules
    plain = request_body(start, model="plain", temperature=0, thinking={"type": "enabled", "budget_tokens": 10})
    status, reply = await post(sim, plain)
    assert status == 200 and [b["type"] for b in reply["content"]] == ["tool_use"]
    assert "output_tokens_details" not in reply["usage"]


async def test_a_tool_use_turn_sent_back_without_its_thinking_block(sim):
    status, reply = await post(sim, request_body([{"role": "user", "content": "Type: cat"}]))
    assert status == 200 and reply["content"][0]["type"] == "thinking"
    calls = [b for b in reply["content"] if b["type"] == "tool_use"]
    bare = [{"role": "user", "content": "Type: cat"}, {"role": "assistant", "content": calls}, tool_results(reply)]
    assert await post(sim, request_body(bare)) == (400, invalid(MISSING_BLOCK.format(n=1, found="tool_use")))
    worded = [bare[0], {"role": "assistant", "content": [{"type": "text", "text": "Typing."}, *calls]}, bare[2]]
    assert await post(sim, request_body(worded)) == (400, invalid(MISSING_BLOCK.format(n=1, found="text")))
    # the index names the LAST assistant turn: here the fourth message
    messages, second = await two_turns(sim)
    messages[3] = {"role": "assistant", "content": [b for b in second["content"] if b["type"] == "tool_use"]}
    assert await post(sim, request_body(messages)) == (400, invalid(MISSING_BLOCK.format(n=3, found="tool_use")))
    # earlier turns may drop their thinking (the API strips it from them anyway)
    messages, _ = await two_turns(sim)
    messages[1] = {"role": "assistant", "content": [b for b in messages[1]["content"] if b["type"] == "tool_use"]}
    assert (await post(sim, request_body(messages)))[0] == 200


async def test_an_altered_thinking_block_or_signature(sim):
    messages, _ = await two_turns(sim)
    first = messages[1]["content"]
    assert first[0]["type"] == "thinking"
    for altered in ({**first[0], "thinking": first[0]["thinking"] + " "}, {**first[0], "signature": "c2ln"},
                    {k: v for k, v in first[0].items() if k != "signature"}):
        changed = [*messages[:1], {"role": "assistant", "content": [altered, *first[1:]]}, *messages[2:]]
        assert await post(sim, request_body(changed)) == (
            400, invalid("messages.1.content.0: Invalid `signature` in `thinking` block"))
    forged = {"type": "redacted_thinking", "data": "bm90IHNlYWxlZA=="}
    changed = [*messages[:3], {"role": "assistant", "content": [*messages[3]["content"][:1], forged,
                                                                  *messages[3]["content"][1:]]}, *messages[4:]]
    assert await post(sim, request_body(changed)) == (
        400, invalid("messages.3.content.1: Invalid `data` in `redacted_thinking` block"))
    assert (await post(sim, request_body(messages)))[0] == 200  # unaltered, it goes through


async def test_an_overloaded_529_has_the_api_body(sim):
    body = request_body([{"role": "user", "content": "Type: cat"}],
                        simulate={"faults": {"outages": [{"start_s": 0, "duration_s": 60, "status": 529}]}})
    assert await post(sim, body) == (529, {"type": "error", "error": {"type": "overloaded_error",
                                                                        "message": "Overloaded"}})


# -- replies parse with the SDK's own types ------------------------------------------------------


async def test_simulator_replies_parse_as_sdk_messages(sim):
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Type: keyboard"}]
    kinds: set[str] = set()
    for _ in range(9):
        status, reply = await post(sim, request_body(messages, word="keyboard"))
        assert status == 200
        message = anthropic.types.Message.model_validate(reply)
        kinds.update(block.type for block in message.content)
        assert message.usage.output_tokens_details is not None
        assert 0 < message.usage.output_tokens_details.thinking_tokens < message.usage.output_tokens
        if message.stop_reason != "tool_use":
            break
        messages += [{"role": "assistant", "content": reply["content"]}, tool_results(reply)]
    assert message.stop_reason == "end_turn" and message.content[-1].text == "keyboard"
    assert kinds == {"thinking", "redacted_thinking", "tool_use", "text"}
    refused = request_body(messages[:1], simulate={"faults": {"refusal": 1.0}})
    status, reply = await post(sim, refused)
    message = anthropic.types.Message.model_validate(reply)
    assert message.stop_reason == "refusal" and message.stop_details is not None
    assert message.stop_details.category == "general_harms"


# -- the adapter never triggers a rule -----------------------------------------------------------


async def converse(provider: Any, word: str, *, reasoning: Reasoning | None, temperature: float | None = None,
                   max_tokens: int = 4096) -> tuple[list[str], list[Completion]]:
    """A tool loop through the adapter: every call answered "OK" until the model answers."""
    messages = [Message(role="system", content="Type the word with the tools."), Message(role="user", content=f"Type: {word}")]
    typed: list[str] = []
    completions: list[Completion] = []
    for _ in range(len(word) + 2):
        completion = await provider.complete(CompletionRequest(
            model="thinker", messages=tuple(messages), tools=(TYPE_LETTER,), temperature=temperature,
            max_tokens=max_tokens, reasoning=reasoning, extra_body={"script": script(word), "seed": 3}))
        completions.append(completion)
        messages.append(completion.as_message())
        if not completion.tool_calls:
            return typed, completions
        for call in completion.tool_calls:
            typed.append(call.arguments["letter"])
            messages.append(Message(role="tool", content="OK", tool_call_id=call.id, name=call.name))
    raise AssertionError("no answer")


# the simulator's thought costs a multiple of its text's ~4-characters-a-token estimate: 16x at high
# effort, 4x at low, and for a bare budget one per 256 budget tokens (2048 → 8x), never past the budget
@pytest.mark.parametrize(("reasoning", "factor"), [(Reasoning(budget_tokens=2048), 8), (Reasoning(effort="high"), 16),
                                                   (Reasoning(effort="low", budget_tokens=1024), 4)],
                         ids=["budget", "effort", "both"])
async def test_the_adapter_keeps_every_rule_with_thinking_on(sim, reasoning, factor):
    provider = AnthropicProvider(api_key="sk-test", base_url=sim.base_url)
    try:
        typed, completions = await converse(provider, "keyboard", reasoning=reasoning)
    finally:
        await provider.aclose()
    assert "".join(typed) == "keyboard" and completions[-1].text == "keyboard"
    assert sim.stats()["by_model"] == {"thinker": {"ok": len(completions)}}
    redacted = 0
    for completion in completions:
        assert completion.replay[0]["type"] == "thinking" and completion.reasoning == completion.replay[0]["thinking"]
        assert completion.reasoning_tokens == max(1, len(completion.reasoning) // 4) * factor
        assert 0 < completion.reasoning_tokens < completion.output_tokens
        redacted += sum(block["type"] == "redacted_thinking" for block in completion.replay)
    assert redacted > 0  # a redacted block went back too, unaltered and in place
    params = sim.stats()["params_by_model"]["thinker"]
    expected = provider.wire_params(CompletionRequest(model="thinker", messages=(), max_tokens=4096,
                                                      reasoning=reasoning))
    assert {name: list(values) for name, values in params.items()} == {
        name: [json.dumps(value, sort_keys=True)] for name, value in expected.items()}


async def test_the_adapter_with_thinking_off_sends_temperature_zero(sim):
    provider = AnthropicProvider(api_key="sk-test", base_url=sim.base_url)
    try:
        typed, completions = await converse(provider, "cat", reasoning=None, temperature=0.0, max_tokens=256)
    finally:
        await provider.aclose()
    assert "".join(typed) == "cat" and completions[-1].text == "cat"
    assert all(c.reasoning_tokens == 0 and c.reasoning == "" for c in completions)
    assert all(block["type"] != "thinking" for c in completions for block in c.replay)
    stats = sim.stats()
    assert stats["by_model"] == {"thinker": {"ok": 4}}
    # temperature 0 reached the wire on every call, with the installed SDK
    assert stats["params_by_model"]["thinker"] == {"temperature": {"0.0": 4}, "max_tokens": {"256": 4}}


async def test_the_text_strategy_with_thinking_keeps_the_rules(sim):
    provider = TextToolsProvider(AnthropicProvider(api_key="sk-test", base_url=sim.base_url))
    try:
        typed, completions = await converse(provider, "cat", reasoning=Reasoning(budget_tokens=1024))
    finally:
        await provider.aclose()
    assert "".join(typed) == "cat" and completions[-1].text == "cat"
    assert sim.stats()["by_model"] == {"thinker": {"ok": 4}}
    assert all(c.reasoning_tokens > 0 for c in completions)


async def test_an_effort_the_api_has_no_level_for_is_refused_before_sending(sim):
    provider = AnthropicProvider(api_key="sk-test", base_url=sim.base_url)
    try:
        with pytest.raises(BadRequest, match="does not take effort 'minimal' \\(it takes: low, medium, high, xhigh, max\\)"):
            await provider.complete(CompletionRequest(model="thinker", messages=(Message("user", "hi"),),
                                                      reasoning=Reasoning(effort="minimal")))
    finally:
        await provider.aclose()
    assert sim.stats()["requests"] == 0


async def test_a_refusal_carries_its_stop_details(sim):
    provider = AnthropicProvider(api_key="sk-test", base_url=sim.base_url)
    try:
        with pytest.raises(Refusal) as caught:
            await provider.complete(CompletionRequest(
                model="thinker", messages=(Message("user", "Type: cat"),), tools=(TYPE_LETTER,),
                extra_body={"script": script("cat"), "simulate": {"faults": FaultConfig(refusal=1.0).model_dump()}}))
    finally:
        await provider.aclose()
    assert caught.value.outcome == "refusal"
    assert "category general_harms: A safety classifier declined this turn" in str(caught.value)


# -- stop reasons and usage the simulator does not produce ---------------------------------------


def canned_reply(stop_reason: str, content: list[dict[str, Any]], **usage: int) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": content,
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 50, **usage}}


THOUGHT = {"type": "thinking", "thinking": "Search first.", "signature": "EqQBCkgIARABGAIiQ"}
SEARCH = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "cat"}}


async def test_pause_turn_is_sent_back_as_is(canned, adapter_for):
    paused = canned_reply("pause_turn", [THOUGHT, SEARCH])
    server = await canned(200, paused)
    provider = adapter_for("anthropic", server.url)
    start = (Message("user", "Look it up."),)
    completion = await provider.complete(CompletionRequest(model="m", messages=start))
    assert (completion.finish_reason, completion.truncated, completion.tool_calls) == ("pause_turn", False, ())
    assert completion.replay == (THOUGHT, SEARCH) and completion.reasoning == "Search first."
    await provider.complete(CompletionRequest(model="m", messages=(*start, completion.as_message())))
    _, body = server.received[1]
    assert body["messages"][-1] == {"role": "assistant", "content": [THOUGHT, SEARCH]}
    # a continuation joins the paused turn: the API takes one assistant turn, not two
    text = Message(role="assistant", content="Done.", replay=({"type": "text", "text": "Done."},))
    _, wire = anthropic_messages.messages_to_wire((*start, completion.as_message(), text))
    assert wire[-1] == {"role": "assistant", "content": [THOUGHT, SEARCH, {"type": "text", "text": "Done."}]}


@pytest.mark.parametrize("stop_reason", ["max_tokens", "model_context_window_exceeded"])
async def test_a_reply_cut_by_a_limit_is_truncated(canned, adapter_for, stop_reason):
    server = await canned(200, canned_reply(stop_reason, [THOUGHT, {"type": "text", "text": "The answer is"}]))
    completion = await adapter_for("anthropic", server.url).complete(
        CompletionRequest(model="m", messages=(Message("user", "?"),)))
    assert (completion.truncated, completion.finish_reason, completion.text) == (True, "length", "The answer is")


async def test_usage_adds_the_cache_back_and_reads_thinking_tokens(canned, adapter_for):
    reply = canned_reply("end_turn", [THOUGHT, {"type": "text", "text": "4"}], cache_read_input_tokens=300,
                         cache_creation_input_tokens=20)
    reply["usage"]["output_tokens_details"] = {"thinking_tokens": 42}
    server = await canned(200, reply)
    completion = await adapter_for("anthropic", server.url).complete(
        CompletionRequest(model="m", messages=(Message("user", "?"),)))
    assert (completion.input_tokens, completion.cached_input_tokens) == (330, 300)
    assert (completion.output_tokens, completion.reasoning_tokens) == (50, 42)
    # a server that does not break thinking out reports none, rather than a guess
    del reply["usage"]["output_tokens_details"]
    assert anthropic_messages.completion_from_wire(reply).reasoning_tokens == 0


async def test_a_refusal_without_details(canned, adapter_for):
    server = await canned(200, canned_reply("refusal", []))
    with pytest.raises(Refusal, match=r"\(stop_reason refusal\)$"):
        await adapter_for("anthropic", server.url).complete(CompletionRequest(model="m", messages=(Message("user", "?"),)))


async def test_reasoning_and_sampling_go_in_the_body(canned, adapter_for):
    server = await canned(200, canned_reply("end_turn", [{"type": "text", "text": "ok"}]))
    provider = adapter_for("anthropic", server.url)
    for reasoning, temperature, fields in [
        (Reasoning(budget_tokens=2048), None, {"thinking": {"type": "enabled", "budget_tokens": 2048}}),
        (Reasoning(effort="max"), None, {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}),
        (None, 0.0, {"temperature": 0.0}),
    ]:
        request = CompletionRequest(model="m", messages=(Message("user", "?"),), max_tokens=4096,
                                    temperature=temperature, reasoning=reasoning)
        await provider.complete(request)
        _, body = server.received[-1]
        sent = {name: body[name] for name in anthropic_messages.PARAMETERS if name in body}
        assert sent == {"max_tokens": 4096, **fields} == provider.wire_params(request)


async def test_a_malformed_call_goes_back_with_its_thinking_intact(sim):
    provider = AnthropicProvider(api_key="sk-test", base_url=sim.base_url)
    start = (Message("user", "Type: cat"),)
    extra = {"script": script("cat"), "simulate": {"faults": {"malformed": 1.0}}}
    try:
        with pytest.raises(MalformedToolCall) as caught:
            await provider.complete(CompletionRequest(model="thinker", messages=start, tools=(TYPE_LETTER,),
                                                      max_tokens=2048, reasoning=Reasoning(budget_tokens=1024),
                                                      extra_body=extra))
        broken = caught.value.completion
        assert broken is not None and broken.replay[0]["type"] == "thinking"
        (use,) = [block for block in broken.replay if block["type"] == "tool_use"]
        assert use["input"] == {}  # the API takes only an object; the thinking block is untouched
        messages = (*start, broken.as_message(), Message("tool", "bad arguments", tool_call_id=use["id"]))
        completion = await provider.complete(CompletionRequest(
            model="thinker", messages=messages, tools=(TYPE_LETTER,), max_tokens=2048,
            reasoning=Reasoning(budget_tokens=1024), extra_body={"script": script("cat")}))
    finally:
        await provider.aclose()
    assert completion.tool_calls and sim.stats()["by_model"] == {"thinker": {"malformed": 1, "ok": 1}}
