"""The agent loop on real tasks with a scripted model: statuses, scoring, attempt rows."""

from __future__ import annotations

import itertools
import time

import pytest

import tasks
from orchestrator.agent import ModelCall, example_script, run_episode
from orchestrator.plan import EpisodeSpec
from providers.errors import MalformedToolCall, ProviderUnavailable, Refusal, ServerError
from providers.types import AttemptRecord, Completion, ToolCall


def attempt(outcome: str = "ok", n: int = 1) -> AttemptRecord:
    return AttemptRecord(provider="fake", model_id="m", attempt=n, outcome=outcome, http_status=200,
                         retry_after_s=None, latency_s=0.01, breaker_state="closed", input_tokens=10,
                         output_tokens=5, started_at=time.time())


class ScriptedModel:
    """Replies from a list; each entry is a Completion or an exception to raise."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []

    async def __call__(self, request, *, model_id, on_attempt):
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            on_attempt(attempt(reply.outcome))
            raise reply
        on_attempt(attempt())
        return reply


def oracle_replies(example):
    ids = itertools.count()
    script = example_script(example)
    replies = [Completion("", (ToolCall(f"c{next(ids)}", s["name"], s["arguments"]),))
               for s in script["steps"]]
    return [*replies, Completion(script["answer"])]


def model_call(fake, send_script=False) -> ModelCall:
    return ModelCall(model_id="m", provider_name="fake", model="fake-1", request_model="fake-1",
                     complete=fake, send_script=send_script, price_in_per_mtok=1.0, price_out_per_mtok=2.0)


async def play(task_name, example, fake, max_steps=30, strategy="native", send_script=False):
    task = tasks.get_task(task_name)
    spec = EpisodeSpec("m", task_name, example.id, 0, strategy)
    return await run_episode(run="r", episode_id=spec.episode_id, spec=spec, task=task, example=example,
                             model=model_call(fake, send_script), max_steps=max_steps)


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
async def test_an_oracle_scores_perfectly_and_every_attempt_is_a_row(task_name):
    example = tasks.get_task(task_name).examples[-1]
    fake = ScriptedModel(oracle_replies(example))
    result = await play(task_name, example, fake)
    row = result.episode
    assert row.status == "completed"
    assert (row.correct, row.steps_match, row.step_ratio) == (True, True, 1.0)
    assert row.state_correct in (True, None)
    assert row.n_steps == row.expected_steps == len(example.expected_steps)
    assert len(result.calls) == row.n_attempts == len(example.expected_steps) + 1
    assert [c.step for c in result.calls] == list(range(row.n_attempts))
    assert row.input_tokens == 10 * row.n_attempts
    assert row.cost_usd == pytest.approx((10 * row.n_attempts + 2 * 5 * row.n_attempts) / 1e6)


async def test_the_script_rides_along_only_for_simulated_models():
    example = tasks.get_task("typewriter_single").example("cat") if any(
        e.id == "cat" for e in tasks.get_task("typewriter_single").examples) else \
        tasks.get_task("typewriter_single").examples[3]
    fake = ScriptedModel(oracle_replies(example))
    await play("typewriter_single", example, fake, send_script=True)
    assert fake.requests[0].extra_body == {"script": example_script(example), "seed": 0}
    fake = ScriptedModel(oracle_replies(example))
    await play("typewriter_single", example, fake)
    assert fake.requests[0].extra_body is None


async def test_a_malformed_call_is_fed_back_as_a_tool_error_and_the_episode_goes_on():
    example = tasks.get_task("typewriter_single").examples[0]  # one letter
    broken = Completion("", (ToolCall("c0", "type_letter", {}, '{"letter": ', "not JSON"),))
    replies = [MalformedToolCall("bad json", completion=broken), *oracle_replies(example)]
    fake = ScriptedModel(replies)
    result = await play("typewriter_single", example, fake)
    assert result.episode.status == "completed"
    assert result.episode.tool_calls[0].error and "not valid JSON" in result.episode.tool_calls[0].error
    assert fake.requests[1].messages[-1].role == "tool"
    assert fake.requests[1].messages[-1].tool_call_id == "c0"
    assert fake.requests[1].messages[-1].tool_error  # sent as a failure where the API can say so
    assert not any(m.tool_error for m in fake.requests[-1].messages[4:])  # the good calls' results
    assert [c.outcome for c in result.calls][0] == "malformed"
    assert result.episode.steps_match is False  # the broken call counts as a step taken


@pytest.mark.parametrize(("error", "status", "error_class"), [
    (Refusal("content filter"), "refused", "Refusal"),
    (ProviderUnavailable("gave up", cause=ServerError("boom", status=503)), "provider_failed", "ServerError"),
    (RuntimeError("bug in a tool adapter"), "agent_error", "RuntimeError"),
])
async def test_failures_end_the_episode_with_a_status_and_no_score(error, status, error_class):
    example = tasks.get_task("multiverse_math").examples[0]
    replies = [*oracle_replies(example)[:1], error]
    if isinstance(error, RuntimeError):
        error.outcome = "connection"  # the fake records an attempt for it
    result = await play("multiverse_math", example, ScriptedModel(replies))
    row = result.episode
    assert (row.status, row.error_class) == (status, error_class)
    assert row.correct is None and row.steps_match is None and row.step_ratio is None
    assert row.n_steps == 1


async def test_max_steps_ends_a_looping_model_and_is_still_scored():
    example = tasks.get_task("typewriter_single").examples[-1]
    loop = [Completion("", (ToolCall(f"c{i}", "type_letter", {"letter": "x"}),)) for i in range(5)]
    result = await play("typewriter_single", example, ScriptedModel(loop), max_steps=5)
    row = result.episode
    assert row.status == "max_steps"
    assert row.n_steps == 5 and row.correct is False and row.steps_match is False
    assert row.step_ratio == pytest.approx(5 / len(example.expected_steps))


async def test_each_tool_call_records_what_it_came_to():
    """One episode with every kind of call: unparseable, unknown tool, off the schema, refused by
    the tool, then the good ones; each row of episodes.tool_calls says which it was."""
    example = tasks.get_task("typewriter_single").examples[0]  # one letter
    bad = [
        MalformedToolCall("bad json", completion=Completion("", (ToolCall("c0", "type_letter", {}, '{"letter": ',
                                                                          "not JSON"),))),
        Completion("", (ToolCall("c1", "type_word", {"word": "a"}),)),  # no such tool
        Completion("", (ToolCall("c2", "type_letter", {"char": "a"}),)),  # not its argument
        Completion("", (ToolCall("c3", "type_letter", {"letter": "ab"}),)),  # the tool refuses it
    ]
    result = await play("typewriter_single", example, ScriptedModel([*bad, *oracle_replies(example)]))
    kinds = [row.kind for row in result.episode.tool_calls]
    assert kinds == ["unparseable", "unknown_tool", "schema_misfit", "tool_error", "ok"]
    assert all(row.error for row in result.episode.tool_calls[:4]) and result.episode.tool_calls[4].error is None
