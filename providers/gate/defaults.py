"""The gate limits of a provider endpoint the sweep config does not list.

Real APIs get conservative first-tier rates; the simulator and self-hosted endpoints rely on
adaptive concurrency; a local model runs one at a time.
"""

from __future__ import annotations

from providers.gate.config import GateConfig

DEFAULT_GATES: dict[str, GateConfig] = {
    "simulated": GateConfig(),
    "openai": GateConfig(rpm=500),
    "anthropic": GateConfig(rpm=50),
    "google": GateConfig(rpm=60),  # below the lowest paid tier's per-minute limit of the Pro models
    "local": GateConfig(max_in_flight=1, timeout_s=300),
}


def default_gate(key: str) -> GateConfig:
    """The limits of gate ``key`` when the config gives none: its provider's, else the plain default."""
    return DEFAULT_GATES.get(key, GateConfig())
