"""Arrow part-file writer for the run directory.

Each flush writes one IPC file per table to a temporary name and renames it into place, so a part
is whole or absent: a killed sweep never leaves half a row, and resume reads only whole parts.
Calls, events and transcripts are flushed before episodes, so an episode row on disk always has
its calls and transcript on disk too; calls of an episode whose row was lost in a crash belong to
an episode that resume re-runs. The parts of one flush share one file name, and a transcripts part
counts only once the episodes part of that name exists (``orchestrator.rundir.part_files``): a
crash between the two leaves an orphan that is never read, so resume never records a transcript
twice. Transcripts, mostly text, are zstd-compressed; the other tables are read memory-mapped
and stay uncompressed.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from orchestrator.records import SCHEMAS

FLUSH_ORDER = ("calls", "events", "transcripts", "episodes")
COMPRESSED = {"transcripts": "zstd"}


def part_name(prefix: str) -> str:
    """A new part file name: ordered by time, unique."""
    return f"{prefix}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.arrow"


def write_part(directory: Path, table: pa.Table, prefix: str, *, name: str | None = None,
               compression: str | None = None) -> Path:
    """Write ``table`` as one Arrow IPC file in ``directory`` atomically; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    name = name or part_name(prefix)
    final = directory / name
    tmp = directory / (name + ".tmp")
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    with open(tmp, "rb") as fh:  # durable before it becomes visible
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


class PartWriter:
    """Buffers Arrow tables per kind and flushes them as part files by row count or age."""

    def __init__(self, run_dir: Path, *, prefix: str = "part", max_rows: int = 5000,
                 max_age_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.run_dir = Path(run_dir)
        self.prefix = prefix
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._clock = clock
        self._buffers: dict[str, list[pa.Table]] = {kind: [] for kind in SCHEMAS}
        self._rows = 0
        self._oldest: float | None = None
        self.rows_written: dict[str, int] = {kind: 0 for kind in SCHEMAS}

    def add(self, kind: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buffers[kind].append(table)
        self._rows += table.num_rows
        if self._oldest is None:
            self._oldest = self._clock()

    def due(self) -> bool:
        return self._rows >= self.max_rows or (
            self._oldest is not None and self._clock() - self._oldest >= self.max_age_s)

    def flush(self) -> int:
        """Write every buffered table; returns the number of episode rows written."""
        written_episodes = 0
        name = part_name(self.prefix)  # one name for the flush: it pairs a transcripts part with its episodes
        for kind in FLUSH_ORDER:
            tables = self._buffers[kind]
            if not tables:
                continue
            table = pa.concat_tables(tables).cast(SCHEMAS[kind])
            write_part(self.run_dir / kind, table, self.prefix, name=name, compression=COMPRESSED.get(kind))
            self.rows_written[kind] += table.num_rows
            if kind == "episodes":
                written_episodes = table.num_rows
            self._buffers[kind] = []
        self._rows = 0
        self._oldest = None
        return written_episodes

    def maybe_flush(self) -> int:
        return self.flush() if self.due() else 0
