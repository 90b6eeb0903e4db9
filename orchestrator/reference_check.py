"""``validate``'s check of a dataset against its tools: each example's expected steps run for real.

Every example's expected calls go, in order, through a fresh environment opened by the task's own
seam (``Task.session``: in-process tools, or a session with the MCP server, the same one the
agent uses, so each wait is bounded by the server's timeouts). Then:

- a step the tool refuses or fails is an **error** naming the example and the step: the optimal
  run the example describes cannot happen;
- a final state that differs from ``expected_state`` is an **error**;
- a reference that appears in no tool output and not in the final state is a **warning**: the
  answer may be derived from several results, or the reference may be wrong (999 for a balance
  the tools say is 100). ``validate --strict`` makes warnings errors.

The oracle answers the reference whatever the tools said, so it cannot catch either; this check
and the ``grounded`` simulated model can.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tasks.task import Example, Task
from tasks.tooling import clip

Level = Literal["error", "warning"]
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:\.\d+)?")
MAX_CONCURRENT = 8  # examples checked at once (MCP sessions also wait for the runner's start limiter)


@dataclass(frozen=True)
class Finding:
    level: Level
    task: str
    example_id: str
    message: str
    source: str | None = None  # the example's ``file:line`` in its dataset, when it was read from one

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}task {self.task!r}: example {self.example_id!r}: {self.message}"


def check_references(task: Task, examples: Iterable[Example]) -> list[Finding]:
    """Run every example's expected steps on a fresh environment; the findings, in example order."""
    return asyncio.run(_check_all(task, list(examples)))


async def _check_all(task: Task, examples: Sequence[Example]) -> list[Finding]:
    gate = asyncio.Semaphore(MAX_CONCURRENT)

    async def one(example: Example) -> list[Finding]:
        async with gate:
            return await check_example(task, example)

    found = await asyncio.gather(*(one(example) for example in examples))
    return [finding for findings in found for finding in findings]


async def check_example(task: Task, example: Example) -> list[Finding]:
    """The findings of one example (none when its steps run and its reference is grounded)."""
    def finding(level: Level, message: str) -> Finding:
        return Finding(level, task.name, example.id, message, task.example_sources.get(example.id))

    outputs: list[str] = []
    try:
        async with task.session(example) as environment:
            for index, step in enumerate(example.expected_steps):
                result = await environment.call(step.name, dict(step.arguments))
                if result.error is not None:
                    return [finding("error", f"expected step {index} ({step.name}) fails: {clip(result.error, 200)}")]
                outputs.append(result.content)
            await environment.settle()
            state = environment.state
    except Exception as exc:  # the environment itself failed (an MCP server that exited or hung)
        text = " ".join(str(exc).split())
        return [finding("error", f"its environment failed: {clip(text, 300) or type(exc).__name__}")]
    findings = []
    if example.expected_state is not None and state is not None:
        scored = task.score(example, example.reference, environment)
        if scored.state_correct is False:
            findings.append(finding("error", f"its expected steps leave the state {clip(str(state), 120)!r}, "
                                             f"not the expected_state {clip(str(example.expected_state), 120)!r}"))
    if task.answer_matcher is not None and not example.computed and not grounded(example.reference, [*outputs, *_text(state)]):
        findings.append(finding("warning", f"reference {clip(example.reference, 80)!r} appears in no tool output "
                                           "of its expected steps nor in the final state"))
    return findings


def _text(state: object) -> list[str]:
    return [] if state is None else [str(state)]


def grounded(reference: str, texts: Sequence[str]) -> bool:
    """Whether ``reference`` can be read off ``texts``: as words (case and spacing aside), every
    item of a comma-separated list, or as a number equal to one in the texts."""
    haystack = " ".join(_words(text) for text in texts)
    items = [_words(item) for item in reference.split(",")] if "," in reference else [_words(reference)]
    if all(item and item in haystack for item in items):
        return True
    wanted = _number(reference)
    if wanted is None:
        return False
    return any(_number(found) == wanted for text in texts for found in NUMBER.findall(text))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w.+-]+", " ", text.lower()).split())


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        return None
