"""The example sweeps in sweeps/ stay valid as the config schema evolves."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.config import load_config, validate_semantics

SWEEPS = sorted((Path(__file__).resolve().parents[2] / "sweeps").glob("*.yaml"))


def test_there_are_example_sweeps_for_each_kind_of_provider():
    providers = {m.provider for path in SWEEPS for m in load_config(path, check_keys=False).models}
    assert {"simulated", "openai", "anthropic", "local"} <= providers


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_every_example_sweep_validates(path, monkeypatch):
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "LOCAL_LLM_KEY"):
        monkeypatch.setenv(variable, "test-key")
    config = load_config(path)
    validate_semantics(config, check_keys=True)
    assert config.name and config.models
