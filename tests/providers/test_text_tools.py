"""The text tool strategy: prompt, parser (over a corpus of real-world-shaped replies), provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.errors import MalformedToolCall, ServerError
from providers.text_tools import (
    TextToolsProvider,
    parse_tool_calls,
    render_call,
    render_request,
    render_tool_prompt,
)
from providers.types import Completion, CompletionRequest, Message, ToolCall, ToolSpec

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "text_replies.json").read_text("utf-8"))

TYPE_LETTER = ToolSpec(
    name="type_letter",
    description="Type one letter on the paper.",
    parameters={"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]},
)
ADD = ToolSpec(
    name="add",
    description="Add two numbers.",
    parameters={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"]},
)


@pytest.mark.parametrize("case", CORPUS["cases"], ids=[case["id"] for case in CORPUS["cases"]])
def test_corpus_reply_parses_as_expected(case: dict) -> None:
    parsed = parse_tool_calls(case["reply"], CORPUS["tools"])

    assert parsed.text == case["text"]
    assert [call.id for call in parsed.tool_calls] == [f"call_{i}" for i in range(len(case["calls"]))]
    assert len(parsed.tool_calls) == len(case["calls"])
    for call, expected in zip(parsed.tool_calls, case["calls"], strict=True):
        assert call.name == expected["name"]
        if expected.get("error"):
            assert call.error and call.arguments == {}
        else:
            assert call.error is None
            assert call.arguments == expected["arguments"]
            assert json.loads(call.raw_arguments) == expected["arguments"]
    assert parsed.broken_calls == tuple(call for call in parsed.tool_calls if call.error)


def test_without_tool_names_bare_json_needs_an_arguments_key() -> None:
    assert parse_tool_calls('{"name": "Alice", "city": "Paris"}').tool_calls == ()
    (call,) = parse_tool_calls('{"name": "anything", "arguments": {"x": 1}}').tool_calls
    assert (call.name, call.arguments) == ("anything", {"x": 1})


def test_id_prefix_numbers_calls_in_order() -> None:
    reply = '{"name": "add", "arguments": {"a": 1, "b": 2}}\n<tool_call>{"name": "add", "arguments": {}}</tool_call>'
    parsed = parse_tool_calls(reply * 2, ["add"], id_prefix="call_3_")
    assert [call.id for call in parsed.tool_calls] == ["call_3_0", "call_3_1"]


def test_prompt_describes_every_tool_and_the_convention() -> None:
    prompt = render_tool_prompt([TYPE_LETTER, ADD])

    for tool in (TYPE_LETTER, ADD):
        assert f"## {tool.name}" in prompt
        assert tool.description in prompt
        assert json.dumps(tool.parameters, sort_keys=True) in prompt
    assert '<tool_call>{"name": "<tool name>", "arguments": {' in prompt
    assert "no <tool_call> block" in prompt


def test_rendered_call_parses_back() -> None:
    call = ToolCall(id="x", name="add", arguments={"a": 1.5, "b": "ü"})
    (parsed,) = parse_tool_calls(render_call(call), ["add"]).tool_calls
    assert (parsed.name, parsed.arguments, parsed.error) == ("add", call.arguments, None)


def test_render_request_inserts_system_prompt_and_rewrites_history() -> None:
    broken = ToolCall(id="call_1_0", name="add", raw_arguments='{"name": "add", "arguments": {', error="bad")
    request = CompletionRequest(
        model="m",
        tools=(TYPE_LETTER,),
        messages=(
            Message(role="user", content="Type hi"),
            Message(role="assistant", content="Typing.", tool_calls=(
                ToolCall(id="call_0_0", name="type_letter", arguments={"letter": "h"}),
                ToolCall(id="call_0_1", name="type_letter", arguments={"letter": "i"}),
            )),
            Message(role="tool", tool_call_id="call_0_0", name="type_letter", content="OK"),
            Message(role="tool", tool_call_id="call_0_1", name="type_letter", content="OK"),
            Message(role="assistant", tool_calls=(broken,)),
            Message(role="tool", tool_call_id="call_1_0", name="add", content="error: bad"),
            Message(role="user", content="Go on"),
        ),
    )

    rendered = render_request(request)

    assert rendered.tools == ()
    assert [m.role for m in rendered.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert rendered.messages[0].content == render_tool_prompt([TYPE_LETTER])
    assert rendered.messages[2].content == (
        'Typing.\n<tool_call>{"name": "type_letter", "arguments": {"letter": "h"}}</tool_call>\n'
        '<tool_call>{"name": "type_letter", "arguments": {"letter": "i"}}</tool_call>'
    )
    assert rendered.messages[3].content == (
        '<tool_result name="type_letter">OK</tool_result>\n<tool_result name="type_letter">OK</tool_result>'
    )
    assert rendered.messages[4].content == '<tool_call>{"name": "add", "arguments": {</tool_call>'
    assert rendered.messages[5].content == '<tool_result name="add">error: bad</tool_result>\nGo on'
    assert all(not m.tool_calls and m.tool_call_id is None for m in rendered.messages)


def test_render_request_extends_an_existing_system_message() -> None:
    request = CompletionRequest(model="m", tools=(ADD,), messages=(
        Message(role="system", content="Be brief."), Message(role="user", content="1+1?")))
    system = render_request(request).messages[0]
    assert system.content.startswith("Be brief.\n\n# Tools")
    assert "## add" in system.content


class RecordingProvider:
    """Returns canned replies in order and keeps every request it received."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[CompletionRequest] = []
        self.closed = False

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return Completion(text=reply, input_tokens=11, output_tokens=7, latency_s=0.25)

    async def aclose(self) -> None:
        self.closed = True


async def test_provider_round_trip_over_a_fake_model() -> None:
    inner = RecordingProvider(
        'Sure.\n<tool_call>{"name": "type_letter", "arguments": {"letter": "h"}}</tool_call>'
        '<tool_call>{"name": "type_letter", "arguments": {"letter": "i"}}</tool_call>',
        "hi",
    )
    provider = TextToolsProvider(inner)
    history: list[Message] = [Message(role="user", content="Type hi")]

    first = await provider.complete(CompletionRequest(model="m", messages=tuple(history), tools=(TYPE_LETTER,)))

    assert first.finish_reason == "tool_calls"
    assert first.text == "Sure."
    assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == [
        ("call_0_0", "type_letter", {"letter": "h"}), ("call_0_1", "type_letter", {"letter": "i"})]
    assert (first.input_tokens, first.output_tokens, first.latency_s) == (11, 7, 0.25)
    sent = inner.requests[0]
    assert sent.tools == ()
    assert sent.messages[0].role == "system" and "type_letter" in sent.messages[0].content

    history += [first.as_message(), *(Message(role="tool", tool_call_id=c.id, name=c.name, content="OK")
                                      for c in first.tool_calls)]
    second = await provider.complete(CompletionRequest(model="m", messages=tuple(history), tools=(TYPE_LETTER,)))

    assert (second.text, second.tool_calls, second.finish_reason) == ("hi", (), "stop")
    resent = inner.requests[1].messages
    assert [m.role for m in resent] == ["system", "user", "assistant", "user"]
    assert resent[2].content.count("<tool_call>") == 2
    assert resent[3].content.count('<tool_result name="type_letter">OK</tool_result>') == 2

    await provider.aclose()
    assert inner.closed


async def test_ids_stay_unique_across_turns() -> None:
    call = '<tool_call>{"name": "add", "arguments": {"a": 1, "b": 1}}</tool_call>'
    provider = TextToolsProvider(RecordingProvider(call, call))
    history: list[Message] = [Message(role="user", content="go")]
    ids = []
    for _ in range(2):
        completion = await provider.complete(CompletionRequest(model="m", messages=tuple(history), tools=(ADD,)))
        ids += [c.id for c in completion.tool_calls]
        history += [completion.as_message(), Message(role="tool", tool_call_id=ids[-1], name="add", content="3.2")]
    assert ids == ["call_0_0", "call_1_0"]


async def test_broken_call_raises_malformed_with_the_parsed_completion() -> None:
    provider = TextToolsProvider(RecordingProvider(
        '<tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call><tool_call>{"name": "add", "arguments": {"a": </tool_call>'))

    with pytest.raises(MalformedToolCall) as caught:
        await provider.complete(CompletionRequest(model="m", messages=(Message(role="user", content="x"),),
                                                  tools=(ADD,)))

    completion = caught.value.completion
    assert completion is not None and completion.finish_reason == "tool_calls"
    good, bad = completion.tool_calls
    assert good.error is None and good.arguments == {"a": 1}
    assert bad.name == "add" and bad.error and "not valid JSON" in bad.error
    assert caught.value.outcome == "malformed"


async def test_inner_errors_propagate_untouched() -> None:
    error = ServerError("boom", status=503)
    provider = TextToolsProvider(RecordingProvider(error))
    with pytest.raises(ServerError) as caught:
        await provider.complete(CompletionRequest(model="m", messages=(Message(role="user", content="x"),),
                                                  tools=(ADD,)))
    assert caught.value is error


async def test_without_tools_the_reply_is_not_parsed() -> None:
    reply = '{"name": "add", "arguments": {"a": 1, "b": 2}}'
    inner = RecordingProvider(reply)
    completion = await TextToolsProvider(inner).complete(
        CompletionRequest(model="m", messages=(Message(role="user", content="x"),)))
    assert (completion.text, completion.tool_calls) == (reply, ())
    assert [m.role for m in inner.requests[0].messages] == ["user"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]":,<>/ \n`tool_call name arguments add 1 é')) | st.characters()),
       st.none() | st.lists(st.sampled_from(["add", "name", "tool_call", ""]), max_size=3))
def test_parse_never_raises(text: str, tool_names: list[str] | None) -> None:
    parsed = parse_tool_calls(text, tool_names)
    assert all(call.error or isinstance(call.arguments, dict) for call in parsed.tool_calls)


_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=6),
                                st.recursive(_JSON_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=4),
                                max_size=3), min_size=1, max_size=3),
       st.text(alphabet="abc .\n", max_size=10))
def test_rendered_calls_round_trip(arguments: list[dict], prose: str) -> None:
    calls = [ToolCall(id="", name="add", arguments=args) for args in arguments]
    parsed = parse_tool_calls(prose + "".join(render_call(call) for call in calls), ["add"])
    assert [call.arguments for call in parsed.tool_calls] == arguments
    assert parsed.text == prose.strip()
