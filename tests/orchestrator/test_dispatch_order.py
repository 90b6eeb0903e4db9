"""The order and amounts in which the driver hands episodes out (orchestrator.dispatch_order), and a
runner's places opening for the last round (orchestrator.slots)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from orchestrator.capacity import places_open_at_the_end
from orchestrator.config import SweepConfig
from orchestrator.dispatch_order import (
    dispatch_order,
    expected_steps,
    final_share,
    last_round,
    longest_first,
    sweep_slots,
)
from orchestrator.plan import EpisodeSpec, build_plan
from orchestrator.slots import EpisodeSlots
from providers.gate.config import GateConfig


def config(**ray) -> SweepConfig:
    return SweepConfig.model_validate({
        "name": "order", "tasks": [{"name": "typewriter_single"}, {"name": "multiverse_math"}], "seeds": 2,
        "models": [{"id": "a", "provider": "simulated", "model": "oracle"},
                   {"id": "b", "provider": "simulated", "model": "oracle"}],
        "strategies": ["native", "text"], "ray": ray or {"runners": 2, "max_concurrency_per_runner": 4}})


def test_expected_steps_are_the_reference_trajectory_lengths():
    plan = build_plan(config())
    by_example = {(s.task, s.example_id): expected_steps(s) for s in plan}
    # typewriter_single types the word one key at a time
    assert all(n == len(example) for (task, example), n in by_example.items() if task == "typewriter_single")
    assert max(by_example.values()) == 14 and min(by_example.values()) == 1


def test_longest_first_only_reorders_within_windows_counted_from_the_end():
    steps = {"a": 1, "b": 5, "c": 3, "d": 5, "e": 2, "f": 4, "g": 1}
    specs = [EpisodeSpec("m", "typewriter_single", example, 0, "native") for example in "abcdefg"]
    ordered = longest_first(specs, 3, steps=lambda spec: steps[spec.example_id])
    # windows from the end: [a] [b c d] [e f g]; within each, most steps first, ties in order
    assert [s.example_id for s in ordered] == list("abdcfeg")
    assert longest_first(specs[:6], 3, steps=lambda spec: steps[spec.example_id]) == [specs[i] for i in (1, 2, 0, 3, 5, 4)]
    assert longest_first([], 3) == []
    # a window never cuts an example's run of episodes (here two models each): [a a b] would cut b
    pairs = [EpisodeSpec(m, "typewriter_single", example, 0, "native") for example in "abc" for m in "xy"]
    ordered = longest_first(pairs, 3, steps=lambda spec: steps[spec.example_id])
    assert [(s.example_id, s.model_id) for s in ordered] == [("b", "x"), ("b", "y"), ("a", "x"), ("a", "y"),
                                                            ("c", "x"), ("c", "y")]
    with pytest.raises(ValueError):
        longest_first(specs, 0)


def test_dispatch_order_keeps_the_plans_episodes_and_each_examples_models_together():
    cfg = config()
    plan = build_plan(cfg)
    ordered = dispatch_order(cfg, plan)
    assert len(ordered) == len(plan) and {s.episode_id for s in ordered} == {s.episode_id for s in plan}
    assert ordered != plan, "the plan's examples have different lengths: the order must change"
    window = 4 * sweep_slots(cfg)
    assert sweep_slots(cfg) == 2 * 4
    # counted back from the end: every window holds the same episodes as the plan's, longest first
    cut = len(plan) % window
    bounds = [0, *range(cut, len(plan), window)] if cut else list(range(0, len(plan), window))
    for start, end in zip(bounds, [*bounds[1:], len(plan)], strict=True):
        assert set(ordered[start:end]) == set(plan[start:end])
        lengths = [expected_steps(s) for s in ordered[start:end]]
        assert lengths == sorted(lengths, reverse=True)
    # an example's 2 models × 2 strategies stay side by side, in plan order
    for i in range(0, len(ordered), 4):
        group = ordered[i:i + 4]
        assert len({(s.seed, s.task, s.example_id) for s in group}) == 1
        assert [(s.model_id, s.strategy) for s in group] == [("a", "native"), ("a", "text"), ("b", "native"),
                                                              ("b", "text")]


def test_final_share_tops_up_until_the_last_round_then_levels_the_runners():
    # target 80 each, two runners: the last round begins when 160 or fewer are queued
    assert not last_round(161, 80, 2) and last_round(160, 80, 2)
    assert final_share(500, [78, 80], 78, 80) == 2, "before the last round: up to the target"
    assert final_share(500, [80, 80], 80, 80) == 0
    # the last round: 160 queued, 78 + 80 held → 318 over two runners is 159 each
    assert final_share(160, [78, 80], 78, 80) == 81
    # the other runner then takes the rest: 79 queued, it holds 78 (two finished), the first 159
    assert final_share(79, [159, 78], 78, 80) == 79
    assert final_share(3, [10, 10], 10, 80) == 2, "level: 23 over two runners is 12 each"
    assert final_share(3, [0, 10], 0, 80) == 3, "never more than is queued"
    assert final_share(20, [0, 0], 0, 80) == 10, "a sweep smaller than one round is split from the start"
    assert final_share(0, [10, 10], 10, 80) == 0


def test_places_open_at_the_end_only_when_nothing_the_user_wrote_bounds_them():
    unset = SweepConfig.model_validate({**config().model_dump(), "ray": {"runners": 2}})
    assert places_open_at_the_end(unset, GateConfig())
    assert not places_open_at_the_end(unset, GateConfig(max_in_flight=4)), "pinned places are calls in flight"
    assert not places_open_at_the_end(config(), GateConfig()), "max_concurrency_per_runner is the user's bound"


@pytest.mark.timeout(10)
def test_slots_bound_episodes_first_come_first_served_until_opened():
    async def scenario() -> tuple[list[int], list[str], int]:
        slots = EpisodeSlots(2)
        release = asyncio.Event()
        order: list[str] = []
        peak = Counter[str]()

        async def episode(name: str) -> None:
            async with slots.place():
                order.append(name)
                peak["now"] += 1
                peak["max"] = max(peak["max"], peak["now"])
                await release.wait()
                peak["now"] -= 1

        tasks = [asyncio.create_task(episode(name)) for name in "abcde"]
        await asyncio.sleep(0.01)
        before = [slots.in_use, peak["max"]]
        await slots.open()
        await asyncio.sleep(0.01)
        opened = slots.in_use
        release.set()
        await asyncio.gather(*tasks)
        return [*before, opened], order, slots.in_use

    (before, peak_before, opened), order, after = asyncio.run(scenario())
    assert before == 2 and peak_before == 2, "at most the limit run at once"
    assert opened == 5, "open() lets every held episode run"
    assert order == list("abcde") and after == 0
