"""An optional LLM judge: a configured model grades free-text answers against the reference.

The deterministic matchers of each task decide ``correct``; the judge's verdict goes to
``judge_correct`` beside it, so the two can be compared. As in the published benchmark, the judge is
not shown the question for Multiverse Math (it would recompute the arithmetic of our universe).

A simulated judge has no opinion of its own: its script's answer is the deterministic verdict, so
an ``oracle`` judge agrees with the matchers and a ``noisy`` one models a judge that errs.

Under the ``paper`` scoring profile the judge applies the published evaluator's rule for free-text
answers (graded against the reference for factual accuracy, wording and extra detail allowed) and,
for Relational Data, its verdict *is* ``correct``, as the published benchmark's LLM grader was.
"""

from __future__ import annotations

import re
from typing import Any

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
                       scoring: str = "toolsweep") -> bool | None:
    """The judge's verdict, or None when it gave none or could not be reached."""
    extra_body = None
    if judge.send_script:
        verdict = "CORRECT" if deterministic else "INCORRECT"
        extra_body = {"script": {"steps": [], "answer": verdict}, "seed": seed}
    # A one-word verdict at temperature 0; a reasoning judge keeps its own settings instead (thinking
    # takes only the default temperature, and its budget needs the model's max_tokens).
    thinks = judge.reasoning is not None
    request = CompletionRequest(
        model=judge.request_model,
        messages=(Message("system", PAPER_INSTRUCTIONS if scoring == "paper" else INSTRUCTIONS),
                  Message("user", judge_prompt(task, question, reference, answer))),
        temperature=judge.temperature if thinks or judge.temperature is not None else 0.0, seed=seed,
        max_tokens=judge.max_tokens if thinks else 16, timeout_s=judge.timeout_s, extra_body=extra_body,
        reasoning=judge.reasoning,
    )
    try:
        completion = await judge.complete(request, model_id=judge.model_id, on_attempt=on_attempt)
    except ProviderError:
        return None
    return parse_verdict(completion.text)
