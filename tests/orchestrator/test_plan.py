"""The plan: the cross product, stable episode ids, interleaving, limit, resume."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from orchestrator.config import SweepConfig
from orchestrator.plan import EpisodeSpec, build_plan, pending, plan_hash

EXAMPLES = {"alpha": [f"a{i}" for i in range(5)], "beta": ["b0", "b1"], "gamma": [f"g{i}" for i in range(3)]}


def make_config(models=("m1", "m2", "m3"), seeds=3, strategies=("native", "text"), tasks=("alpha", "beta", "gamma")):
    return SweepConfig.model_validate({
        "name": "plan-test", "tasks": list(tasks), "seeds": seeds, "strategies": list(strategies),
        "models": [{"id": m, "provider": "simulated", "model": "oracle"} for m in models],
    })


def plan_of(config: SweepConfig, **kwargs) -> list[EpisodeSpec]:
    return build_plan(config, examples={t.name: EXAMPLES[t.name] for t in config.tasks}, **kwargs)


def test_the_plan_is_the_full_cross_product():
    plan = plan_of(make_config())
    examples = sum(len(ids) for ids in EXAMPLES.values())
    assert len(plan) == 3 * examples * 3 * 2
    assert {(s.model_id, s.task, s.example_id, s.seed, s.strategy) for s in plan} == {
        (m, t, e, seed, st) for m in ("m1", "m2", "m3") for t, ids in EXAMPLES.items() for e in ids
        for seed in (0, 1, 2) for st in ("native", "text")
    }


def test_episode_ids_are_unique_and_a_hash_of_the_five_fields():
    plan = plan_of(make_config())
    assert len({s.episode_id for s in plan}) == len(plan)
    spec = plan[0]
    canonical = json.dumps({"model_id": spec.model_id, "task": spec.task, "example_id": spec.example_id,
                            "seed": spec.seed, "strategy": spec.strategy}, sort_keys=True, separators=(",", ":"))
    assert spec.episode_id == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    assert EpisodeSpec(spec.model_id, spec.task, spec.example_id, spec.seed, spec.strategy).episode_id == spec.episode_id


def test_episode_ids_do_not_depend_on_config_order():
    forward = plan_of(make_config())
    reordered = plan_of(make_config(models=("m3", "m1", "m2"), seeds=[2, 0, 1], strategies=("text", "native"),
                                    tasks=("gamma", "alpha", "beta")))
    by_fields = {(s.model_id, s.task, s.example_id, s.seed, s.strategy): s.episode_id for s in forward}
    assert all(by_fields[(s.model_id, s.task, s.example_id, s.seed, s.strategy)] == s.episode_id for s in reordered)
    assert plan_hash(forward) == plan_hash(reordered)


def test_fields_that_differ_give_different_ids():
    base = EpisodeSpec("m", "t", "e", 0, "native")
    variants = [EpisodeSpec("m2", "t", "e", 0, "native"), EpisodeSpec("m", "t2", "e", 0, "native"),
                EpisodeSpec("m", "t", "e2", 0, "native"), EpisodeSpec("m", "t", "e", 1, "native"),
                EpisodeSpec("m", "t", "e", 0, "text")]
    assert len({base.episode_id, *(v.episode_id for v in variants)}) == 6


def test_the_plan_is_deterministic():
    assert plan_of(make_config()) == plan_of(make_config())


def test_every_prefix_is_balanced_across_models_and_strategies():
    config = make_config()
    plan = plan_of(config)
    block = len(config.models) * len(config.strategies)
    # each block of models × strategies is one (task, example, seed)
    for start in range(0, len(plan), block):
        chunk = plan[start:start + block]
        assert {(s.task, s.example_id, s.seed) for s in chunk} == {(chunk[0].task, chunk[0].example_id, chunk[0].seed)}
        assert {(s.model_id, s.strategy) for s in chunk} == {(m.id, st) for m in config.models for st in config.strategies}


def test_tasks_advance_together_and_seeds_come_last():
    plan = plan_of(make_config())
    first_round = plan[: 3 * 2 * 3]  # one example of each task, for every model and strategy
    assert Counter(s.task for s in first_round) == {"alpha": 6, "beta": 6, "gamma": 6}
    seeds = [s.seed for s in plan]
    assert seeds == sorted(seeds)


def test_examples_run_in_a_fixed_order_that_is_not_dataset_order():
    examples = {"alpha": [f"a{i:02d}" for i in range(40)]}
    config = make_config(models=("m1",), seeds=1, strategies=("native",), tasks=("alpha",))
    order = [s.example_id for s in build_plan(config, examples=examples)]
    assert sorted(order) == examples["alpha"] and order != examples["alpha"]
    assert order == [s.example_id for s in build_plan(config, examples={"alpha": examples["alpha"][::-1]})]


def test_limit_keeps_a_prefix():
    config = make_config()
    full = plan_of(config)
    assert plan_of(config, limit=7) == full[:7]
    assert plan_of(config, limit=10 ** 6) == full
    with pytest.raises(ValueError):
        plan_of(config, limit=0)


def test_pending_removes_done_episodes_and_keeps_order():
    plan = plan_of(make_config())
    done = {s.episode_id for s in plan[::3]}
    todo = pending(plan, done)
    assert todo == [s for i, s in enumerate(plan) if i % 3]


def test_plan_hash_tracks_the_set_of_episodes():
    plan = plan_of(make_config())
    assert plan_hash(plan) == plan_hash(list(reversed(plan)))
    assert plan_hash(plan) != plan_hash(plan[:-1])
