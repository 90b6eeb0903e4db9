"""The sweep config (sweep.yaml): its schema, loading with line numbers, and the cross-checks.

Every user mistake becomes a ``ConfigError`` with one line, ``<file>:<line>: <field>: <problem>``,
so the CLI can print it as it is. Unknown keys are errors at every level.

- ``schema``: the pydantic models (every key, default and limit), gates and reasoning variants;
- ``identity``: what a run is, as hashes (``config_hash``, ``episode_settings``);
- ``yaml_reader``: the bounded YAML reader that records the line of every key;
- ``checks``: what the schema cannot see, found step by step; the sweep's own tasks they load
  are returned, not stored;
- ``loading``: ``load_config``, tying the three together;
- ``errors``: ``ConfigError`` and the message's shape.

What each API's reasoning setting accepts lives in ``providers.catalog.apis``, the default gate
limits in ``providers.gate.defaults``; both are re-exported here for existing imports.
"""

from orchestrator.config.checks import located, validate_semantics
from orchestrator.config.errors import ConfigError, Loc, format_loc
from orchestrator.config.identity import (
    changed_settings,
    config_hash,
    episode_hash,
    episode_settings,
    settings_hash,
)
from orchestrator.config.loading import load_config
from orchestrator.config.schema import (
    MAX_SEEDS,
    AgentConfig,
    BudgetSettings,
    CacheMode,
    CacheSettings,
    Effort,
    FailOn,
    LocalOptions,
    McpSettings,
    ModelConfig,
    PricePerMTok,
    RayConfig,
    ReasoningSetting,
    Scoring,
    SimulatorSettings,
    Strategy,
    SweepConfig,
    TaskSelection,
)
from orchestrator.config.yaml_reader import MAX_CONFIG_BYTES, MAX_CONFIG_NODES, MAX_INT_DIGITS
from providers.catalog.apis import DEFAULT_TEMPERATURE_ONLY, EFFORTS, MIN_BUDGET_TOKENS
from providers.gate.defaults import DEFAULT_GATES
from tasks.variants import DEFAULT_DATASET

__all__ = [
    "DEFAULT_DATASET", "DEFAULT_GATES", "DEFAULT_TEMPERATURE_ONLY", "EFFORTS", "MAX_CONFIG_BYTES",
    "MAX_CONFIG_NODES", "MAX_INT_DIGITS", "MAX_SEEDS", "MIN_BUDGET_TOKENS", "AgentConfig", "BudgetSettings",
    "CacheMode", "CacheSettings", "ConfigError", "Effort", "FailOn", "Loc", "LocalOptions", "McpSettings", "ModelConfig",
    "PricePerMTok", "RayConfig", "ReasoningSetting", "Scoring", "SimulatorSettings", "Strategy", "SweepConfig",
    "TaskSelection", "changed_settings", "config_hash", "episode_hash", "episode_settings", "format_loc", "load_config", "located", "settings_hash",
    "validate_semantics",
]
