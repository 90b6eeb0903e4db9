"""Shared helpers for the task tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tasks import Environment, Example, Task


def replay_steps(task: Task, example: Example) -> Environment:
    """A fresh environment after making exactly the example's expected calls."""
    env = task.environment()
    for step in example.expected_steps:
        env.call(step.name, dict(step.arguments))
    return env


@pytest.fixture
def replay() -> Callable[[Task, Example], Environment]:
    return replay_steps
