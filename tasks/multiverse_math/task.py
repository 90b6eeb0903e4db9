"""The Multiverse Math task: compose altered arithmetic tools; answers are judged numerically."""

from __future__ import annotations

from tasks.answers import numeric_answer_matches
from tasks.multiverse_math.dataset import load_examples
from tasks.multiverse_math.environment import MultiverseMath
from tasks.scoring import StepRules
from tasks.task import Task

INSTRUCTIONS = (
    "You are solving math questions in an alternate mathematical universe, where the operations have "
    "been altered and give different results than you would expect. Do not guess the answer and do "
    "not rely on what you know about mathematics: compute every value with the provided tools, and "
    "use their outputs. Addition and multiplication are still commutative and associative, but "
    "multiplication no longer distributes over addition. Use as few tool calls as possible. Answer "
    "with the final number only."
)


def build() -> Task:
    """``multiverse_math``."""
    return Task(
        name="multiverse_math",
        instructions=INSTRUCTIONS,
        examples=load_examples(),
        make_environment=MultiverseMath,
        answer_matcher=numeric_answer_matches,
        step_rules=StepRules(commutative=frozenset({"add", "multiply"})),
    )
