"""The runner: an async worker that runs many episodes at once on its own event loop.

The driver wraps ``EpisodeRunner`` in a Ray actor. Work moves in one call, ``exchange``: the driver
hands over new episodes and gets back the rows of those that finished since the last call. Every
episode is either still held by the runner or returned in exactly one exchange, so when a runner
dies the driver re-queues exactly what it held, and nothing it returned is run twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Sequence
from typing import Any

import tasks
from orchestrator.agent import EpisodeResult, ModelCall, call_row, run_episode
from orchestrator.batches import RunnerJournal
from orchestrator.cache import Entries, RunnerCache
from orchestrator.capacity import episode_slots
from orchestrator.config import SweepConfig
from orchestrator.endpoints import Endpoints
from orchestrator.judge import judge_answer, judge_decides
from orchestrator.node_simulator import needs_own_simulator, start_own_simulator, stop_with_stats
from orchestrator.plan import EpisodeSpec
from orchestrator.pool import FinishedBatch, ipc_payload
from orchestrator.records import EpisodeRow, EventKind, EventRow, TranscriptRow, to_table
from orchestrator.slots import EpisodeSlots
from orchestrator.task_sources import register_sources
from orchestrator.transcripts import transcript_row
from providers.batch.caller import CALL_SCOPE
from providers.errors import ProviderConfigError
from providers.gate.config import GateConfig
from providers.keys import MissingApiKey
from providers.types import AttemptRecord


class EpisodeRunner:
    """Runs the episodes it is handed, each gate's in that gate's slots; ``shares`` is this runner's
    share of each gate it serves (``orchestrator.capacity.gate_shares``, computed by the driver).
    ``simulator_node`` is the Ray node of the simulator at ``simulator_url``: a runner on another
    node starts its own (``orchestrator.node_simulator``)."""

    def __init__(self, config: SweepConfig, *, run: str, runner: str, shares: dict[str, GateConfig],
                 simulator_url: str | None, simulator_node: str | None = None) -> None:
        self._config = config
        register_sources(config.task_sources)  # the sweep's own tasks, from this machine's copy
        self._run = run
        self._name = runner
        self._shares = shares
        self._node_id = _node_id()
        own = needs_own_simulator(config, simulator_node=simulator_node, node_id=self._node_id)
        self._simulator = start_own_simulator(config) if own else None
        if self._simulator is not None:
            simulator_url = self._simulator.base_url
        self._wakeup = asyncio.Event()
        # batched models record their batches in the run directory through the driver (orchestrator.batches)
        self._journal = (RunnerJournal(runner, self._wakeup.set)
                         if any(m.batch_options is not None for m in config.models) else None)
        self._endpoints = Endpoints(config, shares=shares, simulator_url=simulator_url,
                                    on_event=self._on_gate_event, journal=self._journal)
        # Slots per gate (orchestrator.capacity): episodes waiting on one endpoint's open breaker
        # must not take the places of another endpoint's episodes.
        self._gate_of = {m.id: m.gate_key for m in config.models}
        self._slots = {gate: EpisodeSlots(episode_slots(config, share)) for gate, share in shares.items()}
        self._finished: list[EpisodeResult] = []
        self._events: list[EventRow] = []
        self._running: set[asyncio.Task[None]] = set()  # every episode held, running or waiting for a slot
        self._active = 0  # episodes inside their gate's slot
        self._cache = RunnerCache(config) if config.cache.mode != "off" else None

    def _on_gate_event(self, provider: str, kind: EventKind, *, at: float | None = None, **fields: Any) -> None:
        self._events.append(EventRow(run=self._run, provider=provider, runner=self._name, kind=kind,
                                     at=at if at is not None else time.time(),
                                     from_state=fields.get("from_state"), to_state=fields.get("to_state"),
                                     value=fields.get("value"), detail=fields.get("detail")))

    async def exchange(self, specs: list[EpisodeSpec], wait_s: float = 0.5, min_batch_s: float = 0.05,
                       open_gates: Sequence[str] = (), cached: Entries | None = None,
                       batches: dict[str, Any] | None = None) -> FinishedBatch:
        """Start ``specs``; return what finished, waiting up to ``wait_s`` for something to finish.
        ``open_gates``: gates whose queue at the driver is empty, whose episodes may now all run at
        once (``orchestrator.slots``); ``cached``: the response cache's entries for these episodes
        (``orchestrator.cache``); ``batches``: the batch journal's answer (``orchestrator.batches``).
        A batch about to be submitted ends the wait, so its journal entry reaches the driver now."""
        if cached and self._cache is not None:
            self._cache.receive(cached)
        if batches and self._journal is not None:
            self._journal.receive(batches)
        for gate in open_gates:
            if gate in self._slots:
                await self._slots[gate].open()
        for spec in specs:
            task = asyncio.create_task(self._run_one(spec))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        deadline = time.monotonic() + wait_s
        if not self._finished and self._running and not (self._journal and self._journal.pending):
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait_s)
        # let a few more finish so each exchange carries a useful batch
        await asyncio.sleep(max(0.0, min(min_batch_s, deadline - time.monotonic())))
        return self._drain()

    async def _run_one(self, spec: EpisodeSpec) -> None:
        CALL_SCOPE.set(spec.episode_id)  # this task's own context: its batched calls' custom ids
        async with self._slots[self._gate_of[spec.model_id]].place():
            self._active += 1
            try:
                result = await self._episode(spec)
            except Exception as exc:  # never lose an episode: record it as agent_error
                result = EpisodeResult(_failed_row(self._run, spec, exc, self._node_id, self._config.scoring))
            finally:
                self._active -= 1
        result.episode.attempt = spec.attempt
        if result.transcript is not None:
            result.transcript.attempt = spec.attempt
        self._finished.append(result)
        self._wakeup.set()

    async def check(self) -> str | None:
        """Build every endpoint now, so a provider that cannot be built (a key missing on this
        node, the local extra not installed) stops the sweep with its reason instead of turning
        every episode into an error. Returns the reason, or None."""
        strategies = self._config.strategies
        try:
            for m in self._config.models:
                if m.id == self._config.judge:
                    self._endpoints.model_call(m.id, "native")
                if m.gate_key in self._shares:
                    for strategy in strategies:
                        self._endpoints.model_call(m.id, strategy)
        except (ProviderConfigError, MissingApiKey) as exc:
            return f"{self._name}: {exc}"
        for source in self._config.task_sources:
            try:
                tasks.plugin(source.name)  # importable here, and the same code the driver saw
            except tasks.PluginError as exc:
                return f"{self._name}: {exc}"
        return None

    async def _episode(self, spec: EpisodeSpec) -> EpisodeResult:
        task = tasks.get_task(spec.task, spec.dataset, self._config.scoring)  # cached by the tasks package
        example = task.example(spec.example_id)
        model = self._endpoints.model_call(spec.model_id, spec.strategy)
        judge = self._endpoints.model_call(self._config.judge, "native") if self._config.judge else None
        if self._cache is not None:  # answered from the cache when it holds the request
            scope, entries = self._cache.for_episode(spec)
            model = self._cached(self._cache, model, scope, entries, spec.strategy)
            judge = judge and self._cached(self._cache, judge, scope, entries, "native")
        result = await run_episode(run=self._run, episode_id=spec.episode_id, spec=spec, task=task,
                                   example=example, model=model,
                                   max_steps=self._config.agent.max_steps, node_id=self._node_id)
        row = result.episode
        if self._config.judge and row.status == "completed" and row.truncated:
            row.judge_correct = False  # a cut answer is not graded: never correct (see orchestrator.agent)
        elif judge is not None and row.status == "completed":
            step = max((c.step for c in result.calls), default=-1) + 1

            def on_attempt(record: AttemptRecord) -> None:
                result.calls.append(call_row(self._run, spec.episode_id, step, record))

            row.judge_correct, row.judge_error = await judge_answer(
                judge, task=task.name,
                question=example.question, reference=str(example.reference), answer=row.answer or "",
                deterministic=row.correct, seed=spec.seed, on_attempt=on_attempt, scoring=task.scoring)
            if row.judge_correct is not None and judge_decides(task.name, task.scoring):
                row.correct = row.judge_correct
        return result

    def _cached(self, cache: RunnerCache, call: ModelCall, scope: str, entries: dict[str, str],
                strategy: str) -> ModelCall:
        gate = self._endpoints.gate(self._config.model(call.model_id).gate_key)
        return cache.wrap(call, scope=scope, entries=entries, strategy=strategy,
                                breaker_state=lambda: gate.breaker.state)

    def _drain(self) -> FinishedBatch:
        finished, self._finished = self._finished, []
        events, self._events = self._events, []
        rows = {"episodes": [r.episode.to_dict() for r in finished],
                "calls": [c.to_dict() for r in finished for c in r.calls],
                "events": [e.to_dict() for e in events],
                # every episode has a transcript, empty when it failed before its first turn
                "transcripts": [(r.transcript or _empty_transcript(self._run, r.episode)).to_dict() for r in finished]}
        payloads = {kind: ipc_payload(to_table(kind, kind_rows)) for kind, kind_rows in rows.items() if kind_rows}
        stored = self._cache.drain() if self._cache is not None else None
        if stored is not None:  # completions for the driver's cache file (never a run-directory table)
            payloads["cache"] = ipc_payload(stored)
        return FinishedBatch(
            runner=self._name,
            payloads=payloads,
            done_ids=[r.episode.episode_id for r in finished],
            running=self._active,
            gates=self._endpoints.counters(),
            batches=self._journal.drain() if self._journal is not None else [],
        )

    def describe(self) -> dict[str, Any]:
        """Where this runner lives and how much memory it holds: for diagnostics, failure drills and
        memory benchmarks (``rss_kib`` now, ``peak_rss_kib`` since start; None off Linux)."""
        return {"runner": self._name, "pid": os.getpid(), "node_id": self._node_id,
                "running": self._active, "held": len(self._running),
                "own_simulator": self._simulator.base_url if self._simulator else None, **memory_kib()}

    async def close(self) -> dict[str, Any] | None:
        """Cancel what runs and close the clients; what this runner's own simulator served, if it has one."""
        for task in list(self._running):
            task.cancel()
        await self._endpoints.aclose()
        if self._simulator is None:
            return None
        return await asyncio.to_thread(stop_with_stats, self._simulator, node_id=self._node_id, runner=self._name)


def memory_kib() -> dict[str, int | None]:
    """Resident set size now and at its peak, from /proc/self/status (VmRSS, VmHWM)."""
    fields = {"VmRSS": "rss_kib", "VmHWM": "peak_rss_kib"}
    found: dict[str, int | None] = dict.fromkeys(fields.values())
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in fields:
                found[fields[key]] = int(value.split()[0])
    return found


def _node_id() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    except Exception:
        return None


def _empty_transcript(run: str, episode: EpisodeRow) -> TranscriptRow:
    row = transcript_row(run, episode.episode_id, episode.model_id, ())
    row.attempt = episode.attempt
    return row


def _failed_row(run: str, spec: EpisodeSpec, exc: BaseException, node_id: str | None,
                scoring: str | None = None) -> EpisodeRow:
    return EpisodeRow(
        run=run, episode_id=spec.episode_id, model_id=spec.model_id, provider="", model="",
        task=spec.task, example_id=spec.example_id, seed=spec.seed, strategy=spec.strategy,
        status="agent_error", answer=None, correct=None, judge_correct=None, state_correct=None,
        steps_match=None, step_ratio=None, n_steps=0, expected_steps=0, tool_calls=[], n_attempts=0,
        n_retries=0, input_tokens=0, output_tokens=0, cost_usd=None, started_at=time.time(),
        duration_s=0.0, error_class=type(exc).__name__, error_message=str(exc)[:500], node_id=node_id,
        dataset=spec.dataset, scoring=scoring,
    )
