"""What a run *is*, as hashes of the sweep config: ``config_hash`` (the whole config as the first
release hashed it; runs record it) and ``episode_settings`` / ``episode_hash`` (every setting but
the operational ones, which may change between sessions of one run: gates, Ray, the cache, the
budget, timeouts). A resume or ``--retry-errors`` is refused only when the episode settings differ,
naming the fields that do (``changed_settings``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from orchestrator.config.schema import SweepConfig
from providers.simulator.config import DEFAULT_TTFT_SHARE, BatchConfig
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING


def config_hash(config: SweepConfig) -> str:
    """A stable hash of what decides the plan and the results (not ``output`` nor ``ray``; nor
    ``cache``, whose answers are the ones the provider gave, nor ``budget``, which a run resumes
    with a larger one of)."""
    data = config.model_dump(mode="json", exclude={"output", "ray", "cache", "budget", "fail_on"})
    # keys added since the first schema hash as if absent while at their defaults, so a run made
    # before they existed still resumes
    _drop_defaults(data, {"scoring": DEFAULT_SCORING, "catalog": []})
    _drop_defaults(data["simulator"], {"batch": BatchConfig().model_dump(mode="json"), "url": None})
    for selection in data["tasks"]:
        _drop_defaults(selection, {"dataset": DEFAULT_DATASET, "module": None, "path": None, "mcp": None})
    for model in data["models"]:
        model.pop("stream", None)  # how calls are made, not what they are
        if model["latency_ms"]:
            _drop_defaults(model["latency_ms"], {"ttft_share": DEFAULT_TTFT_SHARE})
        _drop_defaults(model, {"api": None, "max_tokens_param": None, "reasoning": None, "batch": False,
                               "reasoning_summary": None, "impersonates": None})
        if model["price_per_mtok"]:
            _drop_defaults(model["price_per_mtok"], {"cached_input": None})
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _drop_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, default in defaults.items():
        if key in data and data[key] == default:
            del data[key]


# What may change between the sessions of one run: how episodes are run, not what they are (the
# limits and retries of the gates, Ray, the cache, the budget, where the run lives, when it fails,
# a model's gate and whether it streams, an MCP server's timeouts and session cap). Everything else
# is in ``episode_settings``.
OPERATIONAL_KEYS = ("output", "ray", "cache", "budget", "fail_on", "providers")
OPERATIONAL_MODEL_KEYS = ("gate", "stream")
OPERATIONAL_MCP_KEYS = ("start_timeout_s", "call_timeout_s", "max_sessions")


def episode_settings(config: SweepConfig) -> dict[str, Any]:
    """What the config says an episode *is*: every setting but the operational ones, as JSON data.

    Keys at their defaults are left out, so a key added later leaves the settings of a config that
    does not set it unchanged. Models are keyed by id and tasks by name, so a change reads as
    ``models.gpt.temperature`` and reordering either list changes nothing."""
    data = config.model_dump(mode="json", exclude_defaults=True, exclude=set(OPERATIONAL_KEYS))
    models = {}
    for model in data.pop("models"):
        for key in OPERATIONAL_MODEL_KEYS:
            model.pop(key, None)
        models[model["id"]] = model
    tasks = {}
    for selection in data.pop("tasks"):
        for key in OPERATIONAL_MCP_KEYS:
            (selection.get("mcp") or {}).pop(key, None)
        tasks[selection["name"]] = selection
    data["models"], data["tasks"] = models, tasks
    data["seeds"] = sorted(config.seeds)  # the default [0] is a setting too
    return data


def episode_hash(config: SweepConfig) -> str:
    """A stable hash of :func:`episode_settings`: a run resumes (or retries) under a config of the same hash."""
    return settings_hash(episode_settings(config))


def settings_hash(settings: dict[str, Any]) -> str:
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_settings(before: Any, after: Any, at: str = "") -> list[str]:
    """The dotted paths where two ``episode_settings`` differ (a key added or removed counts)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changed = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{at}.{key}" if at else str(key)
            if key not in before or key not in after:
                changed.append(path)
            else:
                changed.extend(changed_settings(before[key], after[key], path))
        return changed
    return [] if before == after else [at or "top level"]
