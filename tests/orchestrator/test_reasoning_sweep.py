"""End to end with reasoning variants: config → Ray runners → simulated reasoning models through the
official SDKs → Arrow files with each variant's reasoning, tokens and the parameters it sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from providers.anthropic_provider import AnthropicProvider
from providers.openai_provider import OpenAIProvider
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, simulator_stats, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

SWEEPS = Path(__file__).resolve().parents[2] / "sweeps"
ADAPTERS_SAY_WHAT_THEY_SEND = all(hasattr(adapter, "wire_params") for adapter in (OpenAIProvider, AnthropicProvider))

MODELS = [
    {"id": "chat", "provider": "simulated", "model": "oracle", "api_format": "openai", "max_tokens": 2048,
     "reasoning": [{"effort": "low"}, {"effort": "high"}]},
    {"id": "claude", "provider": "simulated", "model": "oracle", "api_format": "anthropic", "max_tokens": 4096,
     "reasoning": [{"budget_tokens": 2048}, {"effort": "medium"}],
     "price_per_mtok": {"input": 3, "output": 15, "cached_input": 0.3}},
    {"id": "plain", "provider": "simulated", "model": "oracle"},
]
VARIANTS = {"chat@low": "low", "chat@high": "high", "claude@2048": "2048", "claude@medium": "medium",
            "plain": None}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    tmp_path = tmp_path_factory.mktemp("reasoning")
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 3},
                                         {"name": "multiverse_math", "limit": 3}], models=MODELS)
    assert run_sweep(load_config(path), config_path=path) == 0
    return path, tmp_path / "runs" / "e2e"


def test_each_variant_is_a_model_of_its_own_and_scores_like_its_base(run):
    path, run_dir = run
    df = episodes(run_dir)
    assert set(df["episode_id"]) == planned_ids(path) and df["episode_id"].n_unique() == df.height
    assert dict(zip(df["model_id"], df["reasoning"], strict=True)) == VARIANTS
    assert df.group_by("model_id").len()["len"].to_list() == [6] * len(VARIANTS)
    assert df["status"].unique().to_list() == ["completed"] and df["correct"].all()
    assert not df["truncated"].any()
    c = calls(run_dir)
    assert {"reasoning_tokens", "cached_input_tokens"} <= set(c.columns)
    assert set(c["outcome"]) == {"ok"}  # nothing a reasoning model's API would reject


def test_cost_bills_every_token_of_a_priced_variant(run):
    _, run_dir = run
    df = episodes(run_dir)
    claude = df.filter(df["model_id"].str.starts_with("claude"))
    expected = ((claude["input_tokens"] - claude["cached_input_tokens"]) * 3 + claude["cached_input_tokens"] * 0.3
                + claude["output_tokens"] * 15) / 1e6
    assert (claude["cost_usd"] - expected).abs().max() < 1e-12 and (claude["cost_usd"] > 0).all()
    assert df.filter(df["model_id"] == "plain")["cost_usd"].is_null().all()


@pytest.mark.skipif(not ADAPTERS_SAY_WHAT_THEY_SEND, reason="the OpenAI and Anthropic adapters' wire_params")
def test_request_params_are_what_reached_the_wire_and_reasoning_variants_think(run):
    _, run_dir = run
    df = episodes(run_dir)
    params = {model_id: json.loads(text) for model_id, text in zip(df["model_id"], df["request_params"], strict=True)}
    assert params["chat@high"]["reasoning_effort"] == "high"
    assert params["chat@high"]["max_completion_tokens"] == 2048 and "max_tokens" not in params["chat@high"]
    assert params["claude@2048"]["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert params["claude@medium"]["thinking"] == {"type": "adaptive"}
    assert params["claude@medium"]["output_config"] == {"effort": "medium"}
    assert "reasoning_effort" not in params["plain"] and "temperature" not in params["chat@low"]
    # the simulator counted the same values on every request of each model
    received: dict[str, dict[str, set[str]]] = {}
    for stats in simulator_stats(run_dir):
        for model_id, by_name in stats["params_by_model"].items():
            for name, values in by_name.items():
                received.setdefault(model_id, {}).setdefault(name, set()).update(values)
    for model_id, sent in params.items():
        for name, values in received[model_id].items():
            if name in sent:
                assert values == {json.dumps(sent[name], sort_keys=True)}, (model_id, name)
    thinking = df.filter(df["reasoning"].is_not_null())
    assert (thinking["reasoning_tokens"] > 0).all()
    assert (df.filter(df["model_id"] == "plain")["reasoning_tokens"] == 0).all()


def _simulates_every_format() -> bool:
    from providers import registry

    return "google" in registry.FACTORIES and ADAPTERS_SAY_WHAT_THEY_SEND


@pytest.mark.skipif(not _simulates_every_format(), reason="the Responses and Gemini adapters")
def test_the_reasoning_example_sweep_runs_through_all_four_formats(tmp_path):
    path = SWEEPS / "reasoning.yaml"
    config = load_config(path)
    assert run_sweep(config, config_path=path, out=tmp_path) == 0
    df = episodes(tmp_path / config.name)
    assert df.height == len(planned_ids(path)) and df["correct"].all()
    assert df["model_id"].str.contains("@").all() and (df["reasoning_tokens"] > 0).all()
    assert set(calls(tmp_path / config.name)["outcome"]) == {"ok"}
    params = {m: json.loads(p) for m, p in zip(df["model_id"], df["request_params"], strict=True)}
    assert params["sim-responses@high"]["reasoning"]["effort"] == "high"
    assert any("thinking" in json.dumps(p) for p in (params["sim-gemini@1024"], params["sim-gemini@high"]))
