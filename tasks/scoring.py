"""Per-episode scores, the tool-call sequence comparison, and the standard error of a proportion.

Step matching (``steps_match``, the ``toolsweep`` scoring profile): the calls made must pair up one-to-one with the expected steps —
in order, or as a multiset when the example says order does not matter. A call pairs with a step
when the tool names agree and every argument the step fixes is equal: numbers within a relative
tolerance of 1e-2, strings case-insensitively after stripping. :class:`StepRules` lets a task say
which tools are interchangeable, which take their two arguments in either order, and which
arguments are the agent's free choice (a search query). The ``paper`` profile compares tool names
only (:func:`score_step_names`), as the published evaluator did.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

ARGUMENT_REL_TOL = 1e-2


@dataclass(frozen=True)
class Score:
    """The deterministic scores of one episode."""

    correct: bool  # the answer matches the reference (or, for stateful tasks, the state does)
    state_correct: bool | None  # final state equals the expected state; None where the task has none
    steps_match: bool  # the calls made equal the expected steps
    step_ratio: float  # calls made / calls expected


@dataclass(frozen=True)
class StepRules:
    """How a task's steps are compared beyond plain equality."""

    aliases: Mapping[str, str] = field(default_factory=dict)  # tool -> the tool it duplicates
    commutative: frozenset[str] = frozenset()  # two-argument tools whose arguments may be swapped
    free_arguments: Mapping[str, frozenset[str]] = field(default_factory=dict)  # tool -> unjudged arguments


class Step(Protocol):
    """Anything with a tool name and arguments: an expected step or a recorded call."""

    @property
    def name(self) -> str: ...

    @property
    def arguments(self) -> Mapping[str, Any]: ...


def score_steps(
    expected: Sequence[Step], calls: Sequence[Step], order_matters: bool, rules: StepRules
) -> tuple[bool, float]:
    """Return ``(steps_match, step_ratio)`` for the calls an episode made."""
    ratio = len(calls) / len(expected)

    def same(step: Step, call: Step) -> bool:
        return step_matches(step, call, rules)

    if len(calls) != len(expected):
        return False, ratio
    if order_matters:
        return all(same(s, c) for s, c in zip(expected, calls, strict=True)), ratio
    return has_perfect_matching(expected, calls, same), ratio


def score_step_names(expected: Sequence[Step], calls: Sequence[Step], order_matters: bool) -> tuple[bool, float]:
    """The published evaluator's step check: ``(steps_match, step_ratio)`` from tool names alone.

    No arguments and no aliases: the exact list of names when order matters, the sorted lists
    otherwise; the ratio is calls made over calls expected, uncapped.
    """
    wanted = [step.name for step in expected]
    made = [call.name for call in calls]
    same = made == wanted if order_matters else sorted(made) == sorted(wanted)
    return same, len(made) / len(wanted)


def step_matches(step: Step, call: Step, rules: StepRules) -> bool:
    """Whether one call satisfies one expected step."""
    if rules.aliases.get(step.name, step.name) != rules.aliases.get(call.name, call.name):
        return False
    free = rules.free_arguments.get(step.name, frozenset())
    fixed = {k: v for k, v in step.arguments.items() if k not in free}
    if _fixed_arguments_equal(fixed, call.arguments):
        return True
    if step.name in rules.commutative and len(fixed) == 2:
        (k1, v1), (k2, v2) = fixed.items()
        return _fixed_arguments_equal({k1: v2, k2: v1}, call.arguments)
    return False


def _fixed_arguments_equal(fixed: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    return all(key in given and values_equal(value, given[key]) for key, value in fixed.items())


def values_equal(expected: Any, given: Any) -> bool:
    """Argument equality: numbers with relative tolerance, strings case-insensitively."""
    if isinstance(expected, bool) or isinstance(given, bool):
        return expected is given
    if isinstance(expected, int | float) and isinstance(given, int | float):
        return math.isclose(expected, given, rel_tol=ARGUMENT_REL_TOL, abs_tol=1e-9)
    if isinstance(expected, str) and isinstance(given, str):
        return expected.strip().casefold() == given.strip().casefold()
    if isinstance(expected, list) and isinstance(given, list):
        return len(expected) == len(given) and all(map(values_equal, expected, given))
    return bool(expected == given)


def has_perfect_matching(left: Sequence[Any], right: Sequence[Any], same: Callable[[Any, Any], bool]) -> bool:
    """Whether ``left`` and ``right`` pair up one-to-one under ``same`` (augmenting paths)."""
    if len(left) != len(right):
        return False
    owner: list[int | None] = [None] * len(left)  # left index -> right index paired with it

    def place(r: int, seen: set[int]) -> bool:
        for i, item in enumerate(left):
            if i not in seen and same(item, right[r]):
                seen.add(i)
                holder = owner[i]
                if holder is None or place(holder, seen):
                    owner[i] = r
                    return True
        return False

    return all(place(r, set()) for r in range(len(right)))


def binomial_stderr(p: float, n: int) -> float:
    """Standard error of a proportion ``p`` over ``n`` trials, sqrt(p(1-p)/n); NaN when n is 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a proportion in [0, 1], got {p}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return math.nan
    return math.sqrt(p * (1.0 - p) / n)
