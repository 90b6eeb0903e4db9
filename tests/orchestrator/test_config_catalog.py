"""The sweep config against the model catalog: each model's own impossibilities refused with the
field, the line and what the model accepts; retired models refused with their successor; retiring
and unknown models warned; the sweep's own catalog entries; max_tokens that leaves room for
thinking; prices from genai-prices with their source."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from orchestrator.budget import estimate
from orchestrator.cli import main
from orchestrator.config import ConfigError, config_hash, load_config
from orchestrator.config.catalog import catalog_warnings
from orchestrator.config.prices import CONFIG_SOURCE, model_price
from orchestrator.plan import build_plan
from orchestrator.rundir import RunDir
from providers.catalog.models import ANSWER_TOKENS, load_catalog, retired_models_in
from providers.catalog.prices import default_price

# Retirement rules are judged on a fixed day, so the calendar moving on changes no result here.
TODAY = dt.date(2026, 12, 4)
SWEEPS = sorted((Path(__file__).resolve().parents[2] / "sweeps").glob("*.yaml"))


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(variable, "test-key")


def write(tmp_path: Path, models: str, extra: str = "") -> tuple[Path, str]:
    text = "name: catalog\ntasks: [typewriter_single]\nmodels:\n" + textwrap.dedent(models) + textwrap.dedent(extra)
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path, text


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, today=TODAY)
    message = str(caught.value)
    assert "\n" not in message
    return message


# (models: entries, the line's fragment, the error after "<file>:<line>: ")
IMPOSSIBLE = [
    pytest.param("- {id: m, provider: anthropic, model: claude-haiku-4-5, reasoning: {effort: low}}",
                 "id: m", "models[0].reasoning.effort: claude-haiku-4-5 takes no effort; it accepts thinking "
                 "budgets from 1,024 to below max_tokens", id="effort-on-haiku-4-5"),
    pytest.param("- {id: m, provider: anthropic, model: claude-opus-4-7, max_tokens: 8000,\n"
                 "   reasoning: {budget_tokens: 4096}}", "budget_tokens: 4096",
                 "models[0].reasoning.budget_tokens: claude-opus-4-7 takes no thinking budget; it accepts effort "
                 "low | medium | high | xhigh | max", id="budget-on-adaptive-only"),
    pytest.param("- {id: m, provider: anthropic, model: claude-sonnet-5-5,\n   temperature: 0}", "temperature: 0",
                 "models[0].temperature: claude-sonnet-5-5 accepts no temperature other than the default (1)",
                 id="temperature-on-a-model-that-rejects-sampling"),
    pytest.param("- {id: m, provider: google, model: gemini-2.5-flash-lite, reasoning: {effort: high}}", "id: m",
                 "models[0].reasoning.effort: gemini-2.5-flash-lite takes no effort; it accepts thinking budgets "
                 "512–24,576 (0 turns thinking off)", id="thinking-level-on-gemini-2.5"),
    pytest.param("- {id: m, provider: google, model: gemini-3.8-flash, reasoning: [{effort: low}, {effort: minimal}]}",
                 "id: m", "models[0].reasoning[1].effort: gemini-3.8-flash does not take effort 'minimal'; it accepts "
                 "effort low | medium | high", id="a-level-a-gemini-3-model-lacks"),
    pytest.param("- {id: m, provider: openai, model: gpt-5.5, api: responses, temperature: 0,\n"
                 "   reasoning: {effort: high}}", "temperature: 0",
                 "models[0].temperature: gpt-5.5 accepts temperature only with reasoning off (effort none)",
                 id="temperature-with-reasoning-on-gpt-5.5"),
    pytest.param("- {id: m, provider: openai, model: gpt-5-mini, temperature: 0.5}", "id: m",
                 "models[0].temperature: gpt-5-mini accepts no temperature other than the default (1)",
                 id="gpt-5-mini-thinks-at-medium-by-default"),
    pytest.param("- {id: m, provider: openai, model: gpt-5.5, reasoning: {effort: low}}", "id: m",
                 "models[0].model: gpt-5.5 refuses function tools with a reasoning effort on Chat Completions",
                 id="tools-with-effort-on-chat"),
    pytest.param("- {id: m, provider: openai, model: gpt-4o-mini, max_tokens: 20000}", "id: m",
                 "models[0].max_tokens: gpt-4o-mini writes at most 16,384 tokens", id="above-the-output-limit"),
    pytest.param("- {id: m, provider: anthropic, model: claude-haiku-4-5, reasoning: {budget_tokens: 64000}}",
                 "id: m", "models[0].reasoning.budget_tokens: budget_tokens (64,000) must be below max_tokens (64,000)",
                 id="a-budget-the-models-output-cannot-hold"),
]


@pytest.mark.parametrize(("models", "fragment", "expected"), IMPOSSIBLE)
def test_each_models_impossibilities_name_the_field_line_and_accepted_values(tmp_path, models, fragment, expected):
    path, text = write(tmp_path, "  " + models.replace("\n", "\n  ") + "\n")
    assert error_of(path).startswith(f"{path}:{line_of(text, fragment)}: {expected}")


def test_gemini_2_5_pro_cannot_turn_thinking_off(tmp_path):
    path, text = write(tmp_path, "  - {id: m, provider: google, model: gemini-2.5-pro, reasoning: {budget_tokens: 0}}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, today=dt.date(2026, 11, 1))  # before its retirement
    assert str(caught.value) == (f"{path}:4: models[0].reasoning.budget_tokens: gemini-2.5-pro cannot turn thinking "
                                 "off with a budget of 0; it accepts thinking budgets 128–32,768")


@pytest.mark.parametrize("models", [
    # gpt-5.1 and later reason at effort none unless asked: temperature is theirs to take
    "- {id: m, provider: openai, model: gpt-5.5, temperature: 0}",
    "- {id: m, provider: openai, model: gpt-5.5, api: responses, temperature: 0, reasoning: {effort: none}}",
    "- {id: m, provider: google, model: gemini-2.5-flash-lite, reasoning: [{budget_tokens: 0}, {budget_tokens: -1}]}",
    "- {id: m, provider: anthropic, model: claude-haiku-4-5, temperature: 0}",
])
def test_what_a_model_accepts_loads(tmp_path, models):
    load_config(write(tmp_path, f"  {models}\n")[0], today=TODAY)


def test_without_max_tokens_a_thinking_model_gets_room_for_its_budget(tmp_path):
    path, _ = write(tmp_path, """\
      - {id: haiku, provider: anthropic, model: claude-haiku-4-5, reasoning: [{budget_tokens: 1024}, {budget_tokens: 63500}]}
      - {id: gpt, provider: openai, model: gpt-5.5, api: responses, reasoning: [{effort: none}, {effort: high}]}
      - {id: opus, provider: anthropic, model: claude-opus-4-7}
      - {id: plain, provider: anthropic, model: claude-haiku-4-5}
      - {id: set, provider: anthropic, model: claude-haiku-4-5, max_tokens: 3000, reasoning: {budget_tokens: 2048}}
      - {id: sim, provider: simulated, model: oracle, api_format: anthropic, reasoning: {budget_tokens: 2048}}
    """)
    config = load_config(path, today=TODAY)
    tokens = {m.id: m.max_tokens for m in config.models}
    assert tokens["haiku@1024"] == ANSWER_TOKENS + 1024  # refused before: "must be below max_tokens (1024)"
    assert tokens["haiku@63500"] == 64000  # at most the model's output
    assert tokens["gpt@none"] == tokens["plain"] == ANSWER_TOKENS  # no thinking: the schema's default
    assert tokens["gpt@high"] > ANSWER_TOKENS and tokens["opus"] > ANSWER_TOKENS  # effort; adaptive by default
    assert tokens["set@2048"] == 3000  # written: applied as written
    assert tokens["sim@2048"] == ANSWER_TOKENS + 2048


def test_an_unknown_model_is_a_warning_and_validate_exits_0(tmp_path, capsys):
    path, text = write(tmp_path, "  - {id: m, provider: openai, model: gpt-9-turbo, reasoning: {effort: max}}\n")
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"warning: {path}:{line_of(text, 'gpt-9-turbo')}: models[0].model: model 'gpt-9-turbo' is not in "
                   "the model catalog: only openai's general rules are checked (add it under the sweep's catalog "
                   "entries to check its own)"]


def test_an_unknown_model_still_gets_its_apis_rules(tmp_path):
    path, _ = write(tmp_path, "  - {id: m, provider: openai, model: gpt-9-turbo, reasoning: {budget_tokens: 2048}}\n")
    assert "OpenAI Chat Completions takes a reasoning effort, not a token budget" in error_of(path)


def test_a_retired_model_is_an_error_naming_its_successor(tmp_path):
    path, text = write(tmp_path, "  - {id: m, provider: anthropic,\n     model: claude-sonnet-4-5}\n")
    assert error_of(path) == (f"{path}:{line_of(text, 'model: claude')}: models[0].model: claude-sonnet-4-5 was "
                              "retired on 2026-11-30: use claude-sonnet-5-5")
    load_config(path, today=dt.date(2026, 11, 29))  # the day before, it is served


def test_a_model_retiring_within_60_days_is_a_warning(tmp_path):
    path, text = write(tmp_path, "  - {id: m, provider: openai, model: gpt-4o-mini}\n")
    config = load_config(path, today=TODAY)
    assert catalog_warnings(config, today=TODAY) == [
        (("models", 0, "model"), "gpt-4o-mini retires on 2027-01-14 (in 41 days); its successor is gpt-6-luna")]
    assert catalog_warnings(config, today=dt.date(2026, 11, 14)) == []  # 61 days before


def test_the_judge_is_checked_like_any_model(tmp_path):
    path, text = write(tmp_path, """\
      - {id: m, provider: simulated, model: oracle}
      - {id: judge, provider: anthropic, model: claude-opus-4-7,
         temperature: 0}
    """, "judge: judge\n")
    assert error_of(path).startswith(f"{path}:{line_of(text, 'temperature: 0')}: models[1].temperature: "
                                     "claude-opus-4-7 accepts no temperature other than the default (1)")


def test_the_sweeps_catalog_entries_add_and_replace_models(tmp_path):
    path, text = write(tmp_path, """\
      - {id: new, provider: openai, model: gpt-next, reasoning: {effort: high}}
      - {id: old, provider: anthropic, model: claude-sonnet-4-5}
    """, """\
    catalog:
      - {name: gpt-next, apis: [openai], reasoning: {efforts: [low, medium]}}
      - {name: claude-sonnet-4-5*, apis: [anthropic], sampling: accepted}
    """)
    assert error_of(path).startswith(f"{path}:{line_of(text, 'id: new')}: models[0].reasoning.effort: gpt-next does "
                                     "not take effort 'high'; it accepts effort low | medium")
    path.write_text(text.replace("effort: high", "effort: low"))
    config = load_config(path, today=TODAY)  # the replaced entry has no retirement date
    assert catalog_warnings(config, today=TODAY) == []
    assert config_hash(config) != config_hash(load_config(path.parent / _without_catalog(path), today=TODAY))


def _without_catalog(path: Path) -> Path:
    data = yaml.safe_load(path.read_text())
    data["catalog"] = [{"name": "claude-sonnet-4-5*", "apis": ["anthropic"]}]
    other = path.with_name("other.yaml")
    other.write_text(yaml.safe_dump(data))
    return other


@pytest.mark.parametrize(("entry", "problem"), [
    ("{name: x, apis: [telegraph]}", "catalog entry 1 of the sweep (x): apis.0: Input should be"),
    ("{name: x, apis: [openai], colour: red}", "catalog entry 1 of the sweep (x): colour: Extra inputs"),
    ("{name: y, apis: [openai]}\n  - {name: x, apis: [openai]}\n  - {name: x, apis: [google]}",
     "catalog[2]: x is listed more than once"),
])
def test_a_malformed_catalog_entry_is_refused_with_file_and_line(tmp_path, entry, problem):
    path, text = write(tmp_path, "  - {id: m, provider: simulated, model: oracle}\n", f"catalog:\n  - {entry}\n")
    message = error_of(path)
    line = len(text.splitlines())  # the last entry's
    assert message.startswith(f"{path}:{line}: catalog") and problem in message, message


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_no_shipped_sweep_names_a_retired_or_retiring_model(path):
    assert retired_models_in(path.read_text(), today=TODAY) == []
    config = load_config(path, check_keys=False, today=TODAY)
    assert catalog_warnings(config, today=TODAY) == []


def test_prices_come_from_genai_prices_unless_the_sweep_sets_them(tmp_path):
    path, _ = write(tmp_path, """\
      - {id: listed, provider: anthropic, model: claude-haiku-4-5}
      - {id: own, provider: anthropic, model: claude-haiku-4-5, price_per_mtok: {input: 7, output: 9}}
      - {id: sim, provider: simulated, model: oracle}
    """)
    config = load_config(path, today=TODAY)
    listed = default_price("anthropic", "claude-haiku-4-5")
    assert listed is not None and listed.source.startswith("genai-prices ")
    price = model_price(config.model("listed"))
    assert price.source == listed.source
    assert price.per_mtok is not None and (price.per_mtok.input, price.per_mtok.output) == (listed.input, listed.output)
    assert model_price(config.model("own")).source == CONFIG_SOURCE
    costs = {row.model_id: row.cost_usd for row in estimate(config, build_plan(config))}
    assert costs["sim"] is None and costs["listed"] and costs["own"]
    assert costs["own"] / costs["listed"] != 1  # each at its own price

    run = RunDir.prepare(config, path, build_plan(config), out=tmp_path / "runs")
    run.close()
    prices = json.loads(run.manifest_path.read_text())["prices"]
    assert prices["listed"] == {"input": listed.input, "output": listed.output, "cached_input": listed.cached_input,
                                "price_source": listed.source}
    assert prices["own"] == {"input": 7, "output": 9, "cached_input": None, "price_source": "config"}
    assert prices["sim"] == {"price_source": None}


def test_the_shipped_catalog_is_read_once():
    assert load_catalog().entries[0] is load_catalog().entries[0]


def test_what_an_entry_leaves_unknown_is_checked_by_the_apis_rules(tmp_path):
    path, text = write(tmp_path, "  - {id: m, provider: openai, model: gpt-next, temperature: 0.2,\n"
                                 "     reasoning: {budget_tokens: 2048}}\n",
                       "catalog:\n  - {name: gpt-next, apis: [openai]}\n")
    assert error_of(path).startswith(f"{path}:{line_of(text, 'budget_tokens')}: models[0].reasoning.budget_tokens: "
                                     "OpenAI Chat Completions takes a reasoning effort, not a token budget")
    path.write_text(text.replace("budget_tokens: 2048", "effort: high"))
    assert "models[0].temperature: temperature 0.2 with reasoning: OpenAI reasoning models" in error_of(path)
