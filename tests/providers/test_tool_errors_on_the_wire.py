"""A failed tool call is told to the model as a failure where the API can say so: Anthropic's
``is_error`` on the ``tool_result`` block, Gemini's ``{"error": …}`` function response."""

from __future__ import annotations

import pytest

from providers.types import Message, ToolCall
from providers.wire import anthropic_messages, google_genai, openai_chat

CALL = ToolCall(id="call_1", name="divide", arguments={"a": 1, "b": 0}, raw_arguments='{"a": 1, "b": 0}')


def conversation(*, failed: bool) -> tuple[Message, ...]:
    return (Message("system", "Use the tools."), Message("user", "1 / 0?"),
            Message("assistant", "", tool_calls=(CALL,)),
            Message("tool", "Error: division by zero" if failed else "0.5", tool_call_id="call_1", name="divide",
                    tool_error=failed))


@pytest.mark.parametrize("failed", [True, False])
def test_anthropic_marks_a_failed_result_is_error(failed):
    _, wire = anthropic_messages.messages_to_wire(conversation(failed=failed))
    block = wire[-1]["content"][0]
    assert block["type"] == "tool_result" and block.get("is_error", False) is failed
    back = anthropic_messages.messages_from_wire("Use the tools.", wire)
    assert back[-1].role == "tool" and back[-1].tool_error is failed


@pytest.mark.parametrize("failed", [True, False])
def test_gemini_sends_a_failed_result_as_an_error_response(failed):
    instruction, contents = google_genai.contents_to_wire(conversation(failed=failed))
    response = contents[-1]["parts"][0]["functionResponse"]["response"]
    assert set(response) == ({"error"} if failed else {"result"})
    back = google_genai.contents_from_wire(instruction, contents)
    assert back[-1].role == "tool" and back[-1].tool_error is failed and back[-1].content == conversation(
        failed=failed)[-1].content


def test_openai_chat_has_no_such_flag_and_sends_the_text():
    wire = openai_chat.messages_to_wire(conversation(failed=True))
    assert wire[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "Error: division by zero"}
