"""The task model: a named instruction, a dataset of examples, fresh environments and a scorer.

Tasks are shared (``get_task`` caches them), so examples and their steps are immutable: tuples,
frozen dataclasses, and argument dicts that callers must not modify.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from tasks.environment import Environment, EpisodeEnvironment, LocalSession
from tasks.scoring import Score, StepRules, score_step_names, score_steps
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, PAPER_SCORING


@dataclass(frozen=True)
class ExpectedCall:
    """One step of an example's optimal solution: a tool name and the arguments it should get."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Example:
    """One question of a task's dataset."""

    id: str
    question: str  # the user message
    reference: str  # the reference answer
    expected_steps: tuple[ExpectedCall, ...]
    expected_state: str | None = None  # the environment state a correct episode ends in
    difficulty: int = 0  # defaults to the number of expected tool calls
    order_matters: bool = True  # False: steps_match compares the calls as a multiset
    # True: the reference is worked out from the tool outputs (a sum, a count), not read off one,
    # so ``validate`` does not look for it in them
    computed: bool = False

    def __post_init__(self) -> None:
        if not self.expected_steps:
            raise ValueError(f"example {self.id!r} has no expected steps")
        if self.difficulty <= 0:
            object.__setattr__(self, "difficulty", len(self.expected_steps))


AnswerMatcher = Callable[[str, str], bool]  # (answer, reference) -> correct
StateMatcher = Callable[[Hashable, str], bool]  # (final state, expected_state) -> state_correct
SessionOpener = Callable[["Example"], AbstractAsyncContextManager[EpisodeEnvironment]]


@dataclass(frozen=True, eq=False)
class Task:
    """A benchmark task.

    ``answer_matcher`` decides ``correct`` from the answer text; ``None`` means the task is judged
    by its final state alone (``correct`` = ``state_correct``). ``dataset`` and ``scoring`` name
    the variant the task was built for (``tasks.variants``); under the ``paper`` profile steps are
    compared by tool name only. ``state_matcher`` decides ``state_correct`` (default: equality).

    An episode's environment is opened with :meth:`session`: ``make_environment`` (in-process
    tools) adapted to the async interface, or ``open_session`` for environments that live
    elsewhere (an MCP server, ``orchestrator.mcp_tools``), which have no synchronous ``environment()``.
    """

    name: str
    instructions: str  # the system prompt
    examples: tuple[Example, ...]
    make_environment: Callable[[], Environment] | None = None
    answer_matcher: AnswerMatcher | None = None
    step_rules: StepRules = StepRules()
    dataset: str = DEFAULT_DATASET
    scoring: str = DEFAULT_SCORING
    state_matcher: StateMatcher | None = None
    open_session: SessionOpener | None = None
    # where each example was read (``file:line``, by example id), for messages that point at the
    # dataset; empty for examples built in code
    example_sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    _by_id: dict[str, Example] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id = {e.id: e for e in self.examples}
        if len(by_id) != len(self.examples):
            raise ValueError(f"task {self.name!r} has duplicate example ids")
        object.__setattr__(self, "_by_id", by_id)

    def environment(self) -> Environment:
        """A fresh in-process environment for one episode (tasks whose tools run here)."""
        if self.make_environment is None:
            raise TypeError(f"task {self.name!r} has no in-process environment; open one with task.session(example)")
        return self.make_environment()

    def session(self, example: Example) -> AbstractAsyncContextManager[EpisodeEnvironment]:
        """An async context manager holding a fresh environment for one episode of ``example``."""
        if self.open_session is not None:
            return self.open_session(example)
        return LocalSession(self.environment())

    def example(self, example_id: str) -> Example:
        """The example with this id; ``KeyError`` naming it when there is none."""
        try:
            return self._by_id[example_id]
        except KeyError:
            raise KeyError(f"task {self.name!r} has no example {example_id!r}") from None

    def score(self, example: Example, answer: str | None, environment: Environment | EpisodeEnvironment) -> Score:
        """Score one finished episode from the model's final answer and the environment it used."""
        state_correct = None
        if example.expected_state is not None:
            state = environment.state
            state_correct = (state == example.expected_state if self.state_matcher is None
                             else bool(self.state_matcher(state, example.expected_state)))
        if self.answer_matcher is None:
            correct = bool(state_correct)
        else:
            correct = answer is not None and self.answer_matcher(answer, example.reference)
        if self.scoring == PAPER_SCORING:
            steps_match, step_ratio = score_step_names(example.expected_steps, environment.calls, example.order_matters)
        else:
            steps_match, step_ratio = score_steps(
                example.expected_steps, environment.calls, example.order_matters, self.step_rules
            )
        return Score(correct=correct, state_correct=state_correct, steps_match=steps_match, step_ratio=step_ratio)
