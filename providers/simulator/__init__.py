"""The provider simulator: a real aiohttp server on loopback speaking the OpenAI Chat Completions,
OpenAI Responses, Anthropic Messages and Gemini wire formats, plain and streaming, whose "models"
are agent policies with seeded faults.

Layers, one concern per file: ``routes_*`` read and write each wire format (``streaming`` cuts a
reply into its API's events, ``history`` checks tool histories as the APIs do); ``exchange``
validates a request and draws its fate (``faults``); then
``wrappers.with_latency(wrappers.with_faults(replies.policy_reply))`` delays it, fails it as
drawn, or answers with the next turn of its ``policies`` (which read the ``conversation``);
``stats`` counts what was served. ``server`` runs it in-process, ``process`` in a child process,
``__main__`` is the command line.
"""

from typing import TYPE_CHECKING, Any

from providers.simulator.config import (
    POLICY_NAMES,
    FaultConfig,
    LatencyConfig,
    ModelProfile,
    NoiseConfig,
    Outage,
    TruncateConfig,
    profiles_from_json,
    profiles_to_json,
)

if TYPE_CHECKING:
    from providers.simulator.exchange import INVALID_KEY
    from providers.simulator.process import SimulatorProcess
    from providers.simulator.server import SimulatorServer

# The server's parts load on first use (PEP 562): the sweep's config imports ``config`` from this
# package, and the driver's path to starting Ray must not pay for aiohttp, which only the
# simulator's own process (and the in-process server of the tests) needs.
_LAZY = {"INVALID_KEY": "exchange", "SimulatorProcess": "process", "SimulatorServer": "server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"providers.simulator.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'providers.simulator' has no attribute {name!r}")


__all__ = [
    "INVALID_KEY",
    "POLICY_NAMES",
    "FaultConfig",
    "LatencyConfig",
    "ModelProfile",
    "NoiseConfig",
    "Outage",
    "SimulatorProcess",
    "SimulatorServer",
    "TruncateConfig",
    "profiles_from_json",
    "profiles_to_json",
]
