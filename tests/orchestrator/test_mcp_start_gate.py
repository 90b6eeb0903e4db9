"""Server starts take turns (``orchestrator.mcp_tools.session.StartGate``): at most the cores at
first, fewer after slow starts, more again after quick ones; the wait is queueing, not the start."""

from __future__ import annotations

import asyncio

from orchestrator.mcp_tools.session import StartGate


async def test_starts_beyond_the_limit_wait_for_a_turn():
    gate = StartGate(2)
    await gate.acquire()
    await gate.acquire()
    third = asyncio.ensure_future(gate.acquire())
    await asyncio.sleep(0.01)
    assert not third.done() and gate.starting == 2
    await gate.release(0.1, timeout_s=20)  # quick: the limit stays at its ceiling of 2
    await asyncio.wait_for(third, 5)
    assert gate.starting == 2 and gate.limit == 2


async def test_slow_starts_halve_the_limit_and_quick_ones_raise_it_to_the_ceiling():
    gate = StartGate(8)
    for expected in (4, 2, 1, 1):  # each start took 6 s of a 20 s timeout (over a quarter)
        await gate.acquire()
        await gate.release(6.0, timeout_s=20)
        assert gate.limit == expected
    await gate.acquire()
    await gate.release(None, timeout_s=20)  # a failed start says nothing of the load
    assert gate.limit == 1
    await gate.acquire()
    await gate.release(3.0, timeout_s=20)  # between an eighth and a quarter: unchanged
    assert gate.limit == 1
    for expected in (2, 3, 4, 5, 6, 7, 8, 8):  # under 2.5 s: one more each time, up to the ceiling
        await gate.acquire()
        await gate.release(1.0, timeout_s=20)
        assert gate.limit == expected
