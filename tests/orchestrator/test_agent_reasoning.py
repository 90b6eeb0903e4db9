"""The agent loop with reasoning models: paused turns, truncated answers, reasoning and cached
tokens, their cost, and the request parameters each episode records."""

from __future__ import annotations

import json
import time

import pytest

import tasks
from orchestrator.agent import ModelCall, run_episode
from orchestrator.capacity import gate_shares
from orchestrator.judge import judge_answer
from orchestrator.plan import EpisodeSpec
from providers.types import AttemptRecord, Completion, CompletionRequest, Reasoning
from tests.orchestrator.test_agent import oracle_replies

THOUGHT = ({"type": "thinking", "thinking": "let me see", "signature": "sig"},)


class ThinkingModel:
    """Replies from a list; each attempt reports 100 input tokens (40 cached) and 30 output tokens
    (20 of them reasoning)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[CompletionRequest] = []

    async def __call__(self, request, *, model_id, on_attempt):
        self.requests.append(request)
        on_attempt(AttemptRecord(provider="fake", model_id=model_id, attempt=1, outcome="ok", http_status=200,
                                 retry_after_s=None, latency_s=0.01, breaker_state="closed", input_tokens=100,
                                 output_tokens=30, started_at=time.time(), reasoning_tokens=20,
                                 cached_input_tokens=40))
        return self.replies.pop(0)


def sent_params(request: CompletionRequest) -> dict:
    """A stand-in for a provider's wire_params: what it would send for this request."""
    return {"reasoning_effort": request.reasoning.effort, "max_completion_tokens": request.max_tokens,
            "messages_seen": len(request.messages)}


def thinking_call(fake, **fields) -> ModelCall:
    defaults = dict(model_id="m@high", provider_name="fake", model="fake-1", request_model="fake-1",
                    complete=fake, max_tokens=4096, reasoning=Reasoning(effort="high"), reasoning_label="high",
                    wire_params=sent_params)
    return ModelCall(**{**defaults, **fields})


async def play(task_name, example, fake, max_steps=30, **fields):
    task = tasks.get_task(task_name)
    spec = EpisodeSpec("m@high", task_name, example.id, 0, "native")
    return await run_episode(run="r", episode_id=spec.episode_id, spec=spec, task=task, example=example,
                             model=thinking_call(fake, **fields), max_steps=max_steps)


def example_of(task_name: str, steps: int):
    return next(e for e in tasks.get_task(task_name).examples if len(e.expected_steps) == steps)


async def test_every_request_carries_the_reasoning_setting_and_the_first_ones_parameters_are_recorded():
    example = example_of("typewriter_single", 3)
    fake = ThinkingModel(oracle_replies(example))
    row = (await play("typewriter_single", example, fake)).episode
    assert row.correct is True and row.reasoning == "high"
    assert {r.reasoning for r in fake.requests} == {Reasoning(effort="high")}
    assert json.loads(row.request_params) == {"reasoning_effort": "high", "max_completion_tokens": 4096,
                                              "messages_seen": 2}


async def test_without_wire_params_nothing_is_recorded():
    example = example_of("typewriter_single", 1)
    row = (await play("typewriter_single", example, ThinkingModel(oracle_replies(example)), wire_params=None,
                      reasoning=None, reasoning_label=None)).episode
    assert (row.request_params, row.reasoning) == (None, None)


async def test_reasoning_and_cached_tokens_add_up_and_cached_input_bills_at_its_price():
    example = example_of("typewriter_single", 2)
    result = await play("typewriter_single", example, ThinkingModel(oracle_replies(example)),
                        price_in_per_mtok=2.0, price_out_per_mtok=10.0, price_cached_in_per_mtok=0.5)
    row, n = result.episode, 3  # two calls and the answer
    assert [(c.reasoning_tokens, c.cached_input_tokens) for c in result.calls] == [(20, 40)] * n
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens, row.reasoning_tokens) == (
        100 * n, 40 * n, 30 * n, 20 * n)
    # 60 uncached input at $2, 40 cached at $0.50, 30 output (reasoning included) at $10, per call
    assert row.cost_usd == pytest.approx(n * (60 * 2.0 + 40 * 0.5 + 30 * 10.0) / 1e6)


async def test_without_a_cached_price_cached_input_bills_as_input():
    example = example_of("typewriter_single", 1)
    row = (await play("typewriter_single", example, ThinkingModel(oracle_replies(example)),
                      price_in_per_mtok=2.0, price_out_per_mtok=10.0)).episode
    assert row.cost_usd == pytest.approx(2 * (100 * 2.0 + 30 * 10.0) / 1e6)


async def test_a_paused_turn_is_sent_back_as_it_is_without_a_new_user_turn():
    example = example_of("multiverse_math", 2)
    paused = Completion("", finish_reason="pause_turn", replay=THOUGHT)
    replies = oracle_replies(example)
    fake = ThinkingModel([replies[0], paused, *replies[1:]])
    result = await play("multiverse_math", example, fake)
    row = result.episode
    assert (row.status, row.correct, row.steps_match) == ("completed", True, True)
    after_pause = fake.requests[2].messages
    assert after_pause[-1].role == "assistant" and after_pause[-1].replay == THOUGHT
    assert after_pause[:-1] == fake.requests[1].messages  # nothing else was added
    assert len(result.calls) == len(replies) + 1


async def test_pauses_are_bounded_by_max_steps():
    example = example_of("multiverse_math", 2)
    fake = ThinkingModel([Completion("", finish_reason="pause_turn", replay=THOUGHT) for _ in range(4)])
    row = (await play("multiverse_math", example, fake, max_steps=4)).episode
    assert (row.status, row.n_attempts, row.answer) == ("max_steps", 4, None)


async def test_a_truncated_answer_is_recorded_but_never_correct():
    example = example_of("typewriter_single", 2)
    replies = oracle_replies(example)
    cut = Completion(replies[-1].text, finish_reason="length", truncated=True)  # the right text, cut off
    row = (await play("typewriter_single", example, ThinkingModel([*replies[:-1], cut]))).episode
    assert (row.status, row.truncated, row.answer) == ("completed", True, replies[-1].text)
    assert row.correct is False
    assert (row.state_correct, row.steps_match) == (True, True)  # the trajectory is still scored


async def test_a_truncated_reply_with_tool_calls_goes_on():
    example = example_of("typewriter_single", 2)
    replies = oracle_replies(example)
    first = Completion("", replies[0].tool_calls, finish_reason="length", truncated=True)
    row = (await play("typewriter_single", example, ThinkingModel([first, *replies[1:]]))).episode
    assert (row.status, row.truncated, row.correct) == ("completed", False, True)


async def test_the_judge_keeps_its_models_settings_reasoning_or_not():
    # nothing forced: a temperature of 0 is refused by models that take only the default, and a
    # short max_tokens leaves a model that thinks by default no room to answer
    def judge(reasoning, temperature=None):
        fake = ThinkingModel([Completion("CORRECT")])
        return fake, ModelCall(model_id="j", provider_name="fake", model="j", request_model="j", complete=fake,
                               max_tokens=8000, temperature=temperature, reasoning=reasoning)

    for reasoning, temperature, expected in [(Reasoning(budget_tokens=2048), None, (None, 8000)),
                                             (None, None, (None, 8000)), (None, 0.3, (0.3, 8000))]:
        fake, model = judge(reasoning, temperature)
        judgement = await judge_answer(model, task="typewriter_single", question="q", reference="a", answer="a",
                                       deterministic=True, seed=0, on_attempt=lambda record: None)
        request = fake.requests[0]
        assert judgement == (True, None)
        assert (request.temperature, request.max_tokens) == expected and request.reasoning == reasoning


async def test_a_truncated_answer_is_never_sent_to_the_judge(monkeypatch):
    from orchestrator import runner as runner_module
    from orchestrator.agent import EpisodeResult
    from orchestrator.config import SweepConfig
    from orchestrator.judge import Judgement
    from tests.orchestrator.sweep_helpers import episode_row

    config = SweepConfig.model_validate({
        "name": "j", "tasks": ["typewriter_single"], "judge": "sim",
        "models": [{"id": "sim", "provider": "simulated", "model": "oracle"}]})
    spec = EpisodeSpec("sim", "typewriter_single", tasks.get_task("typewriter_single").examples[0].id, 0, "native")
    asked: list[str] = []

    async def judge(*args, answer, **kwargs):
        asked.append(answer)
        return Judgement(True)

    monkeypatch.setattr(runner_module, "judge_answer", judge)
    runner = runner_module.EpisodeRunner(config, run="j", runner="runner-0", shares=gate_shares(config, 1, 0),
                                         simulator_url="http://127.0.0.1:9")
    for truncated in (True, False):
        row = runner_module.EpisodeRow(**{**episode_row(spec), "answer": f"cut={truncated}", "truncated": truncated})

        async def episode(row=row, **kwargs):
            return EpisodeResult(row)

        monkeypatch.setattr(runner_module, "run_episode", episode)
        assert (await runner._episode(spec)).episode.judge_correct is (not truncated)
    assert asked == ["cut=False"]
    await runner.close()
