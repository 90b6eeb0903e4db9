"""Wire conversions: neutral → wire → neutral gives back what went in, in both formats."""

from __future__ import annotations

import json

from providers.types import Message, ToolCall, ToolSpec
from providers.wire import anthropic_messages, openai_chat
from providers.wire.tool_arguments import parse_tool_call

TOOL = ToolSpec("get_user_location", "Location id of a user.",
                {"type": "object", "properties": {"user_id": {"type": "integer"}}, "required": ["user_id"]})
CALL_A = ToolCall(id="c1", name="find_users_by_name", arguments={"name": "Alice"}, raw_arguments='{"name": "Alice"}')
CALL_B = ToolCall(id="c2", name="get_user_location", arguments={"user_id": 21}, raw_arguments='{"user_id": 21}')
CONVERSATION = (
    Message(role="system", content="Answer with the tools."),
    Message(role="user", content="Where is Alice?"),
    Message(role="assistant", content="Looking her up.", tool_calls=(CALL_A, CALL_B)),
    Message(role="tool", content='[{"id": 21, "name": "Alice"}]', tool_call_id="c1", name="find_users_by_name"),
    Message(role="tool", content="3", tool_call_id="c2", name="get_user_location"),
    Message(role="assistant", content="She is at location 3."),
    Message(role="user", content="Thanks."),
)


def _semantic(messages: tuple[Message, ...]) -> list[tuple]:
    """What must survive a round trip (raw argument text may be re-serialized)."""
    return [(m.role, m.content, [(c.id, c.name, c.arguments) for c in m.tool_calls], m.tool_call_id, m.name)
            for m in messages]


def test_openai_messages_round_trip():
    wire = openai_chat.messages_to_wire(CONVERSATION)
    assert wire[2]["tool_calls"][1] == {"id": "c2", "type": "function",
                                        "function": {"name": "get_user_location", "arguments": '{"user_id": 21}'}}
    assert wire[3] == {"role": "tool", "tool_call_id": "c1", "content": '[{"id": 21, "name": "Alice"}]'}
    assert _semantic(openai_chat.messages_from_wire(json.loads(json.dumps(wire)))) == _semantic(CONVERSATION)


def test_anthropic_puts_system_on_top_and_merges_tool_results():
    system, wire = anthropic_messages.messages_to_wire(CONVERSATION)
    assert system == "Answer with the tools."
    assert [m["role"] for m in wire] == ["user", "assistant", "user", "assistant", "user"]
    assert [b["type"] for b in wire[1]["content"]] == ["text", "tool_use", "tool_use"]
    assert wire[1]["content"][2]["input"] == {"user_id": 21}
    assert wire[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": '[{"id": 21, "name": "Alice"}]'},
        {"type": "tool_result", "tool_use_id": "c2", "content": "3"},
    ]
    back = anthropic_messages.messages_from_wire(system, json.loads(json.dumps(wire)))
    assert _semantic(back) == _semantic(CONVERSATION)


def test_anthropic_user_text_after_tool_results_joins_the_same_user_message():
    messages = (Message(role="user", content="go"), Message(role="assistant", tool_calls=(CALL_A,)),
                Message(role="tool", content="x", tool_call_id="c1"), Message(role="user", content="now answer"))
    _, wire = anthropic_messages.messages_to_wire(messages)
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    assert wire[2]["content"][-1] == {"type": "text", "text": "now answer"}


def test_tools_in_each_format():
    assert openai_chat.tool_to_wire(TOOL) == {"type": "function", "function": {
        "name": TOOL.name, "description": TOOL.description, "parameters": TOOL.parameters}}
    assert anthropic_messages.tool_to_wire(TOOL) == {"name": TOOL.name, "description": TOOL.description,
                                                     "input_schema": TOOL.parameters}
    assert openai_chat.tool_from_wire(openai_chat.tool_to_wire(TOOL)) == TOOL
    assert anthropic_messages.tool_from_wire(anthropic_messages.tool_to_wire(TOOL)) == TOOL


def test_arguments_that_are_not_a_json_object_become_an_error():
    broken = parse_tool_call("c", "f", '{"letter": "c"')
    assert broken.error and "not valid JSON" in broken.error and broken.arguments == {}
    assert broken.arguments_json == '{"letter": "c"'  # fed back verbatim
    assert "JSON object" in (parse_tool_call("c", "f", "[1, 2]").error or "")
    assert parse_tool_call("c", "f", "").arguments == {}
    assert parse_tool_call("c", "f", {"x": 1}).arguments == {"x": 1}


def test_openai_reply_round_trip_with_calls_refusal_and_usage():
    body = openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="", tool_calls=(CALL_B,),
                                     input_tokens=10, output_tokens=4)
    assert body["choices"][0]["message"]["content"] is None
    completion = openai_chat.completion_from_wire(body, latency_s=0.5)
    assert completion.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in completion.tool_calls] == [("get_user_location", {"user_id": 21})]
    assert (completion.input_tokens, completion.output_tokens, completion.latency_s) == (10, 4, 0.5)
    refused = openai_chat.completion_from_wire(
        openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="no", refusal="no"))
    assert refused.refusal and refused.finish_reason == "content_filter" and refused.text == "no"


def test_anthropic_reply_round_trip_maps_stop_reasons():
    body = anthropic_messages.reply_to_wire(reply_id="r", model="m", text="Checking.", tool_calls=(CALL_B,),
                                            input_tokens=7, output_tokens=3)
    completion = anthropic_messages.completion_from_wire(body)
    assert (completion.text, completion.finish_reason) == ("Checking.", "tool_calls")
    assert completion.tool_calls[0].arguments == {"user_id": 21}
    assert (completion.input_tokens, completion.output_tokens) == (7, 3)
    plain = anthropic_messages.completion_from_wire(anthropic_messages.reply_to_wire(reply_id="r", model="m", text="3"))
    assert plain.finish_reason == "stop" and not plain.refusal
    refused = anthropic_messages.completion_from_wire(
        anthropic_messages.reply_to_wire(reply_id="r", model="m", text="", refusal=True))
    assert refused.refusal and refused.finish_reason == "content_filter"


def test_a_malformed_call_survives_each_reply_format_as_an_error():
    broken = ToolCall(id="c9", name="type_letter", raw_arguments='{"letter": "c"', error="malformed")
    for completion in (
        openai_chat.completion_from_wire(openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="",
                                                                   tool_calls=(broken,))),
        anthropic_messages.completion_from_wire(anthropic_messages.reply_to_wire(reply_id="r", model="m", text="",
                                                                                 tool_calls=(broken,))),
    ):
        (call,) = completion.tool_calls
        assert call.error and call.raw_arguments == '{"letter": "c"'
    # sent back in a request, Anthropic can only carry an object: the broken call goes with {}
    _, wire = anthropic_messages.messages_to_wire((Message(role="assistant", tool_calls=(broken,)),))
    assert wire[0]["content"][0]["input"] == {}


def test_error_bodies_have_each_format_shape():
    assert openai_chat.error_to_wire(429, "slow down")["error"] == {
        "message": "slow down", "type": "rate_limit_exceeded", "param": None, "code": None}
    assert openai_chat.error_to_wire(503, "x")["error"]["type"] == "server_error"
    assert anthropic_messages.error_to_wire(529, "busy") == {
        "type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    assert anthropic_messages.error_to_wire(401, "no")["error"]["type"] == "authentication_error"
