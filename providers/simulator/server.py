"""The simulator as an aiohttp server on loopback, started and stopped from async code."""

from __future__ import annotations

import ipaddress
from types import TracebackType
from typing import Any

from aiohttp import web

from providers.simulator import impersonation
from providers.simulator.batch_store import BatchStore
from providers.simulator.batches import add_batch_routes
from providers.simulator.config import BatchConfig, ModelProfile
from providers.simulator.exchange import Simulation, serve
from providers.simulator.replies import policy_reply
from providers.simulator.routes_anthropic import AnthropicFormat
from providers.simulator.routes_google import GoogleFormat
from providers.simulator.routes_openai import OpenAIFormat
from providers.simulator.routes_openai_responses import OpenAIResponsesFormat
from providers.simulator.urls import SimulatorUrls
from providers.simulator.wrappers import with_faults, with_latency
from providers.wire import anthropic_messages, google_genai, openai_chat

# Handlers still running this long after stop() are cancelled (hangs are released at once).
SHUTDOWN_GRACE_S = 0.25
# The layers every model request goes through once validated, outermost first.
HANDLER = with_latency(with_faults(policy_reply))
BATCHES = web.AppKey("batches", BatchStore)


def require_loopback(host: str) -> str:
    """The host as an address to bind; anything but loopback is refused (the simulator has no auth)."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the simulator binds loopback only (127.0.0.1, ::1 or localhost), not {host!r}")
    return host


def make_app(sim: Simulation, batch: BatchConfig | None = None) -> web.Application:
    openai_format, anthropic_format = OpenAIFormat(), AnthropicFormat()
    responses_format = OpenAIResponsesFormat()

    async def chat_completions(request: web.Request) -> web.StreamResponse:
        return await serve(sim, openai_format, request, HANDLER, impersonation.check)

    async def responses(request: web.Request) -> web.StreamResponse:
        return await serve(sim, responses_format, request, HANDLER, impersonation.check)

    async def messages(request: web.Request) -> web.StreamResponse:
        return await serve(sim, anthropic_format, request, HANDLER, impersonation.check)

    google_format = GoogleFormat()

    async def generate_content(request: web.Request) -> web.StreamResponse:
        return await serve(sim, google_format, request, HANDLER, impersonation.check)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(sim.stats.snapshot() | {"batches": request.app[BATCHES].snapshot()})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def not_found(request: web.Request) -> web.Response:
        return web.json_response(unknown_path_body(request), status=404)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
    app.router.add_post("/v1/messages", messages)
    # google-genai calls v1beta or v1 (its default since 1.x), as set by ``api_version``
    app.router.add_post(r"/{version:v1beta|v1}/models/{model:[^/:]+}:{method:generateContent|streamGenerateContent}",
                        generate_content)
    app.router.add_get("/stats", stats)
    app.router.add_get("/health", health)
    app[BATCHES] = add_batch_routes(app, batch)
    app.router.add_route("*", "/{tail:.*}", not_found)  # last: every path no route above serves
    return app


def unknown_path_body(request: web.Request) -> dict[str, Any]:
    """A 404 body in the shape of the API the path or headers point to, as each answers one:
    Google's JSON error under its model paths, Anthropic's when its version header is sent,
    OpenAI's ("Invalid URL") otherwise."""
    path = request.path
    if path.startswith(("/v1beta/", "/v1/models/")):
        return google_genai.error_to_wire(404, f"Method not found: {request.method} {path}")
    if "anthropic-version" in request.headers:
        return anthropic_messages.error_to_wire(404, "Not Found")
    return openai_chat.error_to_wire(404, f"Invalid URL ({request.method} {path})")


class SimulatorServer(SimulatorUrls):
    """``async with SimulatorServer(profiles, seed=1) as sim:`` then point an SDK at
    ``sim.openai_base_url`` or ``sim.anthropic_base_url``.

    ``profiles`` maps a request's ``model`` to its behaviour; the policy names (``oracle``,
    ``noisy``, ``single-call``, ``random``) also work without a profile.
    """

    def __init__(self, profiles: dict[str, ModelProfile] | None = None, *, seed: int = 0,
                 host: str = "127.0.0.1", port: int = 0, batch: BatchConfig | None = None) -> None:
        self._host = require_loopback(host)
        self._port = port
        self._profiles = dict(profiles or {})
        self._seed = seed
        self._batch = batch
        self._batches: BatchStore | None = None
        self._sim: Simulation | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self._sim = Simulation(self._profiles, self._seed)  # its clocks start with the server
        app = make_app(self._sim, self._batch)
        self._batches = app[BATCHES]
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                               shutdown_timeout=SHUTDOWN_GRACE_S)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is None:
            return
        assert self._sim is not None
        self._sim.closing.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def stats(self) -> dict[str, Any]:
        if self._sim is None:
            raise RuntimeError("the simulator has not been started")
        batches = {"batches": self._batches.snapshot()} if self._batches is not None else {}
        return self._sim.stats.snapshot() | batches
