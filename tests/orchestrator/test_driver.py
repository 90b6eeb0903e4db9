"""The driver's parts, each alone, with fake runners (no Ray): dispatch, collect, replace, flush, and
the loop that joins them; the rows go to real Arrow part files."""

from __future__ import annotations

import io
import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from orchestrator.capacity import gate_shares
from orchestrator.config import ConfigError, SweepConfig
from orchestrator.driver import Driver, RunnerSlot, hold_target
from orchestrator.plan import EpisodeSpec, build_plan
from orchestrator.pool import FinishedBatch, RunnerDied, ipc_payload
from orchestrator.progress import SweepProgress
from orchestrator.records import to_table
from orchestrator.writer import PartWriter
from providers.gate.config import GateConfig
from tests.orchestrator.sweep_helpers import episode_row


@dataclass
class FakeRunner:
    name: str
    index: int
    shares: dict[str, GateConfig]
    held: list[EpisodeSpec] = field(default_factory=list)
    exchanges: int = 0
    opened: list[list[str]] = field(default_factory=list)  # open_gates of each exchange
    dies_at_exchange: int | None = None
    stopped: str | None = None  # "graceful" | "killed"


class FakePool:
    """Runners that finish, at each exchange, everything they held before it; a runner dies at its
    ``die_at[name]``-th exchange. Every exchange is ready at once."""

    def __init__(self, die_at: dict[str, int] | None = None, problems: dict[str, str] | None = None) -> None:
        self.die_at = die_at or {}
        self.problems = problems or {}
        self.runners: list[FakeRunner] = []
        self._tickets: dict[int, tuple[FakeRunner, list[EpisodeSpec]]] = {}
        self._next_ticket = itertools.count()

    def start(self, index: int, name: str, shares: dict[str, GateConfig]) -> FakeRunner:
        runner = FakeRunner(name, index, shares, dies_at_exchange=self.die_at.get(name))
        self.runners.append(runner)
        return runner

    def check(self, handles: Sequence[FakeRunner]) -> list[str | None]:
        return [self.problems.get(h.name) for h in handles]

    def exchange(self, handle: FakeRunner, batch: list[EpisodeSpec], open_gates: Sequence[str] = (),
                 cached: object | None = None) -> Hashable:
        handle.exchanges += 1
        handle.opened.append(list(open_gates))
        finished, handle.held = handle.held, [*batch]
        ticket = next(self._next_ticket)
        self._tickets[ticket] = (handle, finished)
        return ticket

    def ready(self, tickets: Sequence[Hashable], timeout_s: float) -> list[Hashable]:
        return list(tickets)

    def result(self, ticket: Hashable) -> FinishedBatch:
        runner, finished = self._tickets.pop(ticket)  # type: ignore[arg-type]
        if runner.exchanges == runner.dies_at_exchange:
            raise RunnerDied
        return finished_batch(runner.name, finished)

    def stop(self, handle: FakeRunner, *, graceful: bool) -> None:
        handle.stopped = "graceful" if graceful else "killed"


def finished_batch(runner: str, specs: list[EpisodeSpec], breaker: str | None = None) -> FinishedBatch:
    payloads = {"episodes": ipc_payload(to_table("episodes", [episode_row(s) for s in specs]))} if specs else {}
    gates = {"pinned": {"breaker_state": breaker}} if breaker else {}
    return FinishedBatch(runner=runner, payloads=payloads, done_ids=[s.episode_id for s in specs],
                         running=len(specs), gates=gates)


def sweep_config(runners: int = 2, pinned: int = 4, per_runner: int | None = 8, seeds: int = 2) -> SweepConfig:
    """Two endpoints: one pinned to ``pinned`` calls in flight, one adaptive (slots ``per_runner``,
    or the default when None)."""
    ray: dict[str, int] = {"runners": runners}
    if per_runner is not None:
        ray["max_concurrency_per_runner"] = per_runner
    return SweepConfig.model_validate({
        "name": "drv", "tasks": [{"name": "typewriter_single", "limit": 10}], "seeds": seeds,
        "models": [{"id": "p", "provider": "simulated", "model": "oracle", "gate": "pinned"},
                   {"id": "a", "provider": "simulated", "model": "oracle", "gate": "adaptive"}],
        "providers": {"pinned": {"max_in_flight": pinned}, "adaptive": {}},
        "ray": ray})


def make_driver(tmp_path: Path, config: SweepConfig, pool: FakePool, **options) -> Driver:
    progress = SweepProgress(planned=0, already_done=0, console=Console(file=io.StringIO()))
    writer = PartWriter(tmp_path, max_age_s=0.0)
    return Driver(config, build_plan(config), pool, writer, progress, **options)


def written(tmp_path: Path) -> list[str]:
    parts = sorted((tmp_path / "episodes").glob("*.arrow"))
    return pl.concat([pl.read_ipc(p) for p in parts])["episode_id"].to_list() if parts else []


def test_dispatch_fills_each_gate_up_to_its_target_in_plan_order(tmp_path):
    config = sweep_config()
    driver = make_driver(tmp_path, config, FakePool())
    driver.start()
    first, second = driver.slots
    # pinned 4 over 2 runners: 2 slots each; adaptive: the setting, 8
    assert first.targets == {"pinned": hold_target(2), "adaptive": hold_target(8)} == {"pinned": 3, "adaptive": 10}
    plan = build_plan(config)
    batch = driver.dispatch(first)
    assert [s for s in batch if s.model_id == "p"] == [s for s in plan if s.model_id == "p"][:3]
    assert [s for s in batch if s.model_id == "a"] == [s for s in plan if s.model_id == "a"][:10]
    assert driver.dispatch(first) == [], "a runner holding its targets gets nothing more"
    assert len(driver.dispatch(second)) == 13
    assert sum(map(len, driver.queues.values())) == len(plan) - 26 and driver.remaining == len(plan)


def test_a_gate_pinned_below_the_runner_count_goes_to_the_first_runners_only(tmp_path):
    driver = make_driver(tmp_path, sweep_config(runners=3, pinned=2), FakePool())
    driver.start()
    assert [sorted(slot.targets) for slot in driver.slots] == [["adaptive", "pinned"]] * 2 + [["adaptive"]]
    assert not any(s.model_id == "p" for s in driver.dispatch(driver.slots[2]))


def test_shares_are_computed_once_and_handed_to_every_runner_of_a_place(tmp_path):
    config = sweep_config()
    pool = FakePool()
    driver = make_driver(tmp_path, config, pool)
    driver.start()
    replacement = driver.replace(driver.slots[0])
    assert [r.shares for r in pool.runners[:2]] == [gate_shares(config, 2, 0), gate_shares(config, 2, 1)]
    assert pool.runners[2].shares is pool.runners[0].shares and replacement.index == 0
    assert pool.runners[0].shares["pinned"].max_in_flight == 2


def test_collect_buffers_rows_releases_episodes_and_tracks_breakers(tmp_path):
    driver = make_driver(tmp_path, sweep_config(), FakePool())
    driver.start()
    slot = driver.slots[0]
    batch = driver.dispatch(slot)
    driver.collect(slot, finished_batch(slot.name, batch[:5], breaker="open"))
    assert driver.remaining == len(build_plan(driver.config)) - 5
    assert list(slot.holding) == [s.episode_id for s in batch[5:]]
    assert sum(slot.per_gate.values()) == len(batch) - 5
    assert driver.breakers == {"pinned": "open"} and driver.progress.done == 5
    assert written(tmp_path) == [], "collect buffers; flush writes"
    driver.flush()
    assert written(tmp_path) == [s.episode_id for s in batch[:5]]


def test_replace_puts_what_the_dead_runner_held_back_in_front_in_order(tmp_path):
    pool = FakePool()
    driver = make_driver(tmp_path, sweep_config(), pool, max_replacements=1)
    driver.start()
    dead = driver.slots[0]
    batch = driver.dispatch(dead)
    fresh = driver.replace(dead)
    assert list(driver.queues["pinned"])[:3] == [s for s in batch if s.model_id == "p"]
    assert list(driver.queues["adaptive"])[:10] == [s for s in batch if s.model_id == "a"]
    assert fresh.name == "runner-0.1" and driver.slots[0] is fresh and fresh.holding == {}
    assert pool.runners[0].stopped == "killed"
    with pytest.raises(RuntimeError, match="keep dying"):
        driver.replace(fresh)


def test_a_runner_that_cannot_build_its_providers_stops_the_sweep(tmp_path):
    pool = FakePool(problems={"runner-1": "runner-1: provider 'openai' needs an API key"})
    driver = make_driver(tmp_path, sweep_config(), pool)
    with pytest.raises(ConfigError, match="a provider cannot be built on a runner: runner-1: provider"):
        driver.run()
    assert [r.stopped for r in pool.runners] == ["killed", "killed"]
    # the first batches went out while the runners were starting; none of them reached the disk
    assert [r.exchanges for r in pool.runners] == [1, 1] and written(tmp_path) == []


@pytest.mark.timeout(60)
def test_the_loop_records_every_episode_once_through_runner_deaths(tmp_path):
    config = sweep_config(seeds=5)
    pool = FakePool(die_at={"runner-0": 2, "runner-1": 3, "runner-0.1": 2})
    driver = make_driver(tmp_path, config, pool)
    driver.run()
    driver.writer.flush()
    ids = written(tmp_path)
    assert sorted(ids) == sorted(s.episode_id for s in build_plan(config)) and len(ids) == 100
    assert driver.replacements == 3 and driver.remaining == 0
    assert [r.name for r in pool.runners] == ["runner-0", "runner-1", "runner-0.1", "runner-1.2", "runner-0.3"]
    assert {r.name: r.stopped for r in pool.runners} == {
        "runner-0": "killed", "runner-1": "killed", "runner-0.1": "killed",
        "runner-1.2": "graceful", "runner-0.3": "graceful"}


def test_runner_slot_bookkeeping():
    slot = RunnerSlot("runner-0", 0, handle=None, targets={"g": 3})
    specs = build_plan(sweep_config())[:2]
    for spec in specs:
        slot.hold("g", spec)
    slot.release(specs[0].episode_id)
    slot.release("never-held")
    assert slot.per_gate["g"] == 1 and list(slot.holding) == [specs[1].episode_id]


def test_the_last_round_is_split_level_between_the_runners_and_opens_their_places(tmp_path):
    # 20 episodes of the adaptive gate, default places (64, target 80 each): all in the last round
    config = sweep_config(per_runner=None)
    pool = FakePool()
    driver = make_driver(tmp_path, config, pool)
    driver.start()
    first, second = driver.slots
    driver.dispatch(first)
    driver.dispatch(second)
    assert first.per_gate["adaptive"] == second.per_gate["adaptive"] == 10, "split level, not 20 + 0"
    # the pinned gate's places are its calls in flight: they never open
    assert pool.runners[0].opened == pool.runners[1].opened == [["adaptive"]]


def test_places_stay_closed_before_the_last_round_and_when_the_user_bounded_them(tmp_path):
    pool = FakePool()
    driver = make_driver(tmp_path, sweep_config(per_runner=None, seeds=30), pool)  # 300 adaptive
    driver.start()
    driver.dispatch(driver.slots[0])  # 220 left: more than the runners keep (2 × 80)
    assert driver.slots[0].per_gate["adaptive"] == hold_target(64) and pool.runners[0].opened == [[]]
    driver.dispatch(driver.slots[1])  # 140 left: the last round has begun
    assert driver.slots[1].per_gate["adaptive"] == hold_target(64) and pool.runners[1].opened == [["adaptive"]]
    bounded = FakePool()
    driver = make_driver(tmp_path, sweep_config(per_runner=8), bounded)
    driver.run()
    assert all(opened == [] for runner in bounded.runners for opened in runner.opened)
