"""The Gemini adapter against canned replies: what it sends, how it reads replies, and the errors
(in Gemini's shapes) each become — exactly one HTTP attempt apiece."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    MalformedToolCall,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
)
from providers.google_provider import GoogleProvider
from providers.types import CompletionRequest, Message, Reasoning, ToolCall, ToolSpec
from providers.wire import google_genai

TOOL = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"}}})
CALL = ToolCall(id="call_1", name="add", arguments={"a": 2}, raw_arguments='{"a": 2}')
MESSAGES = (Message(role="system", content="Be brief."), Message(role="user", content="2+2?"),
            Message(role="assistant", tool_calls=(CALL,)), Message(role="tool", content="4", tool_call_id="call_1",
                                                                  name="add"))
OK_REPLY = google_genai.reply_to_wire(response_id="r", model="m", text="4", input_tokens=9, output_tokens=1)


def request(**overrides) -> CompletionRequest:
    return CompletionRequest(**{"model": "gemini-test", "messages": MESSAGES, **overrides})


def _error(status: int, message: str, details: list | None = None) -> dict:
    return google_genai.error_to_wire(status, message, details=details)


@pytest.fixture
async def google_for():
    made: list[GoogleProvider] = []

    def make(root: str, *, api_key: str = "AIza-test-FAKEKEY0123456789", timeout_s: float = 60.0) -> GoogleProvider:
        provider = GoogleProvider(api_key=api_key, base_url=root, timeout_s=timeout_s)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


async def test_request_fields_sent_and_reply_read(canned, google_for):
    server = await canned(200, OK_REPLY)
    completion = await google_for(server.url).complete(request(
        tools=(TOOL,), temperature=0.5, seed=3, max_tokens=77, extra_body={"script": {"answer": "4"}}))
    assert (completion.text, completion.finish_reason, completion.input_tokens, completion.output_tokens) == (
        "4", "stop", 9, 1)
    headers, body = server.received[0]
    assert headers["x-goog-api-key"] == "AIza-test-FAKEKEY0123456789"
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "2+2?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 2}, "id": "call_1"}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {"result": "4"}, "id": "call_1"}}]},
    ]
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "add", "description": "Add two numbers.", "parametersJsonSchema": TOOL.parameters}]}]
    assert body["generationConfig"] == {"maxOutputTokens": 77, "temperature": 0.5, "seed": 3}
    assert body["script"] == {"answer": "4"}  # extra_body fields go top-level, as the SDK merges them
    assert "toolConfig" not in body and "automaticFunctionCalling" not in json.dumps(body)


async def test_the_path_names_the_model_under_v1beta(google_for):
    paths: list[str] = []

    async def handler(req: web.Request) -> web.Response:
        paths.append(req.path)
        return web.json_response(OK_REPLY)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        provider = google_for(f"http://127.0.0.1:{runner.addresses[0][1]}")
        await provider.complete(request(model="gemini-3-flash"))
        await provider.complete(request(model="models/gemini-3-flash"))
    finally:
        await runner.cleanup()
    assert paths == ["/v1beta/models/gemini-3-flash:generateContent"] * 2


async def test_parallel_results_share_one_user_content():
    second = ToolCall(id="call_2", name="add", arguments={"a": 3})
    messages = (Message("user", "q"), Message("assistant", tool_calls=(CALL, second)),
                Message("tool", "4", tool_call_id="call_1", name="add"),
                Message("tool", "5", tool_call_id="call_2", name="add"))
    _, contents = google_genai.contents_to_wire(messages)
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert [p["functionResponse"]["id"] for p in contents[2]["parts"]] == ["call_1", "call_2"]


async def test_the_replay_goes_back_verbatim_thought_signature_and_all(canned, google_for):
    content = {"role": "model", "parts": [
        {"text": "Let me add.", "thought": True},
        {"functionCall": {"name": "add", "args": {"a": 2}, "id": "c9"}, "thoughtSignature": "c2lnbmVk+/=="},
        {"functionCall": {"name": "add", "args": {"a": 3}, "id": "c10"}},
        {"someFieldThisSdkDoesNotKnow": 1}]}
    reply = {"candidates": [{"content": content, "finishReason": "STOP"}],
             "usageMetadata": {"promptTokenCount": 50, "cachedContentTokenCount": 20, "candidatesTokenCount": 7,
                               "thoughtsTokenCount": 30, "totalTokenCount": 87}}
    server = await canned(200, reply)
    provider = google_for(server.url)
    completion = await provider.complete(request())
    assert [c.id for c in completion.tool_calls] == ["c9", "c10"] and completion.finish_reason == "tool_calls"
    assert (completion.input_tokens, completion.cached_input_tokens) == (50, 20)
    assert (completion.output_tokens, completion.reasoning_tokens) == (37, 30)
    assert completion.reasoning == "Let me add." and completion.text == ""
    follow_up = (*MESSAGES, completion.as_message(),
                 Message("tool", "4", tool_call_id="c9", name="add"), Message("tool", "5", tool_call_id="c10", name="add"))
    await provider.complete(request(messages=follow_up))
    sent = server.received[1][1]["contents"]
    assert sent[3] == content  # byte for byte: the signature, the thought part, the unknown field
    assert [p["functionResponse"]["id"] for p in sent[4]["parts"]] == ["c9", "c10"]


async def test_calls_without_ids_get_local_ones_that_are_never_sent(canned, google_for):
    content = {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 1}}}]}
    server = await canned(200, {"candidates": [{"content": content, "finishReason": "STOP"}]})
    provider = google_for(server.url)
    completion = await provider.complete(request())
    call = completion.tool_calls[0]
    assert call.id.startswith(google_genai.LOCAL_ID_PREFIX)
    rebuilt = Message("assistant", tool_calls=completion.tool_calls)  # no replay: rebuilt from the call
    await provider.complete(request(messages=(Message("user", "q"), rebuilt,
                                              Message("tool", "2", tool_call_id=call.id, name="add"))))
    sent = server.received[1][1]["contents"]
    assert sent[1] == content
    assert sent[2]["parts"][0]["functionResponse"] == {"name": "add", "response": {"result": "2"}}


@pytest.mark.parametrize(("reasoning", "config"), [
    (Reasoning(budget_tokens=2048), {"includeThoughts": True, "thinkingBudget": 2048}),
    (Reasoning(budget_tokens=0), {"includeThoughts": True, "thinkingBudget": 0}),
    (Reasoning(effort="high"), {"includeThoughts": True, "thinkingLevel": "HIGH"}),
    (Reasoning(effort="minimal"), {"includeThoughts": True, "thinkingLevel": "MINIMAL"}),
])
async def test_reasoning_becomes_thinking_config_and_wire_params_say_so(canned, google_for, reasoning, config):
    server = await canned(200, OK_REPLY)
    provider = google_for(server.url)
    req = request(reasoning=reasoning, temperature=1.0)
    await provider.complete(req)
    sent = server.received[0][1]["generationConfig"]
    assert sent["thinkingConfig"] == config
    assert provider.wire_params(req) == sent  # computed by the code that built the body


@pytest.mark.parametrize(("reasoning", "problem"), [
    (Reasoning(effort="xtreme"), "Gemini does not take effort 'xtreme' \\(it takes: minimal, low, medium, high, xhigh\\)"),
    (Reasoning(effort="high", budget_tokens=1024), "not both"),
])
async def test_reasoning_gemini_cannot_express_is_refused_before_any_call(canned, google_for, reasoning, problem):
    server = await canned(200, OK_REPLY)
    with pytest.raises(BadRequest, match=problem):
        await google_for(server.url).complete(request(reasoning=reasoning))
    assert server.received == []


RETRY_429 = _error(429, "You exceeded your current quota.", google_genai.quota_details(per_day=False, retry_delay_s=37))
DAY_429 = _error(429, "You exceeded your current quota.", [
    *google_genai.quota_details(per_day=False, retry_delay_s=None),
    *google_genai.quota_details(per_day=True, retry_delay_s=12)])  # a day's quota spent: RetryInfo or not


@pytest.mark.parametrize(("status", "body", "error"), [
    (429, RETRY_429, RateLimited),
    (429, _error(429, "Resource has been exhausted (e.g. check quota)."), RateLimited),
    (429, DAY_429, QuotaExhausted),
    (503, _error(503, "The model is overloaded. Please try again later."), ServerError),
    (500, _error(500, "An internal error has occurred."), ServerError),
    (504, _error(504, "Deadline expired before operation could complete."), ServerError),
    (400, _error(400, "API key not valid. Please pass a valid API key.", [
        {"@type": google_genai.ERROR_INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]), AuthError),
    (403, _error(403, "Permission denied."), AuthError),
    (400, _error(400, "* GenerateContentRequest.contents: contents is not specified"), BadRequest),
    (404, _error(404, "models/gemini-0 is not found for API version v1beta"), BadRequest),
])
async def test_error_replies(canned, google_for, status, body, error):
    server = await canned(status, body)
    with pytest.raises(error) as caught:
        await google_for(server.url).complete(request())
    assert type(caught.value) is error and caught.value.status == status
    assert body["error"]["message"] in str(caught.value) and body["error"]["status"] in str(caught.value)
    assert len(server.received) == 1  # the SDK's own retry is off
    if body is RETRY_429:
        assert caught.value.retry_after == 37.0  # from RetryInfo, with no Retry-After header
    if error is QuotaExhausted:
        assert "GenerateRequestsPerDayPerProjectPerModel-FreeTier" in str(caught.value)


async def test_retry_after_header_is_the_fallback_when_the_body_has_no_retry_info(canned, google_for):
    server = await canned(429, _error(429, "Resource has been exhausted (e.g. check quota)."), {"Retry-After": "3"})
    with pytest.raises(RateLimited) as caught:
        await google_for(server.url).complete(request())
    assert caught.value.retry_after == 3.0


@pytest.mark.parametrize(("reply", "reason"), [
    ({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 9}},
     "block_reason PROHIBITED_CONTENT"),
    ({"candidates": [{"finishReason": "SAFETY", "safetyRatings": [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]}]},
     "finish_reason SAFETY"),
    ({"candidates": [{"content": {"role": "model", "parts": [{"text": "Sure, the"}]}, "finishReason": "SPII"}]},
     "finish_reason SPII"),
    ({"candidates": [{"content": {"role": "model"}, "finishReason": "BLOCKLIST"}]}, "finish_reason BLOCKLIST"),
])
async def test_filters_are_refusals_with_their_reason(canned, google_for, reply, reason):
    server = await canned(200, reply)
    with pytest.raises(Refusal, match=reason):
        await google_for(server.url).complete(request())


async def test_malformed_function_call_is_a_malformed_outcome(canned, google_for):
    server = await canned(200, {"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL",
                                                "finishMessage": "Malformed function call: print(default_api.add(a="}],
                                "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 6}})
    with pytest.raises(MalformedToolCall, match="MALFORMED_FUNCTION_CALL: Malformed function call: print") as caught:
        await google_for(server.url).complete(request())
    # a broken call like any other API's, so the agent loop feeds it back; its tokens were billed
    completion = caught.value.completion
    assert completion is not None and (completion.input_tokens, completion.output_tokens) == (40, 6)
    (call,) = completion.tool_calls
    assert call.id == google_genai.UNREADABLE_CALL_ID and call.error and not completion.replay


async def test_an_unreadable_call_goes_back_as_user_text_not_a_function_call(canned, google_for):
    """Fed back, the broken call the API never showed is no ``functionCall`` (none without a thought
    signature is taken) and its error no ``functionResponse``: the user says what went wrong."""
    server = await canned(200, OK_REPLY)
    broken = google_genai.completion_from_wire({"candidates": [{"finishReason": "UNEXPECTED_TOOL_CALL"}]})
    (call,) = broken.tool_calls
    messages = (*MESSAGES, broken.as_message(),
                Message(role="tool", content="Error: that call could not be used", tool_call_id=call.id, name=""))
    await google_for(server.url).complete(request(messages=messages))
    contents = server.received[0][1]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[-1]["parts"][-1] == {"text": "Error: that call could not be used"}
    assert not any("functionCall" in p for p in contents[1]["parts"][1:])


def test_every_finish_reason_of_the_sdk_is_mapped_on_purpose():
    from google.genai import types as genai_types

    assert {reason.value for reason in genai_types.FinishReason} <= set(google_genai.FINISH_REASONS)


@pytest.mark.parametrize(("finish", "error"), [
    ("MALFORMED_RESPONSE", ServerError), ("MISSING_THOUGHT_SIGNATURE", BadRequest),
    ("PUP_LIMITED_DISABLED", AuthError), ("SAFETY", Refusal), ("MODEL_ARMOR", Refusal),
    ("UNEXPECTED_TOOL_CALL", MalformedToolCall),
])
async def test_finish_reasons_that_are_not_answers_raise_their_error(canned, google_for, finish, error):
    server = await canned(200, {"candidates": [{"finishReason": finish}]})
    with pytest.raises(error, match=finish):
        await google_for(server.url).complete(request())


@pytest.mark.parametrize("finish", ["RECITATION", "OTHER", "CONTINUATION", "LANGUAGE", "SOMETHING_NEW"])
async def test_finish_reasons_that_cut_the_reply_leave_it_unfinished_not_refused(canned, google_for, finish):
    server = await canned(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": "The answer"}]},
                                                "finishReason": finish}]})
    completion = await google_for(server.url).complete(request())
    assert completion.truncated and not completion.refusal and completion.finish_reason == finish.lower()


async def test_a_refusal_keeps_the_usage_it_was_billed(canned, google_for):
    server = await canned(200, {"candidates": [{"finishReason": "SAFETY"}],
                                "usageMetadata": {"promptTokenCount": 31, "candidatesTokenCount": 2},
                                "modelVersion": "gemini-test-002"})
    with pytest.raises(Refusal) as caught:
        await google_for(server.url).complete(request())
    completion = caught.value.completion
    assert completion is not None and (completion.input_tokens, completion.output_tokens) == (31, 2)
    assert completion.served_model == "gemini-test-002"


async def test_max_tokens_marks_the_reply_truncated(canned, google_for):
    server = await canned(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": "The answer is"}]},
                                                "finishReason": "MAX_TOKENS"}]})
    completion = await google_for(server.url).complete(request())
    assert completion.truncated and completion.finish_reason == "length" and completion.text == "The answer is"


async def test_unreadable_reply_is_a_server_error(canned, google_for):
    server = await canned(200, "<html>proxy</html>")
    with pytest.raises(ServerError, match="unreadable reply"):
        await google_for(server.url).complete(request())


async def test_a_dropped_connection_is_one_attempt_not_a_hidden_resend(google_for):
    """Without retry_options the SDK's aiohttp path sleeps 1-10 s and sends again after a
    connection error; the adapter's options make the failure surface at once, once."""
    arrivals = 0

    async def handler(req: web.Request) -> web.Response:
        nonlocal arrivals
        arrivals += 1
        assert req.transport is not None
        req.transport.abort()
        return web.Response()

    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        started = time.perf_counter()
        with pytest.raises(ConnectionFailed):
            await google_for(f"http://127.0.0.1:{runner.addresses[0][1]}").complete(request())
        assert time.perf_counter() - started < 0.9
        await asyncio.sleep(0.05)
        assert arrivals == 1
    finally:
        await runner.cleanup()


async def test_the_key_never_reaches_an_error_message(canned, google_for):
    key = "AIzaSyD-secret-key-0123456789"
    server = await canned(400, _error(400, f"API key not valid: {key}"))
    with pytest.raises(BadRequest) as caught:
        await google_for(server.url, api_key=key).complete(request())
    assert key not in str(caught.value) and "[redacted]" in str(caught.value)
