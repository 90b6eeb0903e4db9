"""The seam between the driver and its runners: the ``RunnerPool`` protocol and what crosses it.

The driver (``orchestrator.driver``) knows runners through these types alone; a runner
(``orchestrator.runner``) fills a ``FinishedBatch``; ``orchestrator.ray_pool`` carries both over Ray,
and the tests' fakes stand in for it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from orchestrator.plan import EpisodeSpec
from providers.gate.config import GateConfig


class RunnerDied(Exception):
    """A runner went away mid-exchange (its process or node died): what it held never reached the disk."""


@dataclass
class FinishedBatch:
    """What a runner hands back: finished rows as Arrow tables, and its live counters.

    The tables travel as Arrow IPC streams (``payloads``, by table name): one buffer each, which
    Ray ships as it is, where pickling a ``pa.Table`` walks it column by column in Python.
    """

    runner: str
    payloads: dict[str, bytes]
    done_ids: list[str]
    running: int  # episodes under way (not those waiting for a slot)
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)  # batch journal entries (orchestrator.batches)

    def table(self, kind: str) -> pa.Table | None:
        """The rows of ``kind`` (episodes, calls, events) this exchange carries, if any."""
        payload = self.payloads.get(kind)
        return None if payload is None else pa.ipc.open_stream(payload).read_all()


def ipc_payload(table: pa.Table) -> bytes:
    """``table`` as one Arrow IPC stream buffer, the form ``FinishedBatch.payloads`` hold."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class RunnerPool(Protocol):
    """How the driver starts, talks to and stops runners; ``Handle`` and ``Ticket`` are the pool's own."""

    def start(self, index: int, name: str, shares: dict[str, GateConfig]) -> object:
        """A new runner in place ``index`` with these gate shares; returns its handle."""

    def check(self, handles: Sequence[object]) -> list[str | None]:
        """Each runner's reason it cannot build its providers, or None."""

    def exchange(self, handle: object, batch: list[EpisodeSpec], open_gates: Sequence[str] = (),
                 cached: object | None = None, **journal: Any) -> Hashable:
        """Start an exchange (hand over ``batch``, get back what finished; ``open_gates`` may run all
        their episodes at once, ``orchestrator.slots``; with the response cache on, ``cached``
        carries the batch's entries, ``orchestrator.cache``; with batched models, ``batches=`` the
        batch journal's answer, ``orchestrator.batches``); returns its ticket."""

    def ready(self, tickets: Sequence[Hashable], timeout_s: float) -> list[Hashable]:
        """The tickets whose exchange has ended, waiting up to ``timeout_s`` for one."""

    def result(self, ticket: Hashable) -> FinishedBatch:
        """What an ended exchange returned; ``RunnerDied`` when its runner died."""

    def stop(self, handle: object, *, graceful: bool) -> None:
        """End a runner: let it close its clients first when ``graceful``."""
