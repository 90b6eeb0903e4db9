"""Every example of every task is solvable by its own expected steps, and scores perfectly."""

from __future__ import annotations

import pytest

import tasks

ALL_EXAMPLES = [
    pytest.param(name, example.id, id=f"{name}:{example.id}")
    for name in tasks.TASK_NAMES
    for example in tasks.get_task(name).examples
]


@pytest.mark.parametrize(("task_name", "example_id"), ALL_EXAMPLES)
def test_expected_steps_replay_to_a_perfect_score(task_name, example_id, replay):
    task = tasks.get_task(task_name)
    example = task.example(example_id)
    env = replay(task, example)

    assert [c.error for c in env.calls] == [None] * len(example.expected_steps)
    score = task.score(example, example.reference, env)
    assert score.correct is True
    assert score.state_correct is (None if example.expected_state is None else True)
    assert score.steps_match is True
    assert score.step_ratio == 1.0


@pytest.mark.parametrize("task_name", tasks.TASK_NAMES)
def test_doing_nothing_scores_zero_steps(task_name):
    task = tasks.get_task(task_name)
    example = task.examples[-1]
    score = task.score(example, "", task.environment())
    assert score.steps_match is False
    assert score.step_ratio == 0.0
    assert score.correct is False
