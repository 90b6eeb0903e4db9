"""Runners as Ray actors: the ``RunnerPool`` a sweep's ``Driver`` uses."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Hashable, Sequence
from typing import Any

import ray
from ray.exceptions import RayActorError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from orchestrator.config import SweepConfig
from orchestrator.plan import EpisodeSpec
from orchestrator.pool import FinishedBatch, RunnerDied
from orchestrator.runner import EpisodeRunner
from providers.gate.config import GateConfig

# Method calls a runner actor serves at once (exchange, check, describe, close); its episodes run
# as tasks on its event loop and are not bounded by this.
ACTOR_CONCURRENCY = 16
CLOSE_TIMEOUT_S = 10
# A runner collects its youngest generation once 50,000 more container objects are allocated than
# freed (CPython: 700), the middle one every 20 of those passes (10), a full pass every 100 (10).
GC_THRESHOLDS = (50_000, 20, 100)


class RunnerActor(EpisodeRunner):
    """An ``EpisodeRunner`` alone in its Ray worker process, which tunes that process's garbage
    collector once built: what start-up made (modules, the config, the SDK clients) is frozen out
    of every later collection, and collections come rarer. A runner at hundreds of calls a second
    allocates containers fast, nearly all freed by reference counting, yet with CPython's default
    thresholds its collector ran about 20 times a second, and each full pass held the event loop,
    and every call in flight, ~75 ms (benchmarks/README.md, "Garbage collection"). Only actors do
    this: a runner built in-process (the tests) leaves its process's collector alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


class RayRunnerPool:
    """Starts ``RunnerActor`` actors named ``toolsweep/<run>/<runner>``, placed round-robin over
    the live nodes.

    Runners reserve no CPU, and for such actors Ray's SPREAD is only a hint: placement is by node
    affinity instead — hard for the first ``ray.runners`` (soft affinity was seen to fall back to
    the head), soft for replacements, so a lost node's runner goes elsewhere.

    The simulator at ``simulator_url`` runs on this (the driver's) node; runners elsewhere start
    their own (``orchestrator.node_simulator``), and ``simulator_stats`` collects what those served,
    as each runner is stopped gracefully.
    """

    def __init__(self, config: SweepConfig, *, run: str, simulator_url: str | None) -> None:
        self._config = config
        self._run = run
        self._simulator_url = simulator_url
        self._simulator_node = ray.get_runtime_context().get_node_id() if simulator_url else None
        self.simulator_stats: list[dict[str, Any]] = []
        self._actor_cls = ray.remote(RunnerActor)
        # ray.nodes carries no annotations
        self._nodes = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))  # type: ignore[no-untyped-call]
        self._started = 0

    def start(self, index: int, name: str, shares: dict[str, GateConfig]) -> Any:
        placement: Any = "SPREAD"
        if self._nodes:
            placement = NodeAffinitySchedulingStrategy(self._nodes[self._started % len(self._nodes)],
                                                       soft=self._started >= self._config.ray.runners)
        self._started += 1
        return self._actor_cls.options(
            name=f"toolsweep/{self._run}/{name}", max_restarts=0, max_task_retries=0, num_cpus=0,
            scheduling_strategy=placement, max_concurrency=ACTOR_CONCURRENCY,
        ).remote(self._config, run=self._run, runner=name, shares=shares, simulator_url=self._simulator_url,
                 simulator_node=self._simulator_node)

    def check(self, handles: Sequence[Any]) -> list[str | None]:
        return ray.get([handle.check.remote() for handle in handles])

    def exchange(self, handle: Any, batch: list[EpisodeSpec], open_gates: Sequence[str] = (),
                 cached: Any | None = None, **journal: Any) -> Hashable:
        ticket: Hashable = handle.exchange.remote(batch, open_gates=list(open_gates), cached=cached, **journal)
        return ticket

    def ready(self, tickets: Sequence[Hashable], timeout_s: float) -> list[Hashable]:
        done, _ = ray.wait(list(tickets), num_returns=1, timeout=timeout_s)
        return done

    def result(self, ticket: Any) -> FinishedBatch:  # an ObjectRef
        try:
            batch: FinishedBatch = ray.get(ticket)
            return batch
        except RayActorError:
            raise RunnerDied from None

    def stop(self, handle: Any, *, graceful: bool) -> None:
        if graceful:
            with contextlib.suppress(Exception):  # best effort: the rows are already on disk
                served = ray.get(handle.close.remote(), timeout=CLOSE_TIMEOUT_S)
                if served is not None:
                    self.simulator_stats.append(served)
        ray.kill(handle, no_restart=True)
