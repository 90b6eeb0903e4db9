"""The plan: every episode a sweep runs, in the order it hands them out.

Order: seed, then example rank, then task, then model, then strategy (fastest). Any prefix of the
plan is therefore balanced — each model and strategy has seen the same examples, and the tasks
advance together — so a sweep stopped part way (or ``--limit``) still compares like with like.
Within a task the examples run in an order fixed by a hash of their ids rather than dataset order
(which often runs from easy to hard), so a partial sweep is not biased towards easy examples.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orchestrator.config import DEFAULT_DATASET, SweepConfig


@dataclass(frozen=True, slots=True)
class EpisodeSpec:
    """One episode: a model on one example of a task's dataset, with one seed and one strategy."""

    model_id: str
    task: str
    example_id: str
    seed: int
    strategy: str
    dataset: str = DEFAULT_DATASET
    # Which run of the episode this is (``episodes.attempt``): not part of what the episode is, so
    # neither of its id nor of its equality.
    attempt: int = field(default=1, compare=False)
    # Stable across runs and machines: a hash of the fields' canonical JSON. Computed once,
    # because resume and the plan hash look at every id.
    episode_id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "episode_id", episode_id(self.model_id, self.task, self.example_id, self.seed,
                                                          self.strategy, self.dataset))


def episode_id(model_id: str, task: str, example_id: str, seed: int, strategy: str,
               dataset: str = DEFAULT_DATASET) -> str:
    """The hash of the five fields, and of the dataset when it is not the default: the ids of the
    default dataset stay what they were before datasets existed, and the paper dataset's differ."""
    fields: dict[str, object] = {"example_id": example_id, "model_id": model_id, "seed": seed,
                                 "strategy": strategy, "task": task}
    if dataset != DEFAULT_DATASET:
        fields["dataset"] = dataset
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def selected_examples(config: SweepConfig) -> dict[str, list[str]]:
    """Task name → the example ids the config selects, in dataset order (``limit`` keeps the first)."""
    import tasks  # the task registry

    selected: dict[str, list[str]] = {}
    for selection in config.tasks:
        ids = [example.id for example in tasks.get_task(selection.name, selection.dataset).examples]
        if selection.examples is not None:
            wanted = set(selection.examples)
            ids = [example_id for example_id in ids if example_id in wanted]
        elif selection.limit is not None:
            ids = ids[: selection.limit]
        selected[selection.name] = ids
    return selected


def _run_order(task: str, example_ids: Sequence[str]) -> list[str]:
    return sorted(example_ids, key=lambda example_id: hashlib.sha256(f"{task}\0{example_id}".encode()).digest())


def build_plan(config: SweepConfig, *, limit: int | None = None,
               examples: Mapping[str, Sequence[str]] | None = None) -> list[EpisodeSpec]:
    """The full cross product models × selected examples × seeds × strategies, interleaved (see the
    module docstring); ``limit`` keeps the first ``limit`` episodes. ``examples`` (task → example
    ids) defaults to ``selected_examples(config)``."""
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    if examples is None:
        examples = selected_examples(config)
    by_task = {task: _run_order(task, ids) for task, ids in examples.items()}
    dataset_of = {selection.name: selection.dataset for selection in config.tasks}
    longest = max((len(ids) for ids in by_task.values()), default=0)
    model_ids = [model.id for model in config.models]
    plan: list[EpisodeSpec] = []
    for seed in config.seeds:
        for rank in range(longest):
            for task, ids in by_task.items():
                if rank >= len(ids):
                    continue
                for model_id in model_ids:
                    for strategy in config.strategies:
                        plan.append(EpisodeSpec(model_id, task, ids[rank], seed, strategy,
                                                dataset_of.get(task, DEFAULT_DATASET)))
                        if limit is not None and len(plan) == limit:
                            return plan
    return plan


def plan_hash(plan: list[EpisodeSpec]) -> str:
    """A hash of the set of episodes (their order does not matter to what a run holds)."""
    digest = hashlib.sha256()
    for eid in sorted(spec.episode_id for spec in plan):
        digest.update(eid.encode())
    return digest.hexdigest()[:16]


def pending(plan: list[EpisodeSpec], done: set[str]) -> list[EpisodeSpec]:
    """The plan minus the episodes already written, order kept (resume)."""
    return [spec for spec in plan if spec.episode_id not in done]
