"""A runner's places for one gate's episodes: at most ``limit`` run at once, until ``open()``.

The bound keeps a runner from starting more episodes than its share of the gate can serve, so
episodes stuck behind one endpoint's open breaker never take another endpoint's places. Once the
gate's queue at the driver is empty no episode is waiting for a place anywhere, and the episodes
the runner was handed in the last round (``orchestrator.dispatch_order.final_share``) should start
together rather than one by one as places free up: the driver then tells the runner to ``open()``
the gate's places — when nothing the user wrote bounds them
(``orchestrator.capacity.places_open_at_the_end``) — and the gate itself (adaptive concurrency,
rate limits) paces their calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class EpisodeSlots:
    """``async with slots.place():`` runs the block once fewer than ``limit`` blocks run (first come,
    first served), or at once after ``open()``."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.in_use = 0
        self.is_open = False
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.is_open or self.in_use < self.limit)
            self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            async with self._changed:
                self._changed.notify()

    async def open(self) -> None:
        """Let every episode held, and every one handed over from now on, run at once."""
        if not self.is_open:
            self.is_open = True
            async with self._changed:
                self._changed.notify_all()
