"""The LLM judge: prompt, verdict parsing, its own model's settings, and a failed judgement said."""

from __future__ import annotations

import pytest

from orchestrator.agent import ModelCall
from orchestrator.judge import Judgement, judge_answer, judge_prompt, parse_verdict
from providers.errors import ProviderUnavailable
from providers.types import Completion, Reasoning


@pytest.mark.parametrize(("text", "verdict"), [
    ("CORRECT", True), ("incorrect.", False), ("The answer is INCORRECT", False),
    ("Correct!", True), ("I am not sure", None), ("", None),
])
def test_verdicts(text, verdict):
    assert parse_verdict(text) is verdict


def test_the_question_is_hidden_for_multiverse_math_only():
    assert "Question" not in judge_prompt("multiverse_math", "What is 2+2?", "5.2", "5.2")
    assert "Question: Who?" in judge_prompt("relational_data", "Who?", "Bob", "bob")


def judge(reply, **settings):
    requests = []

    async def complete(request, *, model_id, on_attempt):
        requests.append(request)
        if isinstance(reply, Exception):
            raise reply
        return reply if isinstance(reply, Completion) else Completion(reply)

    return ModelCall(model_id="j", provider_name="fake", model="j", request_model="j", complete=complete,
                     send_script=True, **settings), requests


async def ask(call):
    return await judge_answer(call, task="t", question="q", reference="a", answer="b",
                              deterministic=True, seed=0, on_attempt=None)


async def test_a_simulated_judge_is_scripted_with_the_deterministic_verdict():
    call, requests = judge("INCORRECT")
    verdict = await judge_answer(call, task="relational_data", question="q", reference="a", answer="b",
                                 deterministic=False, seed=3, on_attempt=None)
    assert verdict == Judgement(False, None)
    assert requests[0].extra_body == {"script": {"steps": [], "answer": "INCORRECT"}, "seed": 3}
    assert requests[0].tools == ()


async def test_an_unreachable_judge_gives_no_verdict_and_says_why():
    call, _ = judge(ProviderUnavailable("down"))
    assert await ask(call) == Judgement(None, "ProviderUnavailable: down")


@pytest.mark.parametrize(("reply", "error"), [
    (Completion("", finish_reason="length"), "an empty reply (finish reason length)"),
    (Completion("I cannot tell"), "no verdict in the reply 'I cannot tell' (finish reason stop)"),
])
async def test_a_reply_without_a_verdict_is_a_failed_judgement(reply, error):
    call, _ = judge(reply)
    assert await ask(call) == Judgement(None, error)


@pytest.mark.parametrize("settings", [
    {},  # no temperature: the model's default, not a forced 0 (refused by models that take only 1)
    {"temperature": 0.0, "max_tokens": 300},
    {"max_tokens": 9216, "reasoning": Reasoning(effort="high")},
])
async def test_the_judge_sends_its_own_models_settings(settings):
    call, requests = judge("CORRECT", **settings)
    assert await ask(call) == Judgement(True, None)
    sent = requests[0]
    assert (sent.temperature, sent.max_tokens, sent.reasoning) == (call.temperature, call.max_tokens, call.reasoning)
