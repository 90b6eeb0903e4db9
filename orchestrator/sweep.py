"""The sweep driver: plan → skip what is done → fan out over Ray runners → write Arrow parts.

The driver is the only writer of the run directory. Runners hand finished rows back through
``EpisodeRunner.exchange``; the driver writes them as atomic part files. An episode is therefore
in exactly one of three places — the queue, one runner, or on disk — which makes the two failure
paths simple: a dead runner's episodes go back to the queue (none of them reached the disk), and a
killed driver loses only rows not yet flushed, which resume runs again.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections import Counter, deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from orchestrator.config import ConfigError, SweepConfig
from orchestrator.endpoints import simulator_profiles, uses_simulator
from orchestrator.plan import EpisodeSpec, build_plan
from orchestrator.progress import SweepProgress
from orchestrator.raylocal import RaySession
from orchestrator.rundir import RunDir, done_episode_ids
from orchestrator.summary import print_summary
from orchestrator.task_sources import runtime_env as task_runtime_env
from orchestrator.writer import PartWriter

EXIT_OK, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 130
MAX_RUNNER_REPLACEMENTS = 8


@dataclass
class RunnerSlot:
    """The driver's view of one runner: its actor, the gates it has a share of, the call under
    way, what it holds (by id, in the order it was handed over) and how many of those go through
    each gate."""

    name: str
    actor: object
    serves: set[str]
    holding: dict[str, tuple[str, EpisodeSpec]] = field(default_factory=dict)  # id → (gate, spec)
    per_gate: Counter[str] = field(default_factory=Counter)
    pending: object | None = None  # ObjectRef of the exchange under way
    running: int = 0  # of what it holds, the episodes under way at its last exchange

    def hold(self, gate: str, spec: EpisodeSpec) -> None:
        self.holding[spec.episode_id] = (gate, spec)
        self.per_gate[gate] += 1

    def release(self, episode_id: str) -> None:
        held = self.holding.pop(episode_id, None)
        if held is not None:
            self.per_gate[held[0]] -= 1


def run_sweep(config: SweepConfig, *, config_path: Path, out: Path | None = None, address: str | None = None,
              fresh: bool = False, dry_run: bool = False, limit: int | None = None,
              console: Console | None = None) -> int:
    console = console or Console()
    plan = build_plan(config, limit=limit)
    run_dir = RunDir.prepare(config, config_path, plan, fresh=fresh, out=out, dry_run=dry_run)
    todo = _pending(plan, run_dir)
    console.print(f"run {run_dir.path}: {len(plan)} episodes planned, {len(plan) - len(todo)} already "
                  f"recorded, {len(todo)} to run")
    if dry_run:
        return EXIT_OK
    if not todo:
        run_dir.finish("completed", {"episodes": len(plan)})
        print_summary(run_dir.path, console)
        return EXIT_OK

    writer = PartWriter(run_dir.path)
    already_done = len(plan) - len(todo)
    progress = SweepProgress(planned=len(plan), already_done=already_done, console=console)
    interrupted = False
    previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with ExitStack() as stack:
            simulator_url = None
            if uses_simulator(config):
                from providers.simulator import SimulatorProcess

                sim = stack.enter_context(SimulatorProcess(simulator_profiles(config), seed=config.simulator.seed))
                simulator_url = sim.base_url
                stack.callback(_save_simulator_stats, sim, run_dir)
            # joining a cluster: the sweep's own tasks travel to the nodes with the job (Ray ships
            # local folders only at the job level); a local Ray shares this file system
            stack.enter_context(RaySession(address, runtime_env=task_runtime_env(config.task_sources) if address else None))
            stack.enter_context(progress)
            _drive(config, run_dir, todo, writer, progress, simulator_url)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        writer.flush()
        run_dir.finish("failed", {"episodes": already_done + writer.rows_written["episodes"]})
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        writer.flush()

    # Counted, not read back: every row the writer wrote is a planned episode not on disk before,
    # and none is written twice (re-reading 100k rows would make the driver's peak memory grow
    # with the sweep).
    recorded = already_done + writer.rows_written["episodes"]
    if interrupted:
        run_dir.finish("interrupted", {"episodes": recorded})
        console.print(f"interrupted: {recorded}/{len(plan)} episodes recorded in {run_dir.path}\n"
                      f"resume with: python -m orchestrator sweep {config_path}"
                      + (f" --out {out}" if out else ""))
        return EXIT_INTERRUPTED
    status = "completed" if recorded >= len(plan) else "incomplete"
    run_dir.finish(status, {"episodes": recorded})
    print_summary(run_dir.path, console)
    if recorded < len(plan):
        console.print(f"[red]only {recorded} of {len(plan)} planned episodes were recorded[/red]")
        return EXIT_INTERNAL
    return EXIT_OK


def _pending(plan: list[EpisodeSpec], run_dir: RunDir) -> list[EpisodeSpec]:
    """The plan minus what the run directory holds (resume); the ids read are dropped after."""
    if not run_dir.path.exists():
        return list(plan)
    done = done_episode_ids(run_dir.path)
    return [spec for spec in plan if spec.episode_id not in done]


def _save_simulator_stats(sim, run_dir: RunDir) -> None:
    """What the simulator served (per model, per outcome, per second): the ground truth for rate audits."""
    directory = run_dir.path / "simulator"
    directory.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):  # a dead simulator has no stats; the episodes are what matter
        stats = sim.stats()
        (directory / f"stats-{time.time_ns()}.json").write_text(json.dumps(stats))


def _raise_interrupt(signum, frame):  # SIGTERM behaves like Ctrl-C: flush, then exit 130
    raise KeyboardInterrupt


def _drive(config: SweepConfig, run_dir: RunDir, todo: list[EpisodeSpec], writer: PartWriter,
           progress: SweepProgress, simulator_url: str | None) -> None:
    import ray
    from ray.exceptions import RayActorError

    from orchestrator.runner import EpisodeRunner

    n_runners = config.ray.runners
    capacity = config.ray.max_concurrency_per_runner
    # A dead runner is replaced by a fresh actor rather than restarted in place: the driver
    # already knows what it held, and a new actor starts from a clean state.
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor_cls = ray.remote(EpisodeRunner)
    # Runners take no CPU reservation, and for such actors Ray's SPREAD is only a hint: place them
    # round-robin over the live nodes instead. Hard for the first placement (soft affinity was seen
    # to fall back to the head), soft for replacements, so a lost node's goes elsewhere.
    nodes = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))
    spawned = 0

    def spawn(index: int, name: str) -> RunnerSlot:
        nonlocal spawned
        placement = (NodeAffinitySchedulingStrategy(nodes[spawned % len(nodes)], soft=spawned >= n_runners)
                     if nodes else "SPREAD")
        spawned += 1
        actor = actor_cls.options(
            name=f"toolsweep/{run_dir.name}/{name}", max_restarts=0, max_task_retries=0, num_cpus=0,
            scheduling_strategy=placement, max_concurrency=4 * capacity,
        ).remote(config, run=run_dir.name, runner=name, index=index, n_runners=n_runners,
                                 simulator_url=simulator_url, max_concurrency=capacity)
        # an endpoint whose max_in_flight is below the number of runners is served by the first few
        serves = {gate for gate in queues if config.gate_config(gate).share(n_runners, index) is not None}
        return RunnerSlot(name, actor, serves)

    # One queue per gate, and a runner's concurrency is per gate too: episodes stuck behind one
    # endpoint's open breaker then hold only that endpoint's share, never the others'.
    gate_of = {m.id: m.gate_key for m in config.models}
    queues: dict[str, deque[EpisodeSpec]] = {gate: deque() for gate in dict.fromkeys(gate_of.values())}
    for spec in todo:
        queues[gate_of[spec.model_id]].append(spec)
    slots = [spawn(i, f"runner-{i}") for i in range(n_runners)]
    problems = [p for p in ray.get([slot.actor.check.remote() for slot in slots]) if p]
    if problems:
        for slot in slots:
            ray.kill(slot.actor)
        raise ConfigError(f"a provider cannot be built on a runner: {problems[0]}")
    replacements = 0
    remaining = len(todo)
    breakers: dict[str, str] = {}
    # hold a little more than the runner can run, so it never idles between exchanges
    target = capacity + max(1, capacity // 4)
    by_ref: dict[object, RunnerSlot] = {}

    def send(slot: RunnerSlot) -> None:
        batch = []
        for gate, queue in queues.items():
            if gate not in slot.serves:
                continue
            for _ in range(min(len(queue), max(0, target - slot.per_gate[gate]))):
                spec = queue.popleft()
                slot.hold(gate, spec)
                batch.append(spec)
        slot.pending = slot.actor.exchange.remote(batch)
        by_ref[slot.pending] = slot

    for slot in slots:
        send(slot)

    while remaining > 0:
        ready, _ = ray.wait(list(by_ref), num_returns=1, timeout=1.0)
        for ref in ready:
            slot = by_ref.pop(ref)
            try:
                result = ray.get(ref)
            except RayActorError:
                # what the runner held never reached the disk: back to the front of the queue
                for gate, spec in reversed(slot.holding.values()):
                    queues[gate].appendleft(spec)
                replacements += 1
                if replacements > MAX_RUNNER_REPLACEMENTS:
                    raise RuntimeError("runners keep dying; giving up (see the Ray logs)") from None
                ray.kill(slot.actor, no_restart=True)
                position = slots.index(slot)
                slot = slots[position] = spawn(position, f"{slot.name.split('.')[0]}.{replacements}")
            else:
                tables = {kind: result.table(kind) for kind in ("calls", "events", "episodes")}
                for kind, table in tables.items():
                    if table is not None:
                        writer.add(kind, table)
                for episode_id in result.done_ids:
                    slot.release(episode_id)
                remaining -= len(result.done_ids)
                slot.running = result.running
                for key, counters in result.gates.items():
                    if "breaker_state" in counters:
                        breakers[key] = counters["breaker_state"]
                progress.record(tables["episodes"], tables["calls"],
                                running=sum(s.running for s in slots), breakers=breakers)
            if remaining > 0:
                send(slot)
        writer.maybe_flush()
        progress.refresh()
    for slot in slots:
        with contextlib.suppress(Exception):  # best effort: the rows are already on disk
            ray.get(slot.actor.close.remote(), timeout=10)
        ray.kill(slot.actor)
