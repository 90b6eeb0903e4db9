"""How much a simulated reasoning model thinks: tokens grow with the effort asked for and never pass a budget."""

from __future__ import annotations

import pytest

from providers.simulator.replies import thought_tokens
from providers.types import Reasoning

TEXT = "x" * 400  # ~100 tokens at 4 characters a token


@pytest.mark.parametrize(("reasoning", "tokens"), [
    (Reasoning(effort="minimal"), 200),
    (Reasoning(effort="low"), 400),
    (Reasoning(effort="medium"), 800),
    (Reasoning(effort="high"), 1600),
    (Reasoning(effort="max"), 3200),
    (Reasoning(budget_tokens=1024), 400),  # 1024 / 256 = 4x
    (Reasoning(budget_tokens=4096), 1600),  # 16x
    (Reasoning(budget_tokens=300), 100),  # 1x: a small budget thinks little
    (Reasoning(effort="high", budget_tokens=1024), 1024),  # 1600 wanted, capped by the budget
])
def test_thought_tokens_by_hand(reasoning, tokens):
    assert thought_tokens(TEXT, reasoning) == tokens


def test_higher_effort_thinks_more():
    efforts = ["minimal", "low", "medium", "high", "xhigh", "max"]
    costs = [thought_tokens(TEXT, Reasoning(effort=e)) for e in efforts]
    assert costs == sorted(costs) and len(set(costs)) == len(costs)
