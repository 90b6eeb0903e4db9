"""Agent policies: given the conversation so far, the next turn (one tool call, or the answer).

A policy knows no task. It follows the caller's script (``conversation.Script``) with more or less
skill; without a script it answers plain text. Each turn's randomness comes from ``Situation.rng``,
derived from the conversation, so a conversation always gets the same behaviour.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from providers.simulator.config import NoiseConfig
from providers.simulator.conversation import (
    PastCall,
    Script,
    ScriptStep,
    conversation_digest,
    last_user_text,
    past_calls,
    script_progress,
)
from providers.simulator.perturb import perturb_answer, perturb_value, random_arguments
from providers.types import Message, ToolSpec

if TYPE_CHECKING:  # the server's side; the budget's estimate reads this module without it
    from providers.simulator.exchange import ToolChoice

SINGLE_CALL_LIMIT = 2
RANDOM_MAX_CALLS = 4
RANDOM_STOP_P = 0.35
SKIPPED_ANSWER = "I have finished using the tools."


@dataclass(frozen=True)
class PlannedCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """A policy's reply before it is put on the wire: text, or one call (never both here)."""

    text: str = ""
    calls: tuple[PlannedCall, ...] = ()


@dataclass
class Situation:
    """What a policy sees: the conversation, the tools offered (none in text mode), the script."""

    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    script: Script | None
    rng: random.Random
    noise: NoiseConfig

    @cached_property
    def calls(self) -> list[PastCall]:
        return past_calls(self.messages)

    @cached_property
    def progress(self) -> int:
        return script_progress(self.calls, self.script) if self.script else 0

    @property
    def tool_names(self) -> list[str]:
        """Names the model may call: those offered, or in text mode those the script uses."""
        if self.tools:
            return [tool.name for tool in self.tools]
        return sorted({step.name for step in self.script.steps}) if self.script else []


def seeded_situation(messages: tuple[Message, ...], tools: tuple[ToolSpec, ...], script: Script | None,
                     noise: NoiseConfig, *, server_seed: int, profile_seed: int,
                     request_seed: int | None = None) -> Situation:
    """A situation whose generator is seeded by the seeds and the conversation so far, so the same
    conversation gets the same behaviour whatever the order in which requests arrive.
    ``request_seed`` (the body's ``seed``) lets repeated runs of one conversation differ."""
    rng = random.Random(f"policy:{server_seed}:{profile_seed}:{request_seed}:{conversation_digest(messages)}")
    return Situation(messages, tools, script, rng, noise)


def _call(name: str, arguments: dict[str, Any]) -> Turn:
    return Turn(calls=(PlannedCall(name, arguments),))


def _step(step: ScriptStep) -> Turn:
    return _call(step.name, dict(step.arguments))


def _plain(situation: Situation) -> Turn:
    return Turn(text=f"Simulated reply to: {last_user_text(situation.messages)[:200]}")


def oracle(situation: Situation) -> Turn:
    """The script exactly: the first step not yet done, then the answer."""
    script = situation.script
    if script is None:
        return _plain(situation)
    if situation.progress < len(script.steps):
        return _step(script.steps[situation.progress])
    return Turn(text=script.answer)


# a tool result in text mode (``providers.text_tools``): the content of its last tag
_TEXT_RESULT = re.compile(r"<tool_result[^>]*>(.*?)</tool_result>", re.DOTALL)


def last_tool_result(messages: tuple[Message, ...]) -> str | None:
    """The text of the last tool result in the conversation (a ``tool`` turn, or a text-mode
    ``<tool_result>`` in a user turn); None before any."""
    for message in reversed(messages):
        if message.role == "tool":
            return message.content
        if message.role == "user" and (found := _TEXT_RESULT.findall(message.content)):
            return str(found[-1])
    return None


def grounded(situation: Situation) -> Turn:
    """The script's calls like the oracle, then an answer taken only from what the tools returned:
    the last tool result's text, never the script's answer. A reference the tools do not produce,
    or a server whose calls fail, scores wrong here where the oracle scores right."""
    script = situation.script
    if script is None:
        return _plain(situation)
    if situation.progress < len(script.steps):
        return _step(script.steps[situation.progress])
    result = last_tool_result(situation.messages)
    return Turn(text=result.strip() if result is not None else SKIPPED_ANSWER)


def _wrong_tool(step: ScriptStep, situation: Situation) -> Turn:
    others = [name for name in situation.tool_names if name != step.name]
    if not others:  # a single tool: call one that does not exist
        return _call(f"{step.name}_v2", dict(step.arguments))
    name = situation.rng.choice(others)
    tool = next((t for t in situation.tools if t.name == name), None)
    return _call(name, random_arguments(tool.parameters, situation.rng) if tool else dict(step.arguments))


def _wrong_argument(step: ScriptStep, situation: Situation) -> Turn:
    if not step.arguments:
        return _wrong_tool(step, situation)
    key = situation.rng.choice(sorted(step.arguments))
    return _call(step.name, {**step.arguments, key: perturb_value(step.arguments[key], situation.rng)})


def _noisy_answer(script: Script, situation: Situation) -> Turn:
    rng, noise = situation.rng, situation.noise
    if rng.random() < noise.skip_answer:
        return Turn(text=SKIPPED_ANSWER)
    if rng.random() < noise.ignore_tool_output:  # answers "from memory", not from the tools
        return Turn(text=perturb_answer(script.answer, rng))
    return Turn(text=script.answer)


def noisy(situation: Situation) -> Turn:
    """The oracle with mistakes drawn from ``NoiseConfig``. A wrong or repeated call does not
    advance the script, so the step is retried next turn; after ``2 * steps + 2`` calls it gives up
    and answers."""
    script = situation.script
    if script is None:
        return _plain(situation)
    rng, noise, done = situation.rng, situation.noise, situation.progress
    if done >= len(script.steps) or len(situation.calls) >= 2 * len(script.steps) + 2:
        return _noisy_answer(script, situation)
    step = script.steps[done]
    if rng.random() < noise.stop_early:
        return _noisy_answer(script, situation)
    if rng.random() < noise.wrong_tool:
        return _wrong_tool(step, situation)
    if rng.random() < noise.wrong_argument:
        return _wrong_argument(step, situation)
    if situation.calls and rng.random() < noise.repeat:
        last = situation.calls[-1]
        return _call(last.name, dict(last.arguments or {}))
    return _step(step)


def single_call(situation: Situation) -> Turn:
    """At most two calls, then an answer: right only when the script needed no more than two."""
    script = situation.script
    if script is None:
        return _plain(situation)
    if len(situation.calls) < SINGLE_CALL_LIMIT and situation.progress < len(script.steps):
        return _step(script.steps[situation.progress])
    if len(script.steps) <= SINGLE_CALL_LIMIT:
        return Turn(text=script.answer)
    return Turn(text=perturb_answer(script.answer, situation.rng))


def random_policy(situation: Situation) -> Turn:
    """Offered tools called at random with schema-shaped arguments for a few turns, then a guess."""
    rng, made = situation.rng, len(situation.calls)
    if situation.tools and made < RANDOM_MAX_CALLS and (made == 0 or rng.random() >= RANDOM_STOP_P):
        tool = rng.choice(situation.tools)
        return _call(tool.name, random_arguments(tool.parameters, rng))
    if situation.script is None:
        return _plain(situation)
    return Turn(text=perturb_answer(situation.script.answer, rng))


# What a model says when the request's tool choice allows no call and it has no answer yet.
NO_CALL_ALLOWED = "I would need a tool for this, and none may be called now."


def obey_tool_choice(turn: Turn, situation: Situation, choice: ToolChoice) -> Turn:
    """The policy's turn as the request's tool choice allows, the way a model constrained by its
    decoder behaves: ``none`` turns a call into text (the answer if the script is done, else a
    word that it cannot go on); a required call (to one of ``choice.names`` when given) is the
    planned one if allowed, else the script's next step if allowed, else an allowed tool with
    schema-shaped arguments."""
    allowed = set(choice.names) if choice.names else {tool.name for tool in situation.tools}
    if choice.mode == "none":
        if not turn.calls:
            return turn
        script = situation.script
        done = script is not None and situation.progress >= len(script.steps)
        return Turn(text=script.answer if done and script else turn.text or NO_CALL_ALLOWED)
    if turn.calls and all(call.name in allowed for call in turn.calls):
        return turn
    if choice.mode == "auto" and not turn.calls:  # limited to some tools, but free not to call
        return turn
    script = situation.script
    if script is not None and situation.progress < len(script.steps) and script.steps[situation.progress].name in allowed:
        return _step(script.steps[situation.progress])
    tools = [tool for tool in situation.tools if tool.name in allowed]
    if not tools:
        return turn
    tool = tools[0] if len(tools) == 1 else situation.rng.choice(tools)
    return _call(tool.name, random_arguments(tool.parameters, situation.rng))


POLICIES: dict[str, Callable[[Situation], Turn]] = {
    "oracle": oracle, "noisy": noisy, "single-call": single_call, "random": random_policy, "grounded": grounded,
}
