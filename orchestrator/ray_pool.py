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


class RunnerActor(EpisodeRunner):
    """An ``EpisodeRunner`` alone in its Ray worker process, which freezes what start-up made
    (modules, the config, the SDK clients) out of that process's garbage collector once built. A
    full collection walks every tracked object and holds the event loop, and every call in
    flight, meanwhile: frozen, start-up's objects are never walked again, and a full pass went
    from ~75 ms to ~27 ms at 800 calls/s (benchmarks/README.md, "Garbage collection"). How often
    the collector runs is left as CPython sets it: rarer passes were measured too, and let a
    runner's cyclic garbage pile up. Only actors do this: a runner built in-process (the tests)
    leaves its process's collector alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gc.collect()  # start-up's own garbage goes now, not into the frozen set
        gc.freeze()


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
