"""The driver's loop: hand queued episodes to runners, write what comes back, replace a dead runner.

An episode is in exactly one of three places — its gate's queue, one runner, or on disk — which
makes the two failure paths simple: a dead runner's episodes go back to the front of their queue
(none of them reached the disk), and a killed driver loses only rows not yet flushed, which resume
runs again.

The loop knows runners only through a ``RunnerPool`` and the types of ``orchestrator.pool``
(``orchestrator.ray_pool.RayRunnerPool`` in a sweep; plain fakes in the tests), so each part —
dispatch, collect, replace, flush — can be driven alone.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.batches import BatchLog
from orchestrator.budget import BudgetGuard
from orchestrator.cache import ResponseStore
from orchestrator.capacity import episode_slots, gate_shares, places_open_at_the_end
from orchestrator.config import ConfigError, SweepConfig
from orchestrator.dispatch_order import final_share, last_round
from orchestrator.plan import EpisodeSpec
from orchestrator.pool import FinishedBatch, RunnerDied, RunnerPool
from orchestrator.progress import SweepProgress
from orchestrator.writer import PartWriter

MAX_RUNNER_REPLACEMENTS = 8
TABLES = ("calls", "events", "transcripts", "episodes")


@dataclass
class RunnerSlot:
    """The driver's view of one runner: its handle, how many episodes to keep with it per gate
    (only the gates it has a share of), what it holds (by id, in the order handed over), how many
    of those go through each gate, and the exchange under way."""

    name: str
    index: int
    handle: object
    targets: dict[str, int]
    holding: dict[str, tuple[str, EpisodeSpec]] = field(default_factory=dict)  # id → (gate, spec)
    per_gate: Counter[str] = field(default_factory=Counter)
    ticket: Hashable | None = None
    running: int = 0  # of what it holds, the episodes under way at its last exchange
    acks: list[str] = field(default_factory=list)  # batch journal intents written, to acknowledge
    known_sent: int = 0  # how many of the batch log's pairs this runner was sent

    def hold(self, gate: str, spec: EpisodeSpec) -> None:
        self.holding[spec.episode_id] = (gate, spec)
        self.per_gate[gate] += 1

    def release(self, episode_id: str) -> None:
        held = self.holding.pop(episode_id, None)
        if held is not None:
            self.per_gate[held[0]] -= 1


def hold_target(slots: int) -> int:
    """Episodes to keep with a runner for a gate where it runs ``slots`` at once: a little more, so
    it never idles between exchanges."""
    return slots + max(1, slots // 4)


class Driver:
    """Runs ``todo`` on ``config.ray.runners`` runners of ``pool``, writing rows through ``writer``."""

    def __init__(self, config: SweepConfig, todo: Sequence[EpisodeSpec], pool: RunnerPool, writer: PartWriter,
                 progress: SweepProgress, *, wait_s: float = 1.0,
                 max_replacements: int = MAX_RUNNER_REPLACEMENTS, cache: ResponseStore | None = None,
                 budget: BudgetGuard | None = None, batch_log: BatchLog | None = None) -> None:
        self.config = config
        self.batch_log = batch_log  # with batched models: the run's batch journal (orchestrator.batches)
        self.cache = cache
        # with a budget: episodes it refused wait here; once nothing is out and a second look admits
        # none of them, the sweep stops with the budget reached (orchestrator.budget)
        self.budget = budget
        self.deferred: deque[tuple[str, EpisodeSpec]] = deque()
        self.budget_reached = False
        self._second_look = False
        self.pool = pool
        self.writer = writer
        self.progress = progress
        self.wait_s = wait_s
        self.max_replacements = max_replacements
        # One queue per gate, and a runner's slots are per gate too: episodes stuck behind one
        # endpoint's open breaker then hold only that endpoint's share, never the others'.
        gate_of = {m.id: m.gate_key for m in config.models}
        self.queues: dict[str, deque[EpisodeSpec]] = {gate: deque() for gate in dict.fromkeys(gate_of.values())}
        for spec in todo:
            self.queues[gate_of[spec.model_id]].append(spec)
        self.remaining = len(todo)
        # Each place's gate shares, computed once here and handed to every runner that fills it.
        n = config.ray.runners
        self.shares = [gate_shares(config, n, index) for index in range(n)]
        self.slots: list[RunnerSlot] = []
        self.replacements = 0
        self.breakers: dict[str, str] = {}
        self._by_ticket: dict[Hashable, RunnerSlot] = {}

    def run(self) -> None:
        """Start the runners, keep them fed until every episode is back, stop them."""
        self.start()
        finished = False
        try:
            # the first batches wait at each runner while it starts, so none waits for the slowest
            for slot in self.slots:
                self.dispatch(slot)
            self.check()
            while self.remaining > 0 and not self.budget_reached:
                self.step()
            finished = True
        finally:
            for slot in self.slots:
                self.pool.stop(slot.handle, graceful=finished)

    def start(self) -> None:
        """One runner per place."""
        self.slots = [self._spawn(index, f"runner-{index}") for index in range(len(self.shares))]

    def check(self) -> None:
        """A provider that cannot be built on a runner stops the sweep (ConfigError; ``run`` then stops
        the runners, and what they were handed is not on disk, so resume runs it)."""
        problems = [p for p in self.pool.check([slot.handle for slot in self.slots]) if p]
        if problems:
            raise ConfigError(f"a provider cannot be built on a runner: {problems[0]}")

    def _spawn(self, index: int, name: str) -> RunnerSlot:
        shares = self.shares[index]
        # a gate whose max_in_flight is below the number of runners is served by the first few
        targets = {gate: hold_target(episode_slots(self.config, share))
                   for gate, share in shares.items() if gate in self.queues}
        return RunnerSlot(name, index, self.pool.start(index, name, shares), targets)

    def dispatch(self, slot: RunnerSlot) -> list[EpisodeSpec]:
        """Top the runner up to its targets from the queues (the last round split level between the
        runners, ``orchestrator.dispatch_order``) and start its next exchange."""
        batch = []
        for gate, target in slot.targets.items():
            queue = self.queues[gate]
            wanted = final_share(len(queue), self._held(gate), slot.per_gate[gate], target)
            while wanted and queue:
                spec = queue.popleft()
                if self.budget is not None and not self._admit(gate, spec):
                    continue
                slot.hold(gate, spec)
                batch.append(spec)
                wanted -= 1
        cached = self.cache.entries_for(batch, self.config) if self.cache is not None and batch else None
        slot.ticket = self.pool.exchange(slot.handle, batch, self._open_gates(slot), cached,
                                         **self._journal_answer(slot))
        self._by_ticket[slot.ticket] = slot
        return batch

    def _journal_answer(self, slot: RunnerSlot) -> dict[str, Any]:
        """The runner's batch intents now on disk, and the batches it has not heard of yet."""
        if self.batch_log is None:
            return {}
        answer: dict[str, Any] = {}
        if slot.acks:
            answer["acks"], slot.acks = slot.acks, []
        pairs = self.batch_log.pairs
        if slot.known_sent < len(pairs):
            answer["known"] = dict(pairs[slot.known_sent:])
            slot.known_sent = len(pairs)
        return {"batches": answer} if answer else {}

    def _held(self, gate: str) -> list[int]:
        return [slot.per_gate[gate] for slot in self.slots if gate in slot.targets]

    def _open_gates(self, slot: RunnerSlot) -> list[str]:
        """The runner's gates in their last round whose places may then open (``capacity``)."""
        return [gate for gate, target in slot.targets.items()
                if last_round(len(self.queues[gate]), target, len(self._held(gate)))
                and places_open_at_the_end(self.config, self.shares[slot.index][gate])]

    def step(self) -> None:
        """Take the exchanges that ended (waiting up to ``wait_s``), send each runner its next one."""
        for ticket in self.pool.ready(list(self._by_ticket), self.wait_s):
            slot = self._by_ticket.pop(ticket)
            try:
                batch = self.pool.result(ticket)
            except RunnerDied:
                slot = self.replace(slot)
            else:
                self.collect(slot, batch)
            if self.remaining > 0:
                self.dispatch(slot)
        if self.deferred:
            self._look_again()
        self.flush()

    def collect(self, slot: RunnerSlot, batch: FinishedBatch) -> None:
        """Buffer a returned batch's rows for writing and count its episodes as done."""
        if batch.batches and self.batch_log is not None:  # durable before the runner may submit
            slot.acks += self.batch_log.append(batch.batches)
        tables = {kind: batch.table(kind) for kind in TABLES}
        for kind, table in tables.items():
            if table is not None:
                self.writer.add(kind, table)
        if self.cache is not None:
            self.cache.store(batch.table("cache"))
        if self.budget is not None:
            self.budget.settle(tables["calls"], batch.done_ids)
        for episode_id in batch.done_ids:
            slot.release(episode_id)
        self.remaining -= len(batch.done_ids)
        slot.running = batch.running
        for key, counters in batch.gates.items():
            if "breaker_state" in counters:
                self.breakers[key] = counters["breaker_state"]
        self.progress.record(tables["episodes"], tables["calls"], running=sum(s.running for s in self.slots),
                             breakers=self.breakers)

    def replace(self, slot: RunnerSlot) -> RunnerSlot:
        """A dead runner's episodes go back to the front of their queues, in the order it got them,
        and a fresh runner takes its place (a new actor starts clean; the driver already knows what
        the old one held). Past ``max_replacements`` the sweep gives up."""
        for gate, spec in reversed(slot.holding.values()):
            self.queues[gate].appendleft(spec)
            if self.budget is not None:
                self.budget.release(spec.episode_id)
        self.replacements += 1
        if self.replacements > self.max_replacements:
            raise RuntimeError("runners keep dying; giving up (see the Ray logs)")
        self.pool.stop(slot.handle, graceful=False)
        fresh = self._spawn(slot.index, f"{slot.name.split('.')[0]}.{self.replacements}")
        self.slots[self.slots.index(slot)] = fresh
        return fresh

    def _admit(self, gate: str, spec: EpisodeSpec) -> bool:
        assert self.budget is not None
        if self.budget.admit(spec):
            self._second_look = False
            return True
        self.deferred.append((gate, spec))
        return False

    def _look_again(self) -> None:
        """Nothing out and nothing queued: the refused episodes get one more look (what came back
        may have cost less than expected); refused again, the budget is reached."""
        if any(slot.holding for slot in self.slots) or any(self.queues.values()):
            return
        if self._second_look:
            self.budget_reached = True
            return
        self._second_look = True
        while self.deferred:
            gate, spec = self.deferred.popleft()
            self.queues[gate].append(spec)

    def flush(self) -> None:
        """Write the buffered rows when they are due, and redraw the progress."""
        self.writer.maybe_flush()
        self.progress.refresh()
