"""A simulated model impersonating a real one: each per-model rule of the catalog is answered with
the real API's error body, in the shape of the format it was asked through, and a model that thinks
by default thinks when the request sets nothing (and one that does not, does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from providers.simulator import ModelProfile, SimulatorServer
from providers.wire import anthropic_messages, google_genai, openai_chat

IMPERSONATED = ("gpt-5", "gpt-4o", "gpt-5.5", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7",
                "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview")
CAT = {"steps": [{"name": "type_letter", "arguments": {"letter": "c"}}], "answer": "c"}
LETTER = {"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]}
ASK = [{"role": "user", "content": "Type: c"}]


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    profiles = {name: ModelProfile(impersonates=name) for name in IMPERSONATED}
    profiles["stand-in"] = ModelProfile(impersonates="gpt-4o")  # any name may stand in for a model
    async with SimulatorServer(profiles, seed=5) as server:
        yield server


async def _post(sim: SimulatorServer, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(sim.base_url + path, json=body,
                                                                headers=headers) as reply:
        return reply.status, await reply.json()


async def chat(sim: SimulatorServer, model: str, **fields: Any) -> tuple[int, Any]:
    body = {"model": model, "messages": ASK, "script": CAT, **fields}
    return await _post(sim, "/v1/chat/completions", body, {"Authorization": "Bearer sk-test"})


async def responses(sim: SimulatorServer, model: str, **fields: Any) -> tuple[int, Any]:
    body = {"model": model, "input": ASK, "script": CAT, "store": False, **fields}
    return await _post(sim, "/v1/responses", body, {"Authorization": "Bearer sk-test"})


async def messages(sim: SimulatorServer, model: str, **fields: Any) -> tuple[int, Any]:
    body = {"model": model, "messages": ASK, "max_tokens": 4096, "script": CAT, **fields}
    return await _post(sim, "/v1/messages", body, {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"})


async def gemini(sim: SimulatorServer, model: str, config: dict[str, Any] | None = None) -> tuple[int, Any]:
    body = {"contents": [{"role": "user", "parts": [{"text": "Type: c"}]}], "script": CAT,
            **({"generationConfig": config} if config else {})}
    return await _post(sim, f"/v1beta/models/{model}:generateContent", body, {"x-goog-api-key": "sk-test"})


def openai_error(message: str, *, code: str | None = None, param: str | None = None) -> tuple[int, Any]:
    return 400, openai_chat.error_to_wire(400, message, code=code, param=param)


def anthropic_error(message: str) -> tuple[int, Any]:
    return 400, anthropic_messages.error_to_wire(400, message)


def gemini_error(message: str) -> tuple[int, Any]:
    return 400, google_genai.error_to_wire(400, message)


# -- the model's rules, with its API's error bodies ------------------------------------------------


async def test_an_effort_the_model_lacks_gets_the_apis_body(sim):
    assert await chat(sim, "gpt-5", reasoning_effort="none") == openai_error(
        "Unsupported value: 'none' is not supported with the 'gpt-5' model. Supported values are: 'minimal', "
        "'low', 'medium', and 'high'.", code="unsupported_value", param="reasoning_effort")
    assert await responses(sim, "gpt-4o", reasoning={"effort": "low"}) == openai_error(
        "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
        code="unsupported_parameter", param="reasoning.effort")
    assert await messages(sim, "claude-haiku-4-5", output_config={"effort": "low"}) == anthropic_error(
        "This model does not support the effort parameter.")
    assert await gemini(sim, "gemini-2.5-flash", {"thinkingConfig": {"thinkingLevel": "LOW"}}) == gemini_error(
        "Thinking level is not supported for this model.")
    assert await gemini(sim, "gemini-3-pro-preview", {"thinkingConfig": {"thinkingLevel": "MEDIUM"}}) == \
        gemini_error("Thinking level MEDIUM is not supported for this model.")


async def test_thinking_the_model_cannot_do_gets_the_apis_body(sim):
    assert await messages(sim, "claude-opus-4-7", thinking={"type": "enabled", "budget_tokens": 2048}) == \
        anthropic_error('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
                        '"output_config.effort" to control thinking behavior.')
    assert await messages(sim, "claude-sonnet-4-5", thinking={"type": "adaptive"}) == anthropic_error(
        "adaptive thinking is not supported on this model")
    assert await gemini(sim, "gemini-2.5-pro", {"thinkingConfig": {"thinkingBudget": 0}}) == gemini_error(
        "The model does not support setting thinking_budget to 0.")
    assert (await gemini(sim, "gemini-2.5-flash", {"thinkingConfig": {"thinkingBudget": 0}}))[0] == 200


async def test_sampling_the_model_refuses_gets_the_apis_body(sim):
    assert await chat(sim, "gpt-5", temperature=0) == openai_error(
        "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is "
        "supported.", code="unsupported_value", param="temperature")
    assert await responses(sim, "gpt-5", temperature=0.5) == openai_error(
        "Unsupported parameter: 'temperature' is not supported with this model.", code="unsupported_parameter",
        param="temperature")
    assert await messages(sim, "claude-opus-4-7", temperature=0.2) == anthropic_error(
        "`temperature` is deprecated for this model.")
    # sampling with reasoning off is what the without_reasoning models accept
    assert (await chat(sim, "gpt-5.5", temperature=0))[0] == 200
    assert (await messages(sim, "claude-haiku-4-5", temperature=0))[0] == 200


async def test_chat_tools_with_reasoning_and_too_many_tokens_get_the_apis_body(sim):
    tools = [{"type": "function", "function": {"name": "type_letter", "parameters": LETTER}}]
    assert await chat(sim, "gpt-5.5", reasoning_effort="low", tools=tools) == openai_error(
        "Function tools with reasoning_effort are not supported for gpt-5.5 in /v1/chat/completions. Please use "
        "/v1/responses instead.", param="reasoning_effort")
    assert (await chat(sim, "gpt-5.5", reasoning_effort="low"))[0] == 200  # no tools: accepted
    assert await chat(sim, "gpt-4o", max_completion_tokens=20000) == openai_error(
        "max_completion_tokens is too large: 20000. This model supports at most 16384 completion tokens, whereas "
        "you provided 20000.", param="max_completion_tokens")
    status, body = await messages(sim, "claude-haiku-4-5", max_tokens=100_000)
    assert status == 400 and body["error"]["message"].startswith("max_tokens: 100000 > 64000")


async def test_a_model_asked_through_an_api_that_does_not_serve_it_is_not_found(sim):
    status, body = await messages(sim, "stand-in")  # gpt-4o, asked on Messages
    assert status == 404 and body["error"]["message"] == "The model `gpt-4o` does not exist."


async def test_every_refusal_is_counted_as_a_bad_request(sim):
    await chat(sim, "gpt-5", reasoning_effort="none")
    await chat(sim, "gpt-5")
    assert sim.stats()["by_model"]["gpt-5"]["bad_request"] == 1


# -- the model's defaults --------------------------------------------------------------------------


async def test_a_model_that_thinks_by_default_thinks_without_a_setting(sim):
    status, reply = await chat(sim, "gpt-5")
    assert status == 200 and reply["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    status, reply = await responses(sim, "gpt-5", include=["reasoning.encrypted_content"])
    assert status == 200 and reply["output"][0]["type"] == "reasoning"
    assert reply["output"][0]["encrypted_content"]
    status, reply = await messages(sim, "claude-opus-4-7")
    assert status == 200 and reply["content"][0]["type"] == "thinking" and reply["content"][0]["signature"]
    status, reply = await gemini(sim, "gemini-2.5-flash")
    assert status == 200 and reply["usageMetadata"]["thoughtsTokenCount"] > 0


async def test_a_model_that_does_not_think_by_default_does_not(sim):
    status, reply = await chat(sim, "gpt-5.5")  # reasons, but its default effort is none
    assert status == 200 and reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    status, reply = await chat(sim, "gpt-5.5", reasoning_effort="high")
    assert status == 200 and reply["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    status, reply = await messages(sim, "claude-haiku-4-5")
    assert status == 200 and reply["content"][0]["type"] != "thinking"
    status, reply = await gemini(sim, "gemini-2.5-flash-lite")
    assert status == 200 and not reply["usageMetadata"].get("thoughtsTokenCount")
