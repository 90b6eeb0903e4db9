"""The Anthropic adapter against canned replies: what it sends, and errors the simulator never makes."""

from __future__ import annotations

import inspect

import anthropic
import pytest

from providers.errors import AuthError, BadRequest, QuotaExhausted, RateLimited, Refusal, ServerError
from providers.types import CompletionRequest, Message, ToolCall, ToolSpec
from providers.wire import anthropic_messages
from providers.wire.translate import aiohttp_client

TOOL = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"}}})
CALL = ToolCall(id="toolu_1", name="add", arguments={"a": 2}, raw_arguments='{"a": 2}')
MESSAGES = (Message(role="system", content="Be brief."), Message(role="user", content="2+2?"),
            Message(role="assistant", tool_calls=(CALL,)), Message(role="tool", content="4", tool_call_id="toolu_1"))
OK_REPLY = anthropic_messages.reply_to_wire(reply_id="r", model="m", text="4", input_tokens=9, output_tokens=1)


def _error(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}}


async def test_request_fields_sent_and_reply_read(canned, adapter_for, fake_key):
    server = await canned(200, OK_REPLY)
    provider = adapter_for("anthropic", server.url)
    completion = await provider.complete(CompletionRequest(
        model="claude-test", messages=MESSAGES, tools=(TOOL,), temperature=0.5, seed=3, max_tokens=77,
        extra_body={"script": {"answer": "4"}}))
    assert (completion.text, completion.finish_reason, completion.input_tokens) == ("4", "stop", 9)
    headers, body = server.received[0]
    # older SDKs send x-api-key, newer ones a bearer token
    assert fake_key in (headers.get("x-api-key"), headers.get("Authorization", "").removeprefix("Bearer "))
    assert body["system"] == "Be brief." and body["max_tokens"] == 77
    # the SDK names no temperature argument: it reaches the body anyway
    assert "temperature" not in inspect.signature(anthropic.AsyncAnthropic(api_key="k").messages.create).parameters
    assert body["temperature"] == 0.5 and "thinking" not in body
    assert body["messages"][1]["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2}}]
    assert body["messages"][2]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"}]
    assert body["tools"] == [anthropic_messages.tool_to_wire(TOOL)] and body["script"] == {"answer": "4"}
    assert "seed" not in body  # the Messages API has no seed


@pytest.mark.parametrize(("status", "body", "headers", "error"), [
    (529, _error("overloaded_error", "Overloaded"), None, ServerError),
    (429, _error("rate_limit_error", "Number of requests has exceeded your rate limit"), {"retry-after": "4"},
     RateLimited),
    (402, _error("billing_error", "Your credit balance is too low"), None, QuotaExhausted),
    (400, _error("invalid_request_error", "Output blocked by content filtering policy"), None, Refusal),
    (403, _error("permission_error", "Your API key does not have permission"), None, AuthError),
    (413, _error("request_too_large", "Request exceeds the maximum size"), None, BadRequest),
])
async def test_error_replies(canned, adapter_for, status, body, headers, error):
    server = await canned(status, body, headers)
    with pytest.raises(error) as caught:
        await adapter_for("anthropic", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert type(caught.value) is error and caught.value.status == status
    assert body["error"]["message"] in str(caught.value)
    assert len(server.received) == 1  # no SDK retries
    if error is RateLimited:
        assert caught.value.retry_after == 4.0


async def test_refusal_stop_reason(canned, adapter_for):
    server = await canned(200, anthropic_messages.reply_to_wire(reply_id="r", model="m", text="", refusal=True))
    with pytest.raises(Refusal):
        await adapter_for("anthropic", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))


def test_uses_the_sdk_aiohttp_transport_when_installed():
    assert isinstance(aiohttp_client(anthropic), anthropic.DefaultAioHttpClient)
