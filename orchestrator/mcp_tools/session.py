"""One episode's connection to an MCP server, through the official ``mcp`` SDK's client.

``McpSession`` is an :class:`~tasks.environment.EpisodeEnvironment`: opening it starts the server
(stdio: a new process, so the episode has fresh state) or connects to it (streamable HTTP: the
``reset`` tool restores its state), lists the tools and runs the example's ``setup`` calls;
closing it stops the process (the SDK closes stdin, then SIGTERM, then SIGKILL, each wait
bounded). Every wait on the server is bounded by the spec's timeouts.

What the model did wrong is a tool error it reads (an unknown tool, arguments the server refuses,
a result flagged ``is_error``). What the server did wrong — it exited, closed the connection,
hung past a timeout — raises :class:`~tasks.environment.EnvironmentFailure` naming the cause, and
the episode ends as an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Hashable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import IO, Any

import anyio
import jsonschema
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp_types import CONNECTION_CLOSED, INVALID_PARAMS, REQUEST_TIMEOUT

from orchestrator.mcp_tools.spec import McpServer
from tasks.environment import Arguments, EnvironmentFailure, Tool, ToolCallRecord, ToolResult
from tasks.task import ExpectedCall
from tasks.tooling import clip

MAX_TOOL_PAGES = 100  # a server whose tool listing never ends cannot hang an episode
STDERR_TAIL = 300  # characters of the server's stderr quoted in a failure
# Per event loop (asyncio primitives bind to one) and server: the turn of a shared server reset
# per episode, and the cap on servers open at once (``max_sessions``).
_shared_server_locks: dict[tuple[int, str], asyncio.Lock] = {}
_session_slots: dict[tuple[int, str], asyncio.Semaphore] = {}


class StartGate:
    """How many stdio servers may be starting at once in this process (per event loop).

    A server start is an interpreter (or a binary) starting and importing its SDK: ~0.9 s of CPU
    for a Python server. Dozens started at once on a small machine all miss their start timeout
    together, so starts take turns: at most the machine's cores at first, halved after a start
    that took over a quarter of its timeout, one more after a quick one (under an eighth). The
    start timeout counts from a start's turn, not from its place in the queue.
    """

    def __init__(self, limit: int) -> None:
        self.ceiling = max(1, limit)
        self.limit = self.ceiling
        self.starting = 0
        self._turn = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._turn:
            await self._turn.wait_for(lambda: self.starting < self.limit)
            self.starting += 1

    async def release(self, took_s: float | None, timeout_s: float) -> None:
        """End a start; ``took_s`` None when it failed (a failure says nothing of the machine's load)."""
        async with self._turn:
            self.starting -= 1
            if took_s is not None and took_s > timeout_s / 4:
                self.limit = max(1, self.limit // 2)
            elif took_s is not None and took_s < timeout_s / 8:
                self.limit = min(self.ceiling, self.limit + 1)
            self._turn.notify_all()


_start_gates: dict[int, StartGate] = {}


def start_gate() -> StartGate:
    """This event loop's gate on server starts (asyncio primitives bind to one loop)."""
    return _start_gates.setdefault(id(asyncio.get_running_loop()), StartGate(os.cpu_count() or 1))


class McpSession:
    """A fresh MCP environment for one episode (an async context manager)."""

    def __init__(self, spec: McpServer, setup: Sequence[ExpectedCall] = ()) -> None:
        self.spec = spec
        self.setup = tuple(setup)
        self.tools: list[Tool] = []
        self.calls: list[ToolCallRecord] = []
        self.state: Hashable | None = None
        self.listed: list[Any] = []  # the server's tools as listed, hidden ones included
        self._client: Client | None = None
        self._stack = AsyncExitStack()
        self._stderr: IO[str] | None = None
        self._lock: asyncio.Lock | None = None
        self._slot: asyncio.Semaphore | None = None
        self.queued_s = 0.0  # waiting for the shared server, a session slot or a start's turn

    async def __aenter__(self) -> McpSession:
        try:
            await self._open()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def _open(self) -> None:
        spec = self.spec
        key = (id(asyncio.get_running_loop()), spec.where)
        queued = time.perf_counter()
        if spec.url is not None and spec.reset is not None:
            # one shared server, reset per episode: its episodes take turns in this process
            self._lock = _shared_server_locks.setdefault(key, asyncio.Lock())
            await self._lock.acquire()
        if spec.max_sessions is not None:
            self._slot = _session_slots.setdefault(key, asyncio.Semaphore(spec.max_sessions))
            await self._slot.acquire()
        gate = start_gate() if spec.command is not None else None
        if gate is not None:
            await gate.acquire()
        started = time.perf_counter()
        self.queued_s = started - queued
        took: float | None = None
        try:
            # asyncio's timeout, not an anyio cancel scope: the client's own scopes stay open after
            # this block, and anyio scopes must close in the order they opened
            async with asyncio.timeout(spec.start_timeout_s):
                self._client = await self._stack.enter_async_context(self._connect())
                self.listed = await self._list_tools()
            took = time.perf_counter() - started
        except TimeoutError:
            raise EnvironmentFailure(f"MCP server {spec.where} did not start and list its tools within "
                                     f"{spec.start_timeout_s:g}s{self._stderr_tail()}") from None
        except EnvironmentFailure:
            raise
        except Exception as exc:
            doing = "failed while starting" if spec.url is None else "cannot be reached (is it running?)"
            raise EnvironmentFailure(f"MCP server {spec.where} {doing}: {_describe(exc)}{self._stderr_tail()}") from None
        finally:
            if gate is not None:
                await gate.release(took, spec.start_timeout_s)
        self.tools = [Tool(t.name, t.description or t.title or t.name, dict(t.input_schema), _remote)
                      for t in self.listed if t.name not in spec.hidden]
        names = {t.name for t in self.listed}
        missing = sorted(spec.hidden - names)
        if missing:
            raise EnvironmentFailure(f"MCP server {spec.where} has no tool {missing[0]!r} "
                                     f"(its tools: {', '.join(sorted(names))})")
        if spec.reset is not None:
            await self._run_hidden(spec.reset, {}, "reset")
        for step in self.setup:
            await self._run_hidden(step.name, dict(step.arguments), "setup")

    def _connect(self) -> Client:
        spec = self.spec
        if spec.command is not None:
            self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
            head, *args = spec.argv()
            params = StdioServerParameters(command=head, args=args, env=spec.environ(), cwd=spec.cwd)
            return Client(stdio_client(params, errlog=self._stderr), cache=None,
                          read_timeout_seconds=spec.call_timeout_s)
        assert spec.url is not None
        return Client(spec.url, cache=None, read_timeout_seconds=spec.call_timeout_s)

    async def _list_tools(self) -> list[Any]:
        assert self._client is not None
        listed: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            page = await self._client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return listed
        raise EnvironmentFailure(f"MCP server {self.spec.where} listed more than {MAX_TOOL_PAGES} pages of tools")

    async def call(self, name: str, arguments: Arguments = None) -> ToolResult:
        """Run one of the model's tool calls on the server and record it."""
        arguments = {} if arguments is None else arguments
        offered = {t.name: t for t in self.tools}
        if not isinstance(name, str) or name not in offered:
            result = ToolResult.failed(f"unknown tool {clip(repr(name))}; valid tools: {', '.join(sorted(offered))}",
                              "unknown_tool")
        elif not isinstance(arguments, Mapping):
            result = ToolResult.failed(f"{name}: arguments must be a JSON object, got {clip(repr(arguments))}",
                              "schema_misfit")
        else:
            result = await self._call(name, dict(arguments), "tool call")
            if result.kind != "schema_misfit" and not _fits(offered[name].parameters, arguments):
                # the server is the judge of its own schema and ran the call; the figure counts
                # what the model sent against the schema the server listed
                result = replace(result, kind="schema_misfit")
        recorded = dict(arguments) if isinstance(arguments, Mapping) else {}
        self.calls.append(ToolCallRecord(str(name), recorded, result.content, result.error, result.kind))
        return result

    async def settle(self) -> None:
        """Read the final state through the ``state`` tool, when the server has one."""
        if self.spec.state is not None:
            self.state = (await self._run_hidden(self.spec.state, {}, "state check")).content

    async def _run_hidden(self, name: str, arguments: dict[str, Any], purpose: str) -> ToolResult:
        result = await self._call(name, arguments, purpose)
        if result.error is not None:
            raise EnvironmentFailure(f"MCP server {self.spec.where}: {purpose} call {name} failed: {clip(result.error, 200)}")
        return result

    async def _call(self, name: str, arguments: dict[str, Any], purpose: str) -> ToolResult:
        assert self._client is not None
        timeout = self.spec.call_timeout_s
        try:
            with anyio.fail_after(timeout):
                answer = await self._client.call_tool(name, arguments)
        except TimeoutError:
            raise EnvironmentFailure(f"MCP server {self.spec.where} did not answer the {purpose} {name} "
                                     f"within {timeout:g}s{self._stderr_tail()}") from None
        except MCPError as exc:
            if exc.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                raise EnvironmentFailure(f"MCP server {self.spec.where} failed during the {purpose} {name}: "
                                         f"{exc.message}{self._stderr_tail()}") from None
            # a protocol-level refusal of this call: invalid params is the schema's
            return ToolResult.failed(f"{name}: {exc.message}", "schema_misfit" if exc.code == INVALID_PARAMS else "tool_error")
        except Exception as exc:
            raise EnvironmentFailure(f"MCP server {self.spec.where} failed during the {purpose} {name}: "
                                     f"{_describe(exc)}{self._stderr_tail()}") from None
        text = render_content(answer.content, answer.structured_content)
        return ToolResult.failed(text) if answer.is_error else ToolResult(text)

    async def _close(self) -> None:
        try:
            # No scope of our own around this: the client's scopes opened first and must close
            # first. The SDK bounds it: stdio closes stdin, waits 2 s, then SIGTERM and SIGKILL.
            await self._stack.aclose()
        except Exception:  # noqa: S110 - a server that fails while stopping has nothing more to say
            pass
        finally:
            self._client = None
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
            if self._lock is not None and self._lock.locked():
                self._lock.release()
                self._lock = None
            if self._slot is not None:
                self._slot.release()
                self._slot = None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = self._stderr.read()
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return f" (its stderr ends: {lines[-1][-STDERR_TAIL:]})" if lines else ""


def render_content(content: Sequence[Any], structured: Any = None) -> str:
    """A tool result as the text the model reads: its text blocks, else its structured value."""
    texts = [block.text for block in content if getattr(block, "type", None) == "text"]
    if texts:
        return "\n".join(texts)
    if structured is not None:
        return json.dumps(structured, ensure_ascii=False, sort_keys=True)
    return "\n".join(f"[{getattr(block, 'type', 'content')}]" for block in content)


def _fits(schema: dict[str, Any], arguments: Mapping[str, Any]) -> bool:
    """Whether ``arguments`` fit a tool's listed input schema (JSON Schema, checked with the
    ``jsonschema`` package the ``mcp`` SDK itself depends on); a schema that is itself invalid
    is the server's problem, not the model's, so anything fits it."""
    try:
        return bool(jsonschema.Draft202012Validator(schema).is_valid(dict(arguments)))
    except (jsonschema.exceptions.SchemaError, TypeError, ValueError):
        return True


def _remote(**_: Any) -> Any:
    raise TypeError("an MCP tool runs on its server: call it through McpSession.call")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {clip(text, 200)}" if text else type(exc).__name__
