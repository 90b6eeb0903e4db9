"""A sweep from start to end: plan → skip what is done → simulator and Ray → the driver's loop
(``orchestrator.driver``) → the run's status and closing summary.

The driver is the only writer of the run directory: runners hand finished rows back through
``EpisodeRunner.exchange`` and the driver writes them as atomic part files. Ctrl-C and SIGTERM
flush what arrived and end the run as ``interrupted``; the same command resumes it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from rich.console import Console

from orchestrator.batches import BatchLog
from orchestrator.budget import BudgetGuard
from orchestrator.cache import ResponseStore
from orchestrator.config import SweepConfig
from orchestrator.dispatch_order import dispatch_order
from orchestrator.driver import Driver
from orchestrator.endpoints import simulator_profiles, uses_simulator
from orchestrator.exit_codes import (
    EXIT_BUDGET,
    EXIT_FAILED_EPISODES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
)
from orchestrator.plan import EpisodeSpec, build_plan, pending
from orchestrator.progress import SweepProgress
from orchestrator.raylocal import RaySession
from orchestrator.rundir import RunDir, RunStatus, done_episode_ids, failed_attempts
from orchestrator.task_sources import runtime_env as task_runtime_env
from orchestrator.writer import PartWriter
from providers.keys import mask_keys

if TYPE_CHECKING:
    from providers.simulator import SimulatorProcess


# How the driver's loop ended: every episode handed out and back, the budget reached, or Ctrl-C / SIGTERM.
SweepEnd = Literal["ran", "budget_reached", "interrupted"]


def run_sweep(config: SweepConfig, *, config_path: Path, out: Path | None = None, address: str | None = None,
              fresh: bool = False, dry_run: bool = False, limit: int | None = None, retry_errors: bool = False,
              console: Console | None = None) -> int:
    console = console or Console()
    plan = build_plan(config, limit=limit)
    run_dir = RunDir.prepare(config, config_path, plan, fresh=fresh, out=out, dry_run=dry_run)
    # the plan minus what the run directory holds (resume); the ids read are dropped after
    todo = pending(plan, done_episode_ids(run_dir.path)) if run_dir.path.exists() else list(plan)
    retried = _failed_in_plan(plan, run_dir) if retry_errors else []
    todo += retried
    console.print(mask_keys(f"run {run_dir.path}: {len(plan)} episodes planned, {len(plan) - len(todo)} already "
                            f"recorded, {len(todo)} to run" + (f" ({len(retried)} failed, run again)" if retry_errors
                                                               else "")))
    if dry_run:
        return EXIT_OK
    command = f"python -m orchestrator sweep {config_path}" + (f" --out {out}" if out else "")
    cache = ResponseStore.open(config)  # a foreign or damaged cache file stops the sweep here, in one line
    if not todo:
        run_dir.finish("completed", {"episodes": len(plan)})
        return _closing(config, run_dir, planned=len(plan), retry=f"{command} --retry-errors", console=console)

    budget = BudgetGuard.for_run(config, run_dir.path)  # counts what earlier sessions of the run spent
    writer = PartWriter(run_dir.path)
    already_done = len(plan) - len(todo)
    progress = SweepProgress(planned=len(plan), already_done=already_done, console=console)
    end = _drive(config, todo, run_dir, writer, progress, cache=cache, budget=budget, address=address,
                 already_done=already_done, console=console)
    # Counted, not read back: every row the writer wrote is a planned episode not on disk before,
    # and none is written twice (re-reading 100k rows would make the driver's peak memory grow
    # with the sweep).
    # with a retry, each retried episode is counted once too: not in ``already_done``, and one new row
    recorded = already_done + writer.rows_written["episodes"]
    return _finish(config, run_dir, end, recorded=recorded, planned=len(plan), budget=budget, resume=command,
                   console=console)


def _failed_in_plan(plan: list[EpisodeSpec], run_dir: RunDir) -> list[EpisodeSpec]:
    """The planned episodes whose latest attempt failed (``records.RETRYABLE_STATUSES``), each as
    its next attempt: ``sweep --retry-errors`` runs them again, in the same run directory."""
    if not run_dir.path.exists():
        return []
    failed = failed_attempts(run_dir)
    return [replace(spec, attempt=failed[spec.episode_id] + 1) for spec in plan if spec.episode_id in failed]


def _drive(config: SweepConfig, todo: list[EpisodeSpec], run_dir: RunDir, writer: PartWriter,
           progress: SweepProgress, *, cache: ResponseStore | None, budget: BudgetGuard | None,
           address: str | None, already_done: int, console: Console) -> SweepEnd:
    """The simulator, the Ray session and the driver's loop; whatever ends it, the rows that
    arrived are written and the cache is closed (a failure marks the run ``failed`` and raises)."""
    previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with ExitStack() as stack:
            # joining a cluster: the sweep's own tasks travel to the nodes with the job (Ray ships
            # local folders only at the job level); a local Ray shares this file system
            ray_session = RaySession(address, runtime_env=task_runtime_env(config.task_sources) if address else None)
            # Ray's start is seconds of waiting for its own processes: the simulator starts and
            # the runner's modules load meanwhile
            stack.push(ray_session.start_in_background())  # stopped as the stack closes, waited for or not
            simulator_url = _start_simulator(stack, config, run_dir)
            # imported here: Ray must be imported after RaySession has set its environment
            from orchestrator.ray_pool import RayRunnerPool

            ray_session.wait()
            # Ray's core worker may have put a SIGTERM handler of its own in place (one that dumps
            # a stack and exits 15): the sweep's, set again, flushes, marks the run interrupted
            # and exits 130 as documented
            signal.signal(signal.SIGTERM, _raise_interrupt)
            stack.enter_context(progress)

            pool = RayRunnerPool(config, run=run_dir.name, simulator_url=simulator_url)
            batch_log = BatchLog(run_dir.path) if any(m.batch_options for m in config.models) else None
            driver = Driver(config, dispatch_order(config, todo), pool, writer, progress, cache=cache, budget=budget,
                            batch_log=batch_log)
            try:
                driver.run()
            finally:
                for served in pool.simulator_stats:  # simulators of runners on other nodes
                    _save_simulator_stats(served, run_dir)
            return "budget_reached" if driver.budget_reached else "ran"
    except KeyboardInterrupt:
        return "interrupted"
    except BaseException:
        writer.flush()
        run_dir.finish("failed", {"episodes": already_done + writer.rows_written["episodes"]})
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        writer.flush()
        if cache is not None:
            _close_cache(cache, config, console)


def _start_simulator(stack: ExitStack, config: SweepConfig, run_dir: RunDir) -> str | None:
    """The URL of the driver's simulator when a model uses it (its stats saved as ``stack`` closes)."""
    if not uses_simulator(config):
        return None
    if config.simulator.url is not None:  # already running, and outliving this sweep: its own stats
        return config.simulator.url
    from providers.simulator import SimulatorProcess

    sim = stack.enter_context(SimulatorProcess(simulator_profiles(config), seed=config.simulator.seed,
                                               batch=config.simulator.batch))
    stack.callback(_save_driver_simulator_stats, sim, run_dir)
    return sim.base_url


def _close_cache(cache: ResponseStore, config: SweepConfig, console: Console) -> None:
    cache.close()
    console.print(f"cache ({config.cache.mode}, {cache.path}): {cache.shipped} responses sent to runners, "
                  f"{cache.stored} stored")
    if cache.failure:
        console.print(f"[red]the cache stopped mid-sweep and the sweep went on without it: {cache.failure}[/red]")


def _finish(config: SweepConfig, run_dir: RunDir, end: SweepEnd, *, recorded: int, planned: int,
            budget: BudgetGuard | None, resume: str, console: Console) -> int:
    """The run's status in its manifest, the closing summary, and the exit code."""
    from orchestrator.summary import print_sweep_summary  # polars loads once the sweep is over
    if end == "interrupted":
        run_dir.finish("interrupted", {"episodes": recorded})
        console.print(mask_keys(f"interrupted: {recorded}/{planned} episodes recorded in {run_dir.path}\n"
                                f"resume with: {resume}"))
        return EXIT_INTERRUPTED
    if end == "budget_reached" and budget is not None and recorded < planned:
        run_dir.finish("budget_reached", {"episodes": recorded}, budget=config.budget.model_dump(mode="json"),
                       spent_usd=round(budget.spent_usd, 6))
        print_sweep_summary(run_dir.path, console)
        console.print(mask_keys(f"budget reached: ${budget.spent_usd:.4f} spent, {recorded}/{planned} episodes "
                                f"recorded; resume with a larger budget: {resume}"))
        return EXIT_BUDGET
    status: RunStatus = "completed" if recorded >= planned else "incomplete"
    extra = {"spent_usd": round(budget.spent_usd, 6)} if budget is not None else {}
    run_dir.finish(status, {"episodes": recorded}, **extra)
    if recorded < planned:
        print_sweep_summary(run_dir.path, console, retry=f"{resume} --retry-errors")
        console.print(f"[red]only {recorded} of {planned} planned episodes were recorded[/red]")
        return EXIT_INTERNAL
    return _closing(config, run_dir, planned=planned, retry=f"{resume} --retry-errors", console=console)


def _closing(config: SweepConfig, run_dir: RunDir, *, planned: int, retry: str, console: Console) -> int:
    """The closing summary of a sweep whose every planned episode is recorded, and its exit code:
    EXIT_OK, or with ``fail_on`` EXIT_FAILED_EPISODES when more episodes failed than it allows."""
    # polars loads once the sweep is over
    from orchestrator.summary import failed_count, print_sweep_summary
    print_sweep_summary(run_dir.path, console, retry=retry)
    if config.fail_on is None or not planned:
        return EXIT_OK
    failed = failed_count(run_dir.path)
    if failed / planned <= config.fail_on.failed_fraction:
        return EXIT_OK
    console.print(f"[red]{failed} of {planned} planned episodes failed ({failed / planned:.1%}), more than "
                  f"fail_on.failed_fraction {config.fail_on.failed_fraction:g} allows[/red]")
    return EXIT_FAILED_EPISODES


def _save_driver_simulator_stats(sim: SimulatorProcess, run_dir: RunDir) -> None:
    with contextlib.suppress(Exception):  # a dead simulator has no stats; the episodes are what matter
        _save_simulator_stats(sim.stats(), run_dir)


def _save_simulator_stats(stats: dict[str, Any], run_dir: RunDir) -> None:
    """What a simulator served (per model, per outcome, per second): the ground truth for rate
    audits. One file per simulator and session: the driver's, and those of runners on other nodes."""
    directory = run_dir.path / "simulator"
    directory.mkdir(exist_ok=True)
    (directory / f"stats-{time.time_ns()}.json").write_text(json.dumps(stats))


def _raise_interrupt(signum: int, frame: FrameType | None) -> NoReturn:  # SIGTERM behaves like Ctrl-C: flush, then exit 130
    raise KeyboardInterrupt
