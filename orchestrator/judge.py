"""An optional LLM judge: a configured model grades free-text answers against the reference.

The deterministic matchers of each task decide ``correct``; the judge's verdict goes to
``judge_correct`` beside it, so the two can be compared. As in the published benchmark, the judge is
not shown the question for Multiverse Math (it would recompute the arithmetic of our universe).

A simulated judge has no opinion of its own: its script's answer is the deterministic verdict, so
an ``oracle`` judge agrees with the matchers and a ``noisy`` one models a judge that errs.

The judge's request carries its own model entry's settings (temperature, max_tokens, reasoning),
which the config's checks hold against the model catalog like any model's: a forced temperature
would be refused by models that take only the default, and a short max_tokens leaves a model that
thinks by default no room to answer. A judgement that fails (the call, or a reply without a verdict)
leaves ``judge_correct`` None and says why in ``judge_error``, which the sweep's summary counts.

Under the ``paper`` scoring profile the judge applies the published evaluator's rule for free-text
answers (graded against the reference for factual accuracy, wording and extra detail allowed) and,
for Relational Data, its verdict *is* ``correct``, as the published benchmark's LLM grader was.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from orchestrator.agent import ModelCall
from providers.errors import ProviderError
from providers.types import CompletionRequest, Message

QUESTION_HIDDEN = frozenset({"multiverse_math"})
INSTRUCTIONS = (
    "You grade an assistant's answer against a reference answer. The answer is correct when it states "
    "the same result as the reference (ignore formatting and wording; a number may be rounded, but "
    "only to the precision it is written in, so 154091 matches 154091.2 and 154090 does not). "
    "Reply with exactly one word: CORRECT or INCORRECT."
)
# Our own wording of the published QA grader's rule (langchain's "qa" evaluator): the answer is
# graded on factual accuracy against the reference, ignoring style and extra information.
PAPER_INSTRUCTIONS = (
    "You are grading an assistant's answer to a question, given the reference answer. Grade the "
    "answer only on whether it is factually accurate with respect to the reference. Ignore differences "
    "in punctuation, phrasing and formatting; extra information is fine as long as it does not "
    "contradict the reference. Reply with exactly one word: CORRECT or INCORRECT."
)
JUDGED_UNDER_PAPER = frozenset({"relational_data"})  # the tasks whose `correct` the judge decides there
_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)
ERROR_CHARS = 500  # as records.EpisodeRow.error_message


class Judgement(NamedTuple):
    """The judge's verdict (None when it gave none) and, then, why not (``error``)."""

    verdict: bool | None
    error: str | None = None


def judge_prompt(task: str, question: str, reference: str, answer: str) -> str:
    parts = [] if task in QUESTION_HIDDEN else [f"Question: {question}"]
    parts += [f"Reference answer: {reference}", f"Assistant's answer: {answer}"]
    return "\n".join(parts)


def parse_verdict(text: str) -> bool | None:
    """CORRECT → True, INCORRECT → False, anything else → None (no verdict)."""
    match = _VERDICT.search(text or "")
    return None if match is None else match.group(1).upper() == "CORRECT"


def judge_decides(task: str, scoring: str) -> bool:
    """Whether the judge's verdict is the episode's ``correct`` (else it only fills ``judge_correct``)."""
    return scoring == "paper" and task in JUDGED_UNDER_PAPER


async def judge_answer(judge: ModelCall, *, task: str, question: str, reference: str, answer: str,
                       deterministic: bool | None, seed: int, on_attempt: Any,
                       scoring: str = "toolsweep") -> Judgement:
    """The judge's verdict, or why there is none (the call failed; the reply held no verdict)."""
    extra_body = None
    if judge.send_script:
        scripted = "CORRECT" if deterministic else "INCORRECT"
        extra_body = {"script": {"steps": [], "answer": scripted}, "seed": seed}
    request = CompletionRequest(
        model=judge.request_model,
        messages=(Message("system", PAPER_INSTRUCTIONS if scoring == "paper" else INSTRUCTIONS),
                  Message("user", judge_prompt(task, question, reference, answer))),
        temperature=judge.temperature, seed=seed, max_tokens=judge.max_tokens, timeout_s=judge.timeout_s,
        extra_body=extra_body, reasoning=judge.reasoning,
    )
    try:
        completion = await judge.complete(request, model_id=judge.model_id, on_attempt=on_attempt)
    except ProviderError as exc:
        return Judgement(None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    verdict = parse_verdict(completion.text)
    if verdict is None:
        reply = " ".join((completion.text or "").split())
        why = f"no verdict in the reply {reply[:200]!r}" if reply else "an empty reply"
        return Judgement(None, f"{why} (finish reason {completion.finish_reason})"[:ERROR_CHARS])
    return Judgement(verdict)
