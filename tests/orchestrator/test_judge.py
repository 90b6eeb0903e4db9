"""The LLM judge: prompt, verdict parsing, and failure to reach it."""

from __future__ import annotations

import pytest

from orchestrator.agent import ModelCall
from orchestrator.judge import judge_answer, judge_prompt, parse_verdict
from providers.errors import ProviderUnavailable
from providers.types import Completion


@pytest.mark.parametrize(("text", "verdict"), [
    ("CORRECT", True), ("incorrect.", False), ("The answer is INCORRECT", False),
    ("Correct!", True), ("I am not sure", None), ("", None),
])
def test_verdicts(text, verdict):
    assert parse_verdict(text) is verdict


def test_the_question_is_hidden_for_multiverse_math_only():
    assert "Question" not in judge_prompt("multiverse_math", "What is 2+2?", "5.2", "5.2")
    assert "Question: Who?" in judge_prompt("relational_data", "Who?", "Bob", "bob")


def judge(reply):
    requests = []

    async def complete(request, *, model_id, on_attempt):
        requests.append(request)
        if isinstance(reply, Exception):
            raise reply
        return Completion(reply)

    return ModelCall(model_id="j", provider_name="fake", model="j", request_model="j", complete=complete,
                     send_script=True), requests


async def test_a_simulated_judge_is_scripted_with_the_deterministic_verdict():
    call, requests = judge("INCORRECT")
    verdict = await judge_answer(call, task="relational_data", question="q", reference="a", answer="b",
                                 deterministic=False, seed=3, on_attempt=None)
    assert verdict is False
    assert requests[0].extra_body == {"script": {"steps": [], "answer": "INCORRECT"}, "seed": 3}
    assert requests[0].tools == ()


async def test_an_unreachable_judge_gives_no_verdict():
    call, _ = judge(ProviderUnavailable("down"))
    assert await judge_answer(call, task="t", question="q", reference="a", answer="b",
                              deterministic=True, seed=0, on_attempt=None) is None
