"""A sweep with ``models[].stream: true`` end to end: every ok call records its time to first token,
mid-stream breaks are retried, and the report shows the streaming table."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.report import build_report
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, write_config

FORMATS = ("openai", "openai_responses", "anthropic", "google")


def model(model_id: str, api_format: str, *, stream: bool) -> dict:
    return {"id": model_id, "provider": "simulated", "model": "oracle", "api_format": api_format, "stream": stream,
            "latency_ms": {"mean": 40, "jitter": 10}, "faults": {"midstream": 0.1}}


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_streamed_sweep_records_ttft_on_every_ok_call_and_reports_it(tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single", "limit": 3}],
        models=[model(f"stream-{f}", f, stream=True) for f in FORMATS] + [model("plain", "openai", stream=False)],
        providers={"simulated": {"rpm": 60000, "max_attempts": 8, "timeout_s": 10}}, simulator={"seed": 0})
    assert run_sweep(load_config(path), config_path=path, limit=None) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert set(df["episode_id"]) == planned_ids(path)
    assert df["correct"].all(), df.filter(~pl.col("correct"))[["model_id", "status", "error_message"]]

    c = calls(run)
    streamed = c.filter(pl.col("model_id").str.starts_with("stream-"))
    ok = streamed.filter(pl.col("outcome") == "ok")
    assert ok["ttft_s"].null_count() == 0 and (ok["ttft_s"] < ok["latency_s"]).all()
    assert ok["output_tokens_per_s"].null_count() == 0 and (ok["output_tokens_per_s"] > 0).all()
    assert streamed.filter(pl.col("outcome") == "connection").height > 0  # broken streams, retried
    assert streamed.filter((pl.col("outcome") == "http_5xx") & (pl.col("http_status") == 529)).height > 0
    plain = c.filter(pl.col("model_id") == "plain")
    assert plain["ttft_s"].null_count() == plain.height and plain["output_tokens_per_s"].null_count() == plain.height

    result = build_report([run], tmp_path / "report", n_boot=50)
    table = pl.read_csv(tmp_path / "report" / "streaming.csv")
    assert sorted(table["model_id"]) == sorted(f"stream-{f}" for f in FORMATS)  # the plain model has no row
    assert (table["ttft_p50_s"] <= table["ttft_p95_s"]).all() and (table["ttft_p50_s"] > 0.005).all()
    assert "Streaming: time to first token" in result.index.read_text()
