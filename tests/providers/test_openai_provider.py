"""The OpenAI adapter against canned replies: what it sends, and errors the simulator never makes."""

from __future__ import annotations

import socket

import openai
import pytest

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    ProviderConfigError,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
)
from providers.openai_provider import OpenAIProvider
from providers.types import CompletionRequest, Message, Reasoning, ToolSpec
from providers.wire import openai_chat
from providers.wire.translate import aiohttp_client

TOOL = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"}}})
MESSAGES = (Message(role="system", content="Be brief."), Message(role="user", content="2+2?"))
OK_REPLY = openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="4", input_tokens=5, output_tokens=1)


def _error(message: str, code: str | None = None, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


async def test_request_fields_sent_and_reply_read(canned, adapter_for, fake_key):
    server = await canned(200, OK_REPLY)
    provider = adapter_for("openai", server.url)
    completion = await provider.complete(CompletionRequest(
        model="gpt-test", messages=MESSAGES, tools=(TOOL,), temperature=0.0, seed=3, max_tokens=50,
        extra_body={"script": {"answer": "4"}}))
    assert (completion.text, completion.input_tokens, completion.output_tokens) == ("4", 5, 1)
    headers, body = server.received[0]
    assert headers["Authorization"] == f"Bearer {fake_key}"
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]
    assert body["tools"] == [openai_chat.tool_to_wire(TOOL)]
    assert (body["temperature"], body["seed"], body["max_tokens"], body["script"]) == (0.0, 3, 50, {"answer": "4"})
    await provider.complete(CompletionRequest(model="gpt-test", messages=MESSAGES))
    assert not {"tools", "temperature", "seed", "script"} & set(server.received[1][1])


async def test_one_attempt_per_call_no_sdk_retries(canned, adapter_for):
    server = await canned(503, _error("busy", kind="server_error"))
    with pytest.raises(ServerError):
        await adapter_for("openai", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert len(server.received) == 1


@pytest.mark.parametrize(("status", "body", "headers", "error"), [
    (429, _error("You exceeded your current quota", "insufficient_quota", "insufficient_quota"), None, QuotaExhausted),
    (429, _error("Rate limit reached", "rate_limit_exceeded"), {"retry-after-ms": "2500"}, RateLimited),
    (400, _error("Your request was rejected by our safety system", "content_policy_violation"), None, Refusal),
    (401, _error("Incorrect API key provided: sk-te*********************cdef.", "invalid_api_key"), None, AuthError),
    (200, "{not json", None, ServerError),
])
async def test_replies_the_simulator_never_sends(canned, adapter_for, fake_key, status, body, headers, error):
    server = await canned(status, body, headers)
    with pytest.raises(error) as caught:
        await adapter_for("openai", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert type(caught.value) is error
    assert fake_key[-4:] not in str(caught.value) and "*****" not in str(caught.value)
    if error is RateLimited:
        assert caught.value.retry_after == 2.5


async def test_refusal_field_without_content_filter_is_a_refusal(canned, adapter_for):
    reply = openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="", refusal="I can't.")
    reply["choices"][0]["finish_reason"] = "stop"
    server = await canned(200, reply)
    with pytest.raises(Refusal):
        await adapter_for("openai", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))


async def test_nobody_listening_is_a_connection_failure():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OpenAIProvider(api_key="k", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ConnectionFailed):
        await provider.complete(CompletionRequest(model="m", messages=MESSAGES, timeout_s=2))
    await provider.aclose()


def test_uses_the_sdk_aiohttp_transport_when_installed():
    assert isinstance(aiohttp_client(openai), openai.DefaultAioHttpClient)


async def test_token_param_is_max_completion_tokens_on_openai_itself_and_max_tokens_elsewhere(canned):
    request = CompletionRequest(model="m", messages=MESSAGES, max_tokens=77, reasoning=Reasoning(effort="low"))
    vendor = OpenAIProvider(api_key="k")  # no base_url: api.openai.com (nothing is sent here)
    assert vendor.wire_params(request) == {"max_completion_tokens": 77, "reasoning_effort": "low"}
    await vendor.aclose()
    server = await canned(200, OK_REPLY)
    for token_param, expected in ((None, "max_tokens"), ("max_completion_tokens", "max_completion_tokens")):
        provider = OpenAIProvider(api_key="k", base_url=server.url + "/v1", token_param=token_param)
        await provider.complete(request)
        body = server.received[-1][1]
        assert body[expected] == 77 and body["reasoning_effort"] == "low"
        assert ({"max_tokens", "max_completion_tokens"} - {expected}).isdisjoint(body)
        assert provider.wire_params(request) == {expected: 77, "reasoning_effort": "low"}
        await provider.aclose()


async def test_settings_the_api_cannot_take_are_refused():
    with pytest.raises(ProviderConfigError, match="token_param must be one of max_completion_tokens, max_tokens"):
        OpenAIProvider(api_key="k", token_param="max_output_tokens")  # type: ignore[arg-type]
    provider = OpenAIProvider(api_key="k")
    with pytest.raises(BadRequest, match="openai: OpenAI Chat Completions takes a reasoning effort, not a token budget"):
        provider.wire_params(CompletionRequest(model="m", messages=MESSAGES, reasoning=Reasoning(budget_tokens=1024)))
    await provider.aclose()


async def test_usage_details_and_a_reply_cut_at_the_limit(canned, adapter_for):
    reply = openai_chat.reply_to_wire(reply_id="r", model="m", created=0, text="The answer is", input_tokens=40,
                                      output_tokens=64, reasoning_tokens=50)
    reply["choices"][0]["finish_reason"] = "length"
    reply["usage"]["prompt_tokens_details"]["cached_tokens"] = 32
    server = await canned(200, reply)
    completion = await adapter_for("openai", server.url).complete(CompletionRequest(model="m", messages=MESSAGES))
    assert (completion.truncated, completion.finish_reason, completion.text) == (True, "length", "The answer is")
    assert (completion.input_tokens, completion.cached_input_tokens) == (40, 32)
    assert (completion.output_tokens, completion.reasoning_tokens) == (64, 50)
