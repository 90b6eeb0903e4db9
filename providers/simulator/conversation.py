"""What a policy reads in a conversation: the caller's script, the calls made so far, a digest.

Calls count whether they were native (``tool_calls`` / ``tool_use``) or written as text
(``<tool_call>{"name": …, "arguments": …}</tool_call>``, the text strategy's format).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from providers.types import Message

TOOL_CALL_TAG = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


class ScriptStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Script(BaseModel):
    """The optimal run of one task example, attached by the caller: the calls in order, then the answer."""

    model_config = ConfigDict(extra="forbid")

    steps: list[ScriptStep] = Field(default_factory=list)
    answer: str = ""


@dataclass(frozen=True)
class PastCall:
    """A call the assistant already made; ``arguments`` is None when its text did not parse."""

    name: str
    arguments: dict[str, Any] | None

    def matches(self, step: ScriptStep) -> bool:
        return self.name == step.name and self.arguments == step.arguments


def format_text_call(name: str, arguments: dict[str, Any]) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def _text_calls(text: str) -> list[PastCall]:
    calls = []
    for body in TOOL_CALL_TAG.findall(text):
        try:
            value = json.loads(body)
        except json.JSONDecodeError:
            calls.append(PastCall(name="", arguments=None))
            continue
        if not isinstance(value, dict):
            calls.append(PastCall(name="", arguments=None))
            continue
        arguments = value.get("arguments")
        calls.append(PastCall(name=str(value.get("name", "")), arguments=arguments if isinstance(arguments, dict) else None))
    return calls


def past_calls(messages: tuple[Message, ...]) -> list[PastCall]:
    """Every call the assistant made so far, in order: native calls, then text calls of each turn."""
    calls: list[PastCall] = []
    for message in messages:
        if message.role != "assistant":
            continue
        calls += [PastCall(call.name, None if call.error else call.arguments) for call in message.tool_calls]
        if "<tool_call>" in message.content:
            calls += _text_calls(message.content)
    return calls


def script_progress(calls: list[PastCall], script: Script) -> int:
    """How many script steps are done: steps matched in order, calls that match nothing skipped.

    For an oracle conversation this is the number of calls; after a mistake (a wrong or repeated
    call) the next step is still the first one not yet done.
    """
    done = 0
    for call in calls:
        if done < len(script.steps) and call.matches(script.steps[done]):
            done += 1
    return done


def conversation_digest(messages: tuple[Message, ...]) -> str:
    """A hash of what was said (roles, text, call names and arguments; not the random call ids),
    so that the same conversation draws the same behaviour whatever the order of arrival."""
    canonical = [
        [m.role, m.content, [[c.name, c.arguments_json] for c in m.tool_calls]] for m in messages
    ]
    return hashlib.blake2b(json.dumps(canonical).encode(), digest_size=16).hexdigest()


def last_user_text(messages: tuple[Message, ...]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user" and m.content), "")
