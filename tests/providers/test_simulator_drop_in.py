"""The simulator as any client's provider: each official SDK with its default settings (only the
base URL pointed at the simulator; google-genai's API version left as it is), plain and streaming,
completing a tool loop in all four formats; then what the simulator enforces on such clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from providers.simulator import FaultConfig, ModelProfile, SimulatorServer
from providers.simulator.config import TruncateConfig

KEY = "sk-test-drop-in"
WORD = "cat"
SCRIPT: dict[str, Any] = {"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in WORD],
                          "answer": WORD}
SCHEMA = {"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]}
EXPECTED = [("type_letter", {"letter": c}) for c in WORD]
PROMPT = f"Type: {WORD}"
ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    profiles = {"thinker": ModelProfile(reasoning=True), "cutter": ModelProfile(truncate=TruncateConfig(rate=1.0)),
                "breaker": ModelProfile(faults=FaultConfig(midstream=1.0))}
    async with SimulatorServer(profiles, seed=3) as server:
        yield server


# -- each SDK's tool loop, plain and streaming -------------------------------------------------


async def chat_loop(sim: SimulatorServer, *, stream: bool) -> tuple[list[Any], str]:
    tools: Any = [{"type": "function", "function": {"name": "type_letter", "description": "Type.", "parameters": SCHEMA}}]
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    calls: list[Any] = []
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        for _ in range(6):
            if stream:
                async with client.chat.completions.stream(
                        model="oracle", messages=messages, tools=tools, extra_body={"script": SCRIPT},
                        stream_options={"include_usage": True}) as events:
                    completion = await events.get_final_completion()
                assert completion.usage is not None and completion.usage.completion_tokens > 0
            else:
                completion = await client.chat.completions.create(
                    model="oracle", messages=messages, tools=tools, extra_body={"script": SCRIPT})
            message = completion.choices[0].message
            if not message.tool_calls:
                return calls, message.content or ""
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                calls.append((call.function.name, json.loads(call.function.arguments)))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": "ok"})
    raise AssertionError("no answer")


async def responses_loop(sim: SimulatorServer, *, stream: bool) -> tuple[list[Any], str]:
    tools: Any = [{"type": "function", "name": "type_letter", "description": "Type.", "parameters": SCHEMA}]
    items: list[Any] = [{"role": "user", "content": PROMPT}]
    calls: list[Any] = []
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        for _ in range(6):
            if stream:
                async with client.responses.stream(model="oracle", input=items, tools=tools,
                                                   extra_body={"script": SCRIPT}) as events:
                    response = await events.get_final_response()
            else:
                response = await client.responses.create(model="oracle", input=items, tools=tools,
                                                         extra_body={"script": SCRIPT})
            made = [item for item in response.output if item.type == "function_call"]
            if not made:
                return calls, response.output_text
            items += [item.model_dump(exclude_none=True) for item in response.output]
            for call in made:
                calls.append((call.name, json.loads(call.arguments)))
                items.append({"type": "function_call_output", "call_id": call.call_id, "output": "ok"})
    raise AssertionError("no answer")


async def messages_loop(sim: SimulatorServer, *, stream: bool, model: str = "oracle",
                        **fields: Any) -> tuple[list[Any], str]:
    tools: Any = [{"name": "type_letter", "description": "Type.", "input_schema": SCHEMA}]
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    calls: list[Any] = []
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=sim.anthropic_base_url, max_retries=0) as client:
        for _ in range(6):
            if stream:
                async with client.messages.stream(model=model, max_tokens=4096, messages=messages, tools=tools,
                                                  extra_body={"script": SCRIPT}, **fields) as events:
                    message = await events.get_final_message()
            else:
                message = await client.messages.create(model=model, max_tokens=4096, messages=messages, tools=tools,
                                                       extra_body={"script": SCRIPT}, **fields)
            uses = [block for block in message.content if block.type == "tool_use"]
            if not uses:
                return calls, "".join(block.text for block in message.content if block.type == "text")
            messages.append({"role": "assistant", "content": [block.model_dump(exclude_none=True)
                                                               for block in message.content]})
            calls += [(use.name, use.input) for use in uses]
            messages.append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": use.id, "content": "ok"} for use in uses]})
    raise AssertionError("no answer")


async def gemini_loop(sim: SimulatorServer, *, stream: bool) -> tuple[list[Any], str]:
    client = genai.Client(api_key=KEY, http_options=genai_types.HttpOptions(
        base_url=sim.google_base_url, retry_options=genai_types.HttpRetryOptions(attempts=1)))
    config = genai_types.GenerateContentConfig(
        tools=[genai_types.Tool(function_declarations=[genai_types.FunctionDeclaration(
            name="type_letter", description="Type.", parameters_json_schema=SCHEMA)])],
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
        http_options=genai_types.HttpOptions(extra_body={"script": SCRIPT}))
    contents: list[Any] = [genai_types.Content(role="user", parts=[genai_types.Part(text=PROMPT)])]
    calls: list[Any] = []
    try:
        for _ in range(6):
            if stream:
                parts: list[Any] = []
                async for chunk in await client.aio.models.generate_content_stream(
                        model="oracle", contents=contents, config=config):
                    parts += chunk.candidates[0].content.parts if chunk.candidates[0].content else []
                content = genai_types.Content(role="model", parts=parts)
            else:
                response = await client.aio.models.generate_content(model="oracle", contents=contents, config=config)
                content = response.candidates[0].content
            made = [part.function_call for part in content.parts or () if part.function_call]
            if not made:
                return calls, "".join(part.text or "" for part in content.parts or ())
            contents.append(content)
            calls += [(call.name, call.args) for call in made]
            contents.append(genai_types.Content(role="user", parts=[genai_types.Part.from_function_response(
                name=call.name, response={"result": "ok"}) for call in made]))
    finally:
        await client.aio.aclose()
    raise AssertionError("no answer")


LOOPS = {"chat": chat_loop, "responses": responses_loop, "messages": messages_loop, "gemini": gemini_loop}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api", sorted(LOOPS))
async def test_each_sdk_completes_a_tool_loop_with_its_defaults(sim, api, stream):
    calls, answer = await LOOPS[api](sim, stream=stream)
    assert (calls, answer) == (EXPECTED, WORD)
    assert sim.stats()["by_model"]["oracle"] == {"ok": len(WORD) + 1}


async def test_a_thinking_model_streams_signed_thinking_the_sdk_sends_back(sim):
    calls, answer = await messages_loop(sim, stream=True, model="thinker",
                                        thinking={"type": "enabled", "budget_tokens": 2048})
    assert (calls, answer) == (EXPECTED, WORD)  # each turn's streamed signature verified on the next
    assert sim.stats()["by_model"]["thinker"] == {"ok": len(WORD) + 1}


# -- raw streams, event for event --------------------------------------------------------------


async def raw_events(sim: SimulatorServer, path: str, body: dict[str, Any],
                     headers: dict[str, str]) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    async with aiohttp.ClientSession() as session, session.post(sim.base_url + path, json=body,
                                                                headers=headers) as reply:
        assert reply.status == 200 and reply.content_type == "text/event-stream"
        name = None
        async for raw in reply.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = line[len("data: "):]
                events.append((name, data if data == "[DONE]" else json.loads(data)))
                name = None
    return events


async def test_anthropic_stream_event_order(sim):
    body = {"model": "oracle", "max_tokens": 100, "stream": True, "script": SCRIPT,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": [{"name": "type_letter", "description": "Type.", "input_schema": SCHEMA}]}
    names = [name for name, _ in await raw_events(sim, "/v1/messages", body, ANTHROPIC_HEADERS)]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    assert names[2] == "content_block_start" and "content_block_delta" in names and "content_block_stop" in names


async def test_chat_stream_ends_with_usage_then_done(sim):
    body = {"model": "oracle", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hello there, simulator"}]}
    events = await raw_events(sim, "/v1/chat/completions", body, {"Authorization": f"Bearer {KEY}"})
    assert events[-1] == (None, "[DONE]")
    usage = events[-2][1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0
    assert events[-3][1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(event["choices"][0]["delta"].get("content") or "" for _, event in events[:-2])
    assert text.startswith("Simulated reply to: hello there")


async def test_a_stream_breaks_part_way_as_drawn(sim):
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        with pytest.raises(openai.APIConnectionError):
            async with client.chat.completions.stream(
                    model="breaker", messages=[{"role": "user", "content": "a long enough question " * 5}]) as events:
                await events.get_final_completion()
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=sim.anthropic_base_url, max_retries=0) as client:
        with pytest.raises(anthropic.APIStatusError) as raised:
            async with client.messages.stream(model="breaker", max_tokens=500,
                                              messages=[{"role": "user", "content": "a question " * 9}]) as events:
                await events.get_final_message()
        assert "overloaded_error" in str(raised.value)
    assert sim.stats()["by_model"]["breaker"] == {"connection": 1, "http_5xx": 1}


# -- Gemini under v1 and v1beta ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v1beta"])
async def test_gemini_answers_under_both_versions_and_its_404s_are_json(sim, version):
    headers = {"x-goog-api-key": KEY}
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sim.base_url}/{version}/models/oracle:generateContent", json=body,
                                headers=headers) as reply:
            assert reply.status == 200 and (await reply.json())["candidates"][0]["finishReason"] == "STOP"
        async with session.post(f"{sim.base_url}/{version}/models/gemini-0:generateContent", json=body,
                                headers=headers) as reply:
            error = (await reply.json())["error"]
            assert (reply.status, error["code"], error["status"]) == (404, 404, "NOT_FOUND")
            assert error["message"].startswith(f"models/gemini-0 is not found for API version {version}")
        async with session.post(f"{sim.base_url}/{version}/models/oracle:countThoughts", json=body,
                                headers=headers) as reply:
            assert reply.status == 404 and (await reply.json())["error"]["status"] == "NOT_FOUND"
        async with session.post(f"{sim.base_url}/{version}/models/oracle:streamGenerateContent", json=body,
                                headers=headers) as reply:  # without alt=sse: one JSON array
            chunks = await reply.json()
            assert reply.status == 200 and chunks[-1]["candidates"][0]["finishReason"] == "STOP"


# -- tool_choice -------------------------------------------------------------------------------


async def test_tool_choice_is_honoured_in_every_format(sim):
    tools: Any = [{"type": "function", "function": {"name": "type_letter", "description": "T.", "parameters": SCHEMA}}]
    done = [{"role": "user", "content": "hi"}]  # no script: the policy would answer in text
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        forced = await client.chat.completions.create(model="oracle", messages=done, tools=tools,
                                                      tool_choice="required")
        assert forced.choices[0].message.tool_calls[0].function.name == "type_letter"
        free = await client.chat.completions.create(model="oracle", messages=[{"role": "user", "content": PROMPT}],
                                                    tools=tools, tool_choice="none", extra_body={"script": SCRIPT})
        assert free.choices[0].message.tool_calls is None and free.choices[0].message.content
        flat: Any = [{"type": "function", "name": "type_letter", "description": "T.", "parameters": SCHEMA}]
        named = await client.responses.create(model="oracle", input="hi", tools=flat,
                                              tool_choice={"type": "function", "name": "type_letter"})
        assert [item.type for item in named.output] == ["function_call"]
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=sim.anthropic_base_url, max_retries=0) as client:
        message = await client.messages.create(
            model="oracle", max_tokens=100, messages=done, tool_choice={"type": "any"},
            tools=[{"name": "type_letter", "description": "T.", "input_schema": SCHEMA}])
        assert message.stop_reason == "tool_use"
    async with aiohttp.ClientSession() as session:
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "tools": [{"functionDeclarations": [{"name": "type_letter", "description": "T.",
                                                     "parametersJsonSchema": SCHEMA}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["type_letter"]}}}
        async with session.post(f"{sim.base_url}/v1beta/models/oracle:generateContent", json=body,
                                headers={"x-goog-api-key": KEY}) as reply:
            parts = (await reply.json())["candidates"][0]["content"]["parts"]
            assert parts[0]["functionCall"]["name"] == "type_letter"


# -- broken histories --------------------------------------------------------------------------


async def status_and_message(sim: SimulatorServer, path: str, body: dict[str, Any],
                             headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(sim.base_url + path, json=body,
                                                                headers=headers) as reply:
        return reply.status, (await reply.json())["error"]["message"]


async def test_broken_tool_histories_get_the_apis_400s(sim):
    bearer = {"Authorization": f"Bearer {KEY}"}
    call = {"id": "call_1", "type": "function", "function": {"name": "type_letter", "arguments": "{}"}}
    user = {"role": "user", "content": "go"}
    orphan = await status_and_message(sim, "/v1/chat/completions", {"model": "oracle", "messages": [
        user, {"role": "tool", "tool_call_id": "call_1", "content": "ok"}]}, bearer)
    assert orphan == (400, "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                           "message with 'tool_calls'.")
    unanswered = await status_and_message(sim, "/v1/chat/completions", {"model": "oracle", "messages": [
        user, {"role": "assistant", "tool_calls": [call]}, user]}, bearer)
    assert unanswered[0] == 400 and unanswered[1].endswith("did not have response messages: call_1")
    no_output = await status_and_message(sim, "/v1/responses", {"model": "oracle", "input": [
        user, {"type": "function_call", "call_id": "call_9", "name": "type_letter", "arguments": "{}"}]}, bearer)
    assert no_output == (400, "No tool output found for function call call_9.")
    use = {"type": "tool_use", "id": "toolu_1", "name": "type_letter", "input": {}}
    status, message = await status_and_message(sim, "/v1/messages", {"model": "oracle", "max_tokens": 9, "messages": [
        user, {"role": "assistant", "content": [use]}, user]}, ANTHROPIC_HEADERS)
    assert status == 400 and message.startswith("messages.1: `tool_use` ids were found without `tool_result` "
                                                 "blocks immediately after: toolu_1.")
    status, message = await status_and_message(sim, "/v1/messages", {"model": "oracle", "max_tokens": 9, "messages": [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "ok"}]}]},
        ANTHROPIC_HEADERS)
    assert status == 400 and message.startswith("messages.0.content.0: unexpected `tool_use_id`")
    assert sim.stats()["by_model"]["oracle"] == {"bad_request": 5}


async def test_broken_gemini_histories_get_googles_400s(sim):
    key = {"x-goog-api-key": KEY}
    path = "/v1beta/models/oracle:generateContent"
    user = {"role": "user", "parts": [{"text": "go"}]}

    def calls(*names: str) -> dict[str, Any]:
        return {"role": "model", "parts": [{"functionCall": {"name": n, "args": {}}} for n in names]}

    def responses(*names: str) -> dict[str, Any]:
        return {"role": "user", "parts": [{"functionResponse": {"name": n, "response": {"result": "ok"}}}
                                          for n in names]}

    said = {"role": "model", "parts": [{"text": "done"}]}
    broken = {
        "opens with a call turn": [calls("a"), responses("a"), user],
        "a call turn after a model turn": [user, said, calls("a"), responses("a")],
        "responses after the user's turn": [user, responses("a")],
        "one response to two calls": [user, calls("a", "b"), responses("a")],
    }
    for why, contents in broken.items():
        status, message = await status_and_message(sim, path, {"contents": contents}, key)
        assert status == 400, why
        assert message.startswith("Please ensure that"), (why, message)
    assert (await status_and_message(sim, path, {"contents": broken["one response to two calls"]}, key))[1] == (
        "Please ensure that the number of function response parts is equal to the number of function call parts "
        "of the function call turn.")
    async with aiohttp.ClientSession() as session, session.post(
            sim.base_url + path, headers=key, json={"contents": [user, calls("a", "b"), responses("a", "b")]}) as reply:
        assert reply.status == 200  # each call answered, in one response turn


# -- truncation, headers and the rest ----------------------------------------------------------


async def test_replies_are_cut_by_the_cap_and_by_the_profiles_rate(sim):
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        capped = await client.chat.completions.create(
            model="oracle", max_completion_tokens=3, messages=[{"role": "user", "content": "a long question " * 5}])
        assert capped.choices[0].finish_reason == "length" and len(capped.choices[0].message.content or "") <= 12
        cut = await client.responses.create(model="cutter", input="a question to cut part way")
        assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
        stopped = await client.chat.completions.create(
            model="oracle", stop=["question"], messages=[{"role": "user", "content": "a question"}])
        assert stopped.choices[0].message.content == "Simulated reply to: a "
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=sim.anthropic_base_url, max_retries=0) as client:
        message = await client.messages.create(
            model="cutter", max_tokens=4096, messages=[{"role": "user", "content": PROMPT}],
            extra_body={"script": SCRIPT}, tools=[{"name": "type_letter", "description": "T.", "input_schema": SCHEMA}])
        assert message.stop_reason == "max_tokens"


async def test_anthropic_version_is_required_and_interleaved_thinking_lifts_the_budget_cap(sim):
    body = {"model": "thinker", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}],
            "thinking": {"type": "enabled", "budget_tokens": 4000}}
    assert await status_and_message(sim, "/v1/messages", body, {"x-api-key": KEY}) == (
        400, "anthropic-version: header is required")
    status, message = await status_and_message(sim, "/v1/messages", body, ANTHROPIC_HEADERS)
    assert status == 400 and message.startswith("`max_tokens` must be greater than `thinking.budget_tokens`")
    beta = {**ANTHROPIC_HEADERS, "anthropic-beta": "interleaved-thinking-2025-05-14"}
    async with aiohttp.ClientSession() as session, session.post(sim.base_url + "/v1/messages", json=body,
                                                                headers=beta) as reply:
        assert reply.status == 200 and (await reply.json())["content"][0]["type"] == "thinking"


async def test_previous_response_id_continues_a_stored_response_and_n_is_refused(sim):
    flat: Any = [{"type": "function", "name": "type_letter", "description": "T.", "parameters": SCHEMA}]
    async with openai.AsyncOpenAI(api_key=KEY, base_url=sim.openai_base_url, max_retries=0) as client:
        first = await client.responses.create(model="oracle", input=PROMPT, tools=flat, extra_body={"script": SCRIPT})
        call = first.output[0]
        second = await client.responses.create(
            model="oracle", previous_response_id=first.id, tools=flat, extra_body={"script": SCRIPT},
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "ok"}])
        assert second.output[0].arguments == '{"letter": "a"}'  # the stored call counted as made
        with pytest.raises(openai.BadRequestError, match="not found"):
            await client.responses.create(model="oracle", input="x", store=False, previous_response_id="resp_x")
        unstored = await client.responses.create(model="oracle", input="x", store=False)
        with pytest.raises(openai.BadRequestError, match=f"Previous response with id '{unstored.id}' not found"):
            await client.responses.create(model="oracle", input="y", previous_response_id=unstored.id)
        with pytest.raises(openai.BadRequestError, match="'n' must be 1"):
            await client.chat.completions.create(model="oracle", n=2, messages=[{"role": "user", "content": "x"}])
