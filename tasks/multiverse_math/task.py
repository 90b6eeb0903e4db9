"""The Multiverse Math task: compose altered arithmetic tools; answers are judged numerically."""

from __future__ import annotations

from functools import partial

from tasks.answers import numeric_answer_matches, paper_number_matches
from tasks.multiverse_math.dataset import DATASETS, load_examples
from tasks.multiverse_math.environment import MultiverseMath
from tasks.scoring import StepRules
from tasks.task import Task
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, PAPER_SCORING

__all__ = ["DATASETS", "build"]

INSTRUCTIONS = (
    "You are solving math questions in an alternate mathematical universe, where the operations have "
    "been altered and give different results than you would expect. Do not guess the answer and do "
    "not rely on what you know about mathematics: compute every value with the provided tools, and "
    "use their outputs. Addition and multiplication are still commutative and associative, but "
    "multiplication no longer distributes over addition. Use as few tool calls as possible. Answer "
    "with the final number only."
)

# The published task's instructions, word for word (double space included), so the paper datasets
# run as published (langchain-ai/langchain-benchmarks, langchain_benchmarks/tool_usage/tasks/
# multiverse_math.py, MIT licence; see data/README.md).
PAPER_INSTRUCTIONS = (
    "You are requested to solve math questions in an alternate "
    "mathematical universe. The operations have been altered to yield "
    "different results than expected. Do not guess the answer or rely on your "
    " innate knowledge of math. Use the provided tools to answer the question. "
    "While associativity and commutativity apply, distributivity does not. Answer "
    "the question using the fewest possible tools. Only include the numeric "
    "response without any clarifications."
)


def build(dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """``multiverse_math``."""
    paper_scoring = scoring == PAPER_SCORING
    return Task(
        name="multiverse_math",
        instructions=INSTRUCTIONS if dataset == DEFAULT_DATASET else PAPER_INSTRUCTIONS,
        examples=load_examples(dataset),
        make_environment=partial(MultiverseMath, precise_numbers=paper_scoring),
        answer_matcher=paper_number_matches if paper_scoring else numeric_answer_matches,
        step_rules=StepRules(commutative=frozenset({"add", "multiply"})),
        dataset=dataset,
        scoring=scoring,
    )
