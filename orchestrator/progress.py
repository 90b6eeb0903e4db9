"""Live progress of a sweep: a rich panel on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.live import Live
from rich.table import Table

from orchestrator.records import CALL_OUTCOMES
from providers.keys import mask_keys


class SweepProgress:
    """Counts episodes and attempts as exchanges arrive; renders at most a few times a second."""

    def __init__(self, *, planned: int, already_done: int, console: Console | None = None,
                 log_every_s: float = 5.0) -> None:
        self.planned = planned
        self.already_done = already_done
        self.done = 0
        self.running = 0
        self.statuses: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self.tokens: Counter[str] = Counter()
        self.breakers: dict[str, str] = {}
        self._started = time.monotonic()
        self._console = console or Console(stderr=False)
        self._live: Live | None = None
        self._log_every_s = log_every_s
        self._last_log = 0.0

    @property
    def interactive(self) -> bool:
        return self._console.is_terminal

    def __enter__(self) -> SweepProgress:
        if self.interactive:
            self._live = Live(self._render(), console=self._console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def record(self, episodes: pa.Table | None, calls: pa.Table | None, running: int,
               breakers: dict[str, str]) -> None:
        if episodes is not None:
            self.done += episodes.num_rows
            self.statuses.update(episodes.column("status").to_pylist())
        if calls is not None:
            for row in pc.value_counts(pc.binary_join_element_wise(
                    calls.column("provider"), calls.column("outcome"), "\x1f")).to_pylist():
                provider, outcome = row["values"].split("\x1f")
                self.outcomes[provider][outcome] += row["counts"]
            self.tokens["input"] += pc.sum(calls.column("input_tokens")).as_py() or 0
            self.tokens["output"] += pc.sum(calls.column("output_tokens")).as_py() or 0
        self.running = running
        self.breakers.update(breakers)
        self.refresh()

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())
        elif time.monotonic() - self._last_log >= self._log_every_s:
            self._last_log = time.monotonic()
            print(self.line(), file=sys.stdout, flush=True)

    def rate(self) -> float:
        elapsed = time.monotonic() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta_s(self) -> float | None:
        remaining = self.planned - self.already_done - self.done
        rate = self.rate()
        return remaining / rate if rate > 0 else None

    def line(self) -> str:
        total_done = self.already_done + self.done
        eta = self.eta_s()
        parts = [f"{total_done}/{self.planned} episodes", f"{self.running} running",
                 f"{self.rate():.1f} ep/s", f"ETA {_fmt_s(eta)}"]
        for provider, counts in sorted(self.outcomes.items()):
            n = sum(counts.values())
            bad = ", ".join(f"{o} {counts[o] / n:.1%}" for o in CALL_OUTCOMES if o != "ok" and counts[o])
            parts.append(f"{provider}: {n} attempts{' (' + bad + ')' if bad else ''}"
                         f" breaker {self.breakers.get(provider, 'closed')}")
        return mask_keys(" | ".join(parts))

    def _render(self) -> Table:
        total_done = self.already_done + self.done
        table = Table(title=f"episodes {total_done}/{self.planned} · {self.running} running · "
                            f"{self.rate():.1f} ep/s · ETA {_fmt_s(self.eta_s())} · "
                            f"tokens in {self.tokens['input']:,} out {self.tokens['output']:,}")
        table.add_column("endpoint")
        table.add_column("attempts", justify="right")
        for outcome in CALL_OUTCOMES:
            table.add_column(outcome, justify="right")
        table.add_column("breaker")
        for provider, counts in sorted(self.outcomes.items()):
            n = sum(counts.values()) or 1
            table.add_row(mask_keys(provider), str(sum(counts.values())),
                          *[f"{counts[o] / n:.1%}" if counts[o] else "·" for o in CALL_OUTCOMES],
                          self.breakers.get(provider, "closed"))
        return table


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
