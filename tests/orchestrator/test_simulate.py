"""``sweep --simulate``: each real provider's model is replaced by a simulated oracle impersonating
it whose adapter sends the body the real one would (the same wire parameters, naming the real
model); every config in sweeps/ that names a real provider then runs offline with no request
rejected by the impersonating simulator and every episode ok."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pyarrow import ipc as pa_ipc

from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.endpoints import Endpoints, request_model, simulator_profiles
from orchestrator.simulate import REAL_PROVIDERS, simulated
from providers.types import CompletionRequest, Message, Reasoning, ToolSpec

SWEEPS = sorted((Path(__file__).resolve().parents[2] / "sweeps").glob("*.yaml"))
REAL = [p for p in SWEEPS if any(m.provider in REAL_PROVIDERS for m in load_config(p, check_keys=False).models)]
TOOL = ToolSpec("type_letter", "Append a letter.", {"type": "object", "properties": {"letter": {"type": "string"}}})


def _request(model: str, temperature: float | None, max_tokens: int, reasoning: Reasoning | None) -> CompletionRequest:
    return CompletionRequest(model=model, messages=(Message("user", "Type: c"),), tools=(TOOL,),
                             temperature=temperature, seed=0, max_tokens=max_tokens, reasoning=reasoning)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_a_stand_in_sends_the_real_models_body(path, monkeypatch):
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "LOCAL_LLM_KEY"):
        monkeypatch.setenv(variable, "test-key")
    config = load_config(path, check_keys=False)
    stand_ins = simulated(config)
    assert stand_ins.name == f"{config.name}-simulated"
    real_endpoints = Endpoints(config, shares={}, simulator_url=None)
    simulated_endpoints = Endpoints(stand_ins, shares={}, simulator_url="http://127.0.0.1:9")
    for real, stand_in in zip(config.models, stand_ins.models, strict=True):
        if real.provider not in REAL_PROVIDERS:
            assert stand_in == real
            continue
        assert (stand_in.provider, stand_in.impersonates, stand_in.id) == ("simulated", real.model, real.id)
        assert stand_in.api_format == real.api_format and stand_in.gate_key == real.gate_key
        assert request_model(stand_in) == real.model
        request = _request(real.model, real.temperature, real.max_tokens, real.thinking)
        sent = simulated_endpoints.provider(stand_in, "native").wire_params(request)  # type: ignore[attr-defined]
        assert sent == real_endpoints.provider(real, "native").wire_params(request)  # type: ignore[attr-defined]
    impersonating = {key: p.impersonates for key, p in simulator_profiles(stand_ins).items() if p.impersonates}
    real_models = {m.model for m in config.models if m.provider in REAL_PROVIDERS}
    assert impersonating == {model: model for model in real_models}  # requests name the real model


def test_impersonates_belongs_to_simulated_models(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("name: s\ntasks: [typewriter_single]\nmodels:\n"
                    "  - {id: m, provider: openai, model: gpt-4o, impersonates: gpt-4o}\n")
    assert main(["validate", str(path)]) == 2


def _one_example_each(path: Path, into: Path) -> Path:
    """A copy of the sweep with its first task cut to one example and one seed: every model and
    strategy still runs (the real gates pace the stand-ins, so the full sweep would take long)."""
    data = yaml.safe_load(path.read_text())
    first = data["tasks"][0]
    task = {"name": first} if isinstance(first, str) else {k: v for k, v in first.items() if k != "examples"}
    data["tasks"], data["seeds"] = [{**task, "limit": 1}], [0]
    copy = into / path.name
    copy.write_text(yaml.safe_dump(data))
    return copy


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_every_real_sweep_runs_offline_with_no_rejected_request(path, tmp_path, monkeypatch):
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(variable, raising=False)  # no key is needed
    config = load_config(path, check_keys=False)
    sweep, out = _one_example_each(path, tmp_path), tmp_path / "runs"
    assert main(["sweep", str(sweep), "--simulate", "--out", str(out)]) == 0
    (run,) = out.iterdir()
    assert run.name == f"{config.name}-simulated"
    served: dict[str, dict[str, int]] = {}
    for stats in (run / "simulator").glob("stats-*.json"):
        for model, outcomes in json.loads(stats.read_text())["by_model"].items():
            for outcome, n in outcomes.items():
                served.setdefault(model, {}).setdefault(outcome, 0)
                served[model][outcome] += n
    assert set(served) == {m.model for m in config.models if m.provider in REAL_PROVIDERS}
    assert all(set(outcomes) == {"ok"} for outcomes in served.values()), served
    statuses = [status for part in sorted((run / "episodes").glob("*.arrow"))
                for status in pa_ipc.open_file(part).read_all().column("status").to_pylist()]
    assert len(statuses) == len(config.models) * len(config.strategies) and set(statuses) == {"completed"}
