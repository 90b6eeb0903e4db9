"""Honest accounting end to end: the noisy simulated model in every wire format, through the real
SDKs. A refusal is billed, so its calls row keeps its tokens and the episode its cost; a broken
call counts against the model on every API (Gemini's ``MALFORMED_FUNCTION_CALL`` included), so
the episode goes on to a scored end instead of a provider failure."""

from __future__ import annotations

import polars as pl
import pytest

from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

FORMATS = ("openai", "openai_responses", "anthropic", "google")


def test_refusals_keep_tokens_and_cost_and_broken_calls_are_scored_in_every_format(tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "multiverse_math", "limit": 8}], seeds=2,
        models=[{"id": f"noisy-{fmt}", "provider": "simulated", "model": "noisy", "api_format": fmt,
                 "price_per_mtok": {"input": 1.0, "output": 4.0},
                 "faults": {"refusal": 0.15, "malformed": 0.2}} for fmt in FORMATS])
    assert run_sweep(load_config(path), config_path=path) == 0
    run = tmp_path / "runs" / "e2e"
    c, df = calls(run), episodes(run)

    refusals = c.filter(pl.col("outcome") == "refusal")
    assert set(refusals["model_id"]) == {f"noisy-{fmt}" for fmt in FORMATS}  # the faults did fire everywhere
    assert (refusals["input_tokens"] + refusals["output_tokens"] > 0).all()
    refused = df.filter(pl.col("status") == "refused")
    assert refused.height > 0 and (refused["cost_usd"] > 0).all() and (refused["input_tokens"] > 0).all()

    malformed = c.filter(pl.col("outcome") == "malformed")
    assert "noisy-google" in set(malformed["model_id"])
    assert (malformed["input_tokens"] > 0).all()
    # a broken call is the model's mistake, never the provider's failure, on every API
    assert df.filter(pl.col("status") == "provider_failed").height == 0
    # every reply names the model that served it; the simulator serves the one asked for
    ok = c.filter(pl.col("outcome") == "ok")
    assert (ok["served_model"] == ok["model_id"]).all()
    assert (df.filter(pl.col("status") == "completed")["served_model"] == df.filter(
        pl.col("status") == "completed")["model_id"]).all()
