"""How many episodes a runner runs at once for each endpoint, and whether every endpoint's
``max_in_flight`` can be reached.

A runner runs each endpoint's episodes in that endpoint's own slots (so episodes stuck behind one
endpoint's open breaker never take another's places). An episode has at most one call in flight,
so the slots all runners give an endpoint bound its calls in flight. ``ray.max_concurrency_per_runner``
set in the config bounds the slots; left unset, a pinned endpoint gets exactly its runner's share of
``max_in_flight`` — however large, the cap is reachable — and an adaptive one ``DEFAULT_SLOTS``.
"""

from __future__ import annotations

from orchestrator.config import Loc, SweepConfig
from providers.gate.config import GateConfig

DEFAULT_SLOTS = 64  # the documented default of ray.max_concurrency_per_runner
SETTING: Loc = ("ray", "max_concurrency_per_runner")


def gate_shares(config: SweepConfig, n_runners: int, index: int) -> dict[str, GateConfig]:
    """Runner ``index``'s share of each gate the models use (``GateConfig.share``), leaving out the
    gates it serves none of (a ``max_in_flight`` below the number of runners). The driver computes
    these once per runner and hands them over."""
    shares = {key: gate.share(n_runners, index) for key, gate in config.gates().items()}
    return {key: share for key, share in shares.items() if share is not None}


def episode_slots(config: SweepConfig, share: GateConfig) -> int:
    """Episodes one runner runs at once for an endpoint of which it has ``share``.

    A pinned share gets no more slots than its calls in flight: more episodes would only queue at
    the gate with their turns interleaved, which costs a local model its prompt cache (an
    episode's next prompt extends its last, so run back to back its turns re-read only new tokens).
    """
    pinned = share.max_in_flight
    if "max_concurrency_per_runner" not in config.ray.model_fields_set:
        return pinned or DEFAULT_SLOTS
    setting = config.ray.max_concurrency_per_runner
    return min(setting, pinned) if pinned else setting


def places_open_at_the_end(config: SweepConfig, share: GateConfig) -> bool:
    """Whether a runner may run every episode it holds of an endpoint once the endpoint's queue is in
    its last round (``orchestrator.dispatch_order``): only when nothing the user wrote bounds its
    places — no ``max_concurrency_per_runner``, no ``max_in_flight`` (a pinned endpoint's places are
    its calls in flight; more episodes would only interleave their turns at the gate). The gate's
    adaptive concurrency and rate limits still pace the calls."""
    return "max_concurrency_per_runner" not in config.ray.model_fields_set and not share.max_in_flight


def unreachable_caps(config: SweepConfig) -> list[tuple[Loc, str]]:
    """Warnings for endpoints whose ``max_in_flight`` the runners' slots cannot reach (only when
    ``max_concurrency_per_runner`` is set: the default is sized to reach every cap)."""
    n = config.ray.runners
    warnings = []
    for key, gate in config.gates().items():
        if not gate.max_in_flight:
            continue
        shares = [gate.share(n, index) for index in range(n)]
        reachable = sum(episode_slots(config, share) for share in shares if share is not None)
        if reachable < gate.max_in_flight:
            needed = max(share.max_in_flight or 0 for share in shares if share is not None)
            warnings.append((SETTING, (
                f"{config.ray.max_concurrency_per_runner} per runner × {n} runners keep at most {reachable} calls "
                f"in flight to {key!r}, whose max_in_flight is {gate.max_in_flight}: set it to {needed} or leave "
                "it unset to reach the cap")))
    return warnings
