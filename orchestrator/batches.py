"""The batch journal: ``runs/<name>/batches.jsonl``, which makes a batched sweep safe to kill.

Only the driver writes the run directory and runners may be on other nodes, so the journal
travels over the runners' one channel, ``exchange``:

1. a runner about to submit a batch puts an ``intent`` entry (its key, model and custom ids) in
   its outbox and wakes its exchange; its submit waits;
2. the driver appends the entries an exchange brings to ``batches.jsonl`` (flushed and fsynced)
   and acknowledges their keys in that runner's next exchange;
3. the acknowledged runner submits, and sends the batch id back as a ``submitted`` entry.

A restarted sweep reads the journal and hands every runner the custom ids already in a batch
(``known``) with its first exchange: a call asking for one of those waits for that batch's
results rather than being submitted again (``providers.batch.caller``). Between the API's answer
to a submission and its ``submitted`` entry reaching the disk (a few milliseconds, an exchange)
a kill loses the batch id; that batch's calls are then submitted again.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

JOURNAL = "batches.jsonl"
Entry = dict[str, Any]


class RunnerJournal:
    """A runner's side: ``providers.batch.caller.BatchJournal`` over the exchange."""

    def __init__(self, runner: str, wake: Callable[[], None]) -> None:
        self._runner = runner
        self._wake = wake
        self._known: dict[str, str] = {}
        self._outbox: list[Entry] = []
        self._waiting: dict[str, asyncio.Future[None]] = {}

    async def before_submit(self, key: str, model_id: str, custom_ids: Sequence[str]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        self._outbox.append({"kind": "intent", "key": key, "model_id": model_id, "runner": self._runner,
                             "at": time.time(), "custom_ids": list(custom_ids)})
        self._wake()
        await future

    def submitted(self, key: str, batch_id: str) -> None:
        self._outbox.append({"kind": "submitted", "key": key, "batch_id": batch_id, "at": time.time()})
        self._wake()

    def lookup(self, custom_id: str) -> str | None:
        return self._known.get(custom_id)

    @property
    def pending(self) -> bool:
        return bool(self._outbox)

    def receive(self, message: Entry) -> None:
        """What the driver sent with an exchange: ``known`` (custom id → batch id, once) and ``acks``."""
        self._known.update(message.get("known", {}))
        for key in message.get("acks", ()):
            future = self._waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(None)

    def drain(self) -> list[Entry]:
        entries, self._outbox = self._outbox, []
        return entries


class BatchLog:
    """The driver's side: appends entries durably, and keeps every custom id known to be in a
    submitted batch, this session's and earlier ones' (``pairs``, in the order they became known:
    each runner is sent what it has not seen yet, so a runner re-running a dead one's episode
    finds that runner's batches too)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / JOURNAL
        self._intents: dict[str, list[str]] = {}
        self.pairs: list[tuple[str, str]] = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:  # a last line cut by a kill: never acknowledged, so never submitted
                    continue
                self._index(entry)

    def _index(self, entry: Entry) -> None:
        if entry.get("kind") == "intent":
            self._intents[entry["key"]] = entry["custom_ids"]
        elif entry.get("kind") == "submitted":
            self.pairs.extend((custom_id, entry["batch_id"]) for custom_id in self._intents.pop(entry["key"], ()))

    def append(self, entries: Sequence[Entry]) -> list[str]:
        """Write ``entries`` (fsynced before returning); the keys of the intents, to acknowledge."""
        if not entries:
            return []
        with self.path.open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries)
            out.flush()
            os.fsync(out.fileno())
        for entry in entries:
            self._index(entry)
        return [entry["key"] for entry in entries if entry["kind"] == "intent"]
