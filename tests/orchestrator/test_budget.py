"""Budgets and estimates: a priced simulated model stops near its budget, resumes with a larger
one, and the estimate of the quick start is within 15 % of what it really uses."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from orchestrator.budget import BudgetGuard, cost_usd, estimate
from orchestrator.cli import main
from orchestrator.config import ConfigError, config_hash, load_config
from orchestrator.plan import build_plan
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, write_config

ROOT = Path(__file__).resolve().parents[2]
PRICE = {"input": 30.0, "output": 60.0}  # dear, so a few dozen episodes cost cents


def priced(tmp_path, budget, **fields):
    return write_config(tmp_path, tasks=[{"name": "multiverse_math", "limit": 10}, {"name": "typewriter_single",
                                                                                "limit": 10}], seeds=3,
                        models=[{"id": "sim", "provider": "simulated", "model": "oracle", "price_per_mtok": PRICE,
                                 "latency_ms": {"mean": 20, "jitter": 5}}],
                        ray={"runners": 2, "max_concurrency_per_runner": 4}, budget=budget, **fields)


def paid(run) -> float:
    c = calls(run).filter(pl.col("outcome") != "cached")
    return (c["input_tokens"].sum() * PRICE["input"] + c["output_tokens"].sum() * PRICE["output"]) / 1e6


def test_the_budget_is_not_in_the_config_hash_and_needs_prices(tmp_path):
    a = load_config(priced(tmp_path, {"usd": 0.5}))
    b = load_config(priced(tmp_path, {"usd": 5, "models": {"sim": 1}}, cache={"mode": "readwrite"}))
    assert config_hash(a) == config_hash(b)
    path = write_config(tmp_path, tasks=["typewriter_single"], budget={"usd": 1},
                        models=[{"id": "free", "provider": "simulated", "model": "oracle"}])
    with pytest.raises(ConfigError, match=r"sweep.yaml:\d+: budget.usd: model 'free' has no price_per_mtok"):
        load_config(path)
    path = priced(tmp_path, {"models": {"nobody": 1}})
    with pytest.raises(ConfigError, match="budget.models.nobody: 'nobody' is not a model id"):
        load_config(path)


def test_the_guard_admits_while_spent_and_in_flight_stay_within_the_budget(tmp_path):
    config = load_config(priced(tmp_path, {"usd": 0.05}))
    plan = build_plan(config)
    guard = BudgetGuard(config)
    admitted = []
    for spec in plan:
        if not guard.admit(spec):
            break
        admitted.append(spec)
    expected = [guard.expected(spec) for spec in admitted]
    assert 0 < len(admitted) < len(plan) and sum(expected) <= 0.05 and guard.reached
    guard.release(admitted[0].episode_id)  # handed back unrun: its share is free again
    assert guard.admit(plan[len(admitted)]) or guard.expected(plan[len(admitted)]) > expected[0]


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_priced_sweep_stops_near_its_budget_and_resumes_with_a_larger_one(tmp_path):
    budget = 0.6
    path = priced(tmp_path, {"usd": budget})
    plan = planned_ids(path)
    assert run_sweep(load_config(path), config_path=path) == 3
    run = tmp_path / "runs" / "e2e"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "budget_reached" and manifest["spent_usd"] == pytest.approx(paid(run))
    first = episodes(run)
    assert 0 < first.height < len(plan)
    # never past the budget by more than the episodes out at once could cost (8 at most here)
    most = first["cost_usd"].max()
    assert paid(run) <= budget + 8 * most
    # and it stopped within one batch of it: the next episode would have passed it
    assert paid(run) + first["cost_usd"].mean() > budget - 8 * most

    # resumed with a larger budget: the rest of the plan, none twice
    bigger = priced(tmp_path, {"usd": 100})
    assert run_sweep(load_config(bigger), config_path=bigger) == 0
    done = episodes(run)
    assert set(done["episode_id"]) == plan and done["episode_id"].n_unique() == done.height
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["spent_usd"] == pytest.approx(paid(run))


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_model_budget_stops_that_model_only(tmp_path):
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 10}], seeds=2,
                        models=[{"id": "capped", "provider": "simulated", "model": "oracle", "price_per_mtok": PRICE},
                                {"id": "free", "provider": "simulated", "model": "oracle", "price_per_mtok": PRICE}],
                        budget={"models": {"capped": 0.1}})
    assert run_sweep(load_config(path), config_path=path) == 3
    df = episodes(tmp_path / "runs" / "e2e")
    assert df.filter(pl.col("model_id") == "free").height == 20
    assert 0 < df.filter(pl.col("model_id") == "capped").height < 20


def quickstart_with_prices(tmp_path) -> Path:
    config = yaml.safe_load((ROOT / "sweeps" / "quickstart.yaml").read_text())
    for model in config["models"]:
        model["price_per_mtok"] = {"input": 3.0, "output": 15.0}
    config["output"] = str(tmp_path / "runs")
    path = tmp_path / "quickstart.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_estimate_prints_per_model_figures_without_calling_anything(tmp_path, capsys):
    path = quickstart_with_prices(tmp_path)
    assert main(["sweep", str(path), "--estimate"]) == 0
    out = capsys.readouterr().out
    assert "sim-oracle" in out and "total" in out and "no provider was called" in out
    assert not (tmp_path / "runs").exists()
    rows = {r.model_id: r for r in estimate(load_config(path), build_plan(load_config(path)))}
    oracle = rows["sim-oracle"]
    assert oracle.episodes == 684
    assert oracle.cost_usd == pytest.approx(cost_usd(load_config(path).model("sim-oracle"), oracle.input_tokens,
                                                     oracle.output_tokens))
    assert main(["sweep", str(path), "--like", str(tmp_path)]) == 2


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_the_quick_start_estimate_is_within_15_percent_of_the_real_tokens(tmp_path):
    path = quickstart_with_prices(tmp_path)
    config = load_config(path)
    rows = estimate(config, build_plan(config))
    expected = sum(r.input_tokens + r.output_tokens for r in rows)
    assert run_sweep(config, config_path=path) == 0
    df = episodes(tmp_path / "runs" / "quickstart")
    real = df["input_tokens"].sum() + df["output_tokens"].sum()
    assert abs(expected - real) / real <= 0.15, (expected, real)
    # calibrated by the run itself, the estimate is the run
    like = estimate(config, build_plan(config), tmp_path / "runs" / "quickstart")
    assert sum(r.input_tokens for r in like) == pytest.approx(df["input_tokens"].sum())


def test_estimate_shows_the_online_and_the_batch_price_and_marks_the_one_paid(tmp_path, capsys):
    models = [{"id": m, "provider": "simulated", "model": "oracle", "price_per_mtok": PRICE, "batch": m == "batched"}
              for m in ("batched", "online")]
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 3}], models=models)
    config = load_config(path)
    rows = {r.model_id: r for r in estimate(config, build_plan(config))}
    for row in rows.values():
        online = (row.input_tokens * PRICE["input"] + row.output_tokens * PRICE["output"]) / 1e6
        assert row.online_usd == pytest.approx(online) and row.batch_usd == pytest.approx(online / 2)
    assert rows["batched"].batched and rows["batched"].cost_usd == pytest.approx(rows["batched"].batch_usd)
    assert not rows["online"].batched and rows["online"].cost_usd == pytest.approx(rows["online"].online_usd)
    assert main(["sweep", str(path), "--estimate"]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line}
    assert lines["model"][-6:] == ["online", "USD", "batch", "USD", "cost", "USD"]
    # online USD, batch USD, cost USD: the paid one starred and repeated as the cost
    assert lines["batched"][-3:] == [f"{rows['batched'].online_usd:,.2f}", f"{rows['batched'].batch_usd:,.2f}*",
                                     f"{rows['batched'].batch_usd:,.2f}"]
    assert lines["online"][-3:] == [f"{rows['online'].online_usd:,.2f}*", f"{rows['online'].batch_usd:,.2f}",
                                    f"{rows['online'].online_usd:,.2f}"]
    # the guard counts a batched model's spending at the batch price, as its episodes record it
    assert cost_usd(config.model("batched"), 1e6, 0) == pytest.approx(cost_usd(config.model("online"), 1e6, 0) / 2)
