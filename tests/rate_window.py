"""The figure a rate limit is audited by, for the tests and benchmarks that audit one."""

from __future__ import annotations


def max_in_window(times: list[float], width: float = 1.0) -> int:
    """Most events in any half-open window [t, t + width)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
