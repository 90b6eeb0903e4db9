"""In what order, and how many at a time, the driver hands episodes out: the sweep's tail.

A sweep ends when its last episode does, so two things shorten the tail, where runners sit idle
waiting for a few long episodes:

- **longest first** (``dispatch_order``): the plan's balanced order (``orchestrator.plan``) is cut
  into windows of a few times the sweep's episode slots, and within a window the examples expected
  to take the most steps go first. The windows are counted back from the end, so the last one is
  full and the final episodes handed out are the short ones. Each example's models and strategies
  stay side by side, so any prefix still compares them on the same examples; across tasks and
  examples the order moves by less than a window, a few times what is in flight at any moment.
  Only the order changes: the episodes, and their ids, are the plan's.
- **one last round** (``final_share``): once a gate's queue fits in what its runners hold, the
  rest is split between them at once, each runner brought level with the others, instead of
  trickling out as slots free up — the last episodes then start together, and a runner that got
  no more is not left idle while another still has its rate-limit share of work queued. In the
  last round a runner runs every episode it holds at once, unless the user bounded its places
  (``orchestrator.slots``, ``orchestrator.capacity.places_open_at_the_end``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

from orchestrator.capacity import episode_slots, gate_shares
from orchestrator.config import SweepConfig
from orchestrator.plan import EpisodeSpec

WINDOW_SLOTS = 4  # a window holds this many times the episodes all runners run at once


def expected_steps(spec: EpisodeSpec) -> int:
    """The number of tool calls the example's reference trajectory makes (0 if it has none)."""
    import tasks  # the task registry (cached); the plan module imports it the same way

    return len(tasks.get_task(spec.task, spec.dataset).example(spec.example_id).expected_steps)


def sweep_slots(config: SweepConfig) -> int:
    """Episodes all runners run at once, over every gate."""
    n = config.ray.runners
    return sum(episode_slots(config, share) for index in range(n) for share in gate_shares(config, n, index).values())


def longest_first(specs: Sequence[EpisodeSpec], window: int,
                  steps: Callable[[EpisodeSpec], int] = expected_steps) -> list[EpisodeSpec]:
    """``specs`` in windows of about ``window`` episodes counted back from the end, each window
    sorted by ``steps`` descending. A window never cuts through an example's run of episodes (one
    seed, its models and strategies), and the sort is stable over a key they share, so those stay
    side by side and in plan order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    cache: dict[tuple[str, str, str], int] = {}

    def key(spec: EpisodeSpec) -> int:
        example = (spec.task, spec.dataset, spec.example_id)
        if example not in cache:
            cache[example] = steps(spec)
        return -cache[example]

    ordered: list[EpisodeSpec] = []
    first = len(specs) % window or min(window, len(specs))
    bounds = [0]
    for bound in range(first, len(specs), window):
        while bound < len(specs) and _example_run(specs[bound]) == _example_run(specs[bound - 1]):
            bound += 1
        if bounds[-1] < bound < len(specs):
            bounds.append(bound)
    bounds.append(len(specs))
    for start, end in pairwise(bounds):
        ordered.extend(sorted(specs[start:end], key=key))
    return ordered


def _example_run(spec: EpisodeSpec) -> tuple[int, str, str, str]:
    return spec.seed, spec.task, spec.dataset, spec.example_id


def dispatch_order(config: SweepConfig, todo: Sequence[EpisodeSpec]) -> list[EpisodeSpec]:
    """The order the driver hands ``todo`` out in: longest first within windows of
    ``WINDOW_SLOTS`` × the sweep's episode slots (see the module docstring)."""
    return longest_first(todo, WINDOW_SLOTS * max(1, sweep_slots(config)))


def last_round(queued: int, target: int, runners: int) -> bool:
    """Whether a gate's ``queued`` episodes fit in what its ``runners`` keep of it (``target`` each):
    from then on they are split level between the runners, and the runners run all they hold."""
    return queued <= target * runners


def final_share(queued: int, held: Sequence[int], mine: int, target: int) -> int:
    """How many of a gate's ``queued`` episodes a runner takes when it asks for more.

    ``held`` is what each runner serving the gate holds of it (this one's is ``mine``) and
    ``target`` what this runner keeps of it in the run of the sweep: it is topped up to its target
    until the last round, and in the last round it takes what brings it level with the others once
    the queue is empty (so a sweep smaller than one round is split level from the start).
    """
    if not last_round(queued, target, len(held)):
        return min(queued, max(0, target - mine))
    level = math.ceil((queued + sum(held)) / len(held))
    return min(queued, max(0, level - mine))
