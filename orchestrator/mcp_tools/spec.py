"""What ToolSweep needs to know about an MCP tool server, as a small picklable value."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Literal

AnswerRule = Literal["short", "number", "state"]
# The defaults of ``McpServer`` and of the sweep config's ``tasks[].mcp`` (``McpSettings``)
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 30.0
DEFAULT_INSTRUCTIONS = (
    "Answer the user's request by using the provided tools. Do not guess: look every fact up with the "
    "tools, and make every change the request asks for with them. Give a short final answer."
)


@dataclass(frozen=True)
class McpServer:
    """An MCP server as a task environment.

    ``command`` (stdio: ToolSweep starts it, one process per episode, so every episode has fresh
    state) or ``url`` (streamable HTTP: the server runs already; ``reset`` restores its state
    before each episode). ``dataset`` is the absolute path of the JSONL examples. ``reset`` and
    ``state`` name tools of the server that the model is not offered: ``reset`` runs before each
    episode, ``state``'s text after it is the final state compared with ``expected_state``.
    ``env_from`` names environment variables passed on to the server (their values stay out of
    configs and logs). ``start_timeout_s`` bounds connecting and listing the tools, ``call_timeout_s`` each call.
    """

    dataset: str
    command: tuple[str, ...] | None = None
    url: str | None = None
    cwd: str | None = None
    env_from: tuple[str, ...] = ()  # environment variables passed on to a command
    reset: str | None = None
    state: str | None = None
    answers: AnswerRule = "short"
    instructions: str = DEFAULT_INSTRUCTIONS
    start_timeout_s: float = START_TIMEOUT_S
    call_timeout_s: float = CALL_TIMEOUT_S
    max_sessions: int | None = None  # servers open at once per runner process (None: no limit)
    hidden: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server takes either command (stdio) or url (streamable HTTP)")
        object.__setattr__(self, "hidden", frozenset(n for n in (self.reset, self.state) if n))

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "streamable-http"

    @property
    def where(self) -> str:
        """How to name this server in a message."""
        return self.url if self.url is not None else " ".join(self.command or ())

    def argv(self) -> list[str]:
        """The command to start: ``python`` means the interpreter ToolSweep itself runs on, so a
        server written in Python finds the same installed packages (the ``mcp`` SDK among them)."""
        assert self.command is not None
        head, *rest = self.command
        return [sys.executable if head in ("python", "python3") else head, *rest]

    def environ(self) -> dict[str, str]:
        """What the server process gets on top of the SDK's safe default environment (PATH, HOME, …):
        ``PYTHONPATH`` when set, and the variables ``env_from`` names, read when the server starts."""
        names = ("PYTHONPATH", *self.env_from)
        return {"PYTHONUNBUFFERED": "1", **{name: os.environ[name] for name in names if name in os.environ}}
