"""A simulator on a runner's own node, for runners that cannot reach the driver's.

The driver starts the simulator on 127.0.0.1 of its machine, where only runners on the same Ray
node can reach it. A runner placed on another node starts a simulator of its own instead, on its
node's loopback, with the sweep's profiles and seed, so a cluster sweep of simulated models can be
rehearsed offline before one spends money on real endpoints. Episodes come out the same wherever
they run: an agent policy's every turn is drawn from the seed and the conversation so far
(``providers.simulator.policies.seeded_situation``). Injected faults are drawn per simulator in
arrival order — as with one simulator, where the order of arrivals is not fixed either — so
their rates hold per model and simulator, not per request.

The simulator is a child of the runner's process and exits with it; a runner that closes
gracefully hands back what its simulator served, which the driver saves next to its own.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from orchestrator.config import SweepConfig
from orchestrator.endpoints import simulator_profiles, uses_simulator

if TYPE_CHECKING:
    from providers.simulator import SimulatorProcess


def needs_own_simulator(config: SweepConfig, *, simulator_node: str | None, node_id: str | None) -> bool:
    """Whether a runner on ``node_id`` needs a simulator of its own: the sweep has simulated models
    and the driver's simulator runs on another node (``simulator_node``; None when unknown, and
    then the driver's is used, as on one machine)."""
    return (uses_simulator(config) and config.simulator.url is None and simulator_node is not None and node_id is not None
            and node_id != simulator_node)


def start_own_simulator(config: SweepConfig) -> SimulatorProcess:
    """A simulator on this node's 127.0.0.1 with the sweep's profiles and seed, started and healthy."""
    from providers.simulator import SimulatorProcess  # only runners that need one pay for the import

    simulator = SimulatorProcess(simulator_profiles(config), seed=config.simulator.seed, batch=config.simulator.batch)
    simulator.start()
    return simulator


def stop_with_stats(simulator: SimulatorProcess, **labels: Any) -> dict[str, Any] | None:
    """Stop ``simulator``; what it served (its ``/stats`` with ``labels`` added), or None if it had
    died already."""
    stats = None
    with contextlib.suppress(OSError, ValueError):
        stats = {**simulator.stats(), **labels}
    simulator.stop()
    return stats
