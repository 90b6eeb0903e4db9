"""A clock the gate's tests move by hand: ``sleep`` advances it instead of waiting."""

from __future__ import annotations

import asyncio


class FakeClock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(float(seconds))
        self.now += seconds
        await asyncio.sleep(0)
