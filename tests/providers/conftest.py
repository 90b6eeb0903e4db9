"""Fixtures for provider tests: a simulator on loopback, adapters pointed at it, a minimal agent
loop, and a canned-reply server for replies the simulator never sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from providers.anthropic_provider import AnthropicProvider
from providers.openai_provider import OpenAIProvider
from providers.simulator import SimulatorServer
from providers.types import Completion, CompletionRequest, Message

FAKE_KEY = "sk-test-FAKEKEY0123456789abcdef"  # what adapters under test send; must never surface
FORMATS = ("openai", "anthropic")

Adapter = OpenAIProvider | AnthropicProvider


@pytest.fixture
def fake_key() -> str:
    return FAKE_KEY


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(seed=1) as server:
        yield server


@pytest.fixture(params=FORMATS)
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def adapter_for() -> AsyncIterator[Callable[..., Adapter]]:
    """``adapter_for(fmt, base_url_root, api_key=FAKE_KEY)``: an adapter of that wire format, closed at teardown."""
    made: list[Adapter] = []

    def make(fmt: str, root: str, *, api_key: str = FAKE_KEY) -> Adapter:
        adapter: Adapter = (OpenAIProvider(api_key=api_key, base_url=root + "/v1") if fmt == "openai"
                            else AnthropicProvider(api_key=api_key, base_url=root))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


@pytest.fixture
def provider(fmt: str, sim: SimulatorServer, adapter_for: Callable[..., Adapter]) -> Adapter:
    return adapter_for(fmt, sim.base_url)


async def _run_episode(provider: Adapter, request: CompletionRequest,
                       *, max_turns: int = 10) -> tuple[list[tuple[str, dict[str, Any]]], Completion]:
    messages = list(request.messages)
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(max_turns):
        completion = await provider.complete(
            CompletionRequest(model=request.model, messages=tuple(messages), tools=request.tools,
                              max_tokens=request.max_tokens, timeout_s=request.timeout_s, extra_body=request.extra_body))
        messages.append(completion.as_message())
        if not completion.tool_calls:
            return calls, completion
        for call in completion.tool_calls:
            calls.append((call.name, call.arguments))
            messages.append(Message(role="tool", content="OK", tool_call_id=call.id, name=call.name))
    raise AssertionError(f"no answer after {max_turns} turns")


@pytest.fixture
def run_episode() -> Callable[..., Awaitable[tuple[list[tuple[str, dict[str, Any]]], Completion]]]:
    """``calls, final = await run_episode(provider, request)``: a minimal agent loop answering
    every tool call with "OK" until a reply without calls."""
    return _run_episode


@dataclass
class CannedServer:
    """A loopback server answering every POST with one fixed reply; it keeps what it received."""

    url: str
    received: list[tuple[Mapping[str, str], Any]] = field(default_factory=list)


@pytest.fixture
async def canned() -> AsyncIterator[Callable[..., Awaitable[CannedServer]]]:
    """``server = await canned(status, body, headers=None)``: ``body`` a dict is sent as JSON, a str
    as is. ``server.url`` is the root URL."""
    runners: list[web.AppRunner] = []

    async def start(status: int, body: Any, headers: dict[str, str] | None = None) -> CannedServer:
        server = CannedServer(url="")

        async def handler(request: web.Request) -> web.Response:
            server.received.append((request.headers.copy(), await request.json()))
            if isinstance(body, str):
                return web.Response(status=status, text=body, headers=headers, content_type="application/json")
            return web.json_response(body, status=status, headers=headers)

        app = web.Application()
        app.router.add_post("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return server

    yield start
    for runner in runners:
        await runner.cleanup()
