"""The model catalog: its data file, lookup precedence, a sweep's own entries, and the per-model rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from providers.catalog.models import (
    CATALOG_FILE,
    Catalog,
    CatalogError,
    ModelFacts,
    default_max_tokens,
    effective_reasoning,
    load_catalog,
    parse_catalog,
    problems,
    retired_models_in,
    retirement,
    unknown_model_warning,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 4)
GROUPS = {"reasoning": ("reasoning",), "defaults": ("default",), "sampling": ("sampling",),
          "limits": ("max_output_tokens", "context_window"), "retirement": ("retires", "successor")}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def facts(catalog: Catalog, model: str, api: str) -> ModelFacts:
    found = catalog.lookup(model, api)
    assert found is not None, f"{model} on {api} is not in the catalog"
    return found


def entry(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "apis": ["openai"], **fields}


# ---------------------------------------------------------------- the data file

def test_every_shipped_entry_names_a_source_checked_on_a_date_for_each_fact_it_states(catalog: Catalog) -> None:
    raw = {item["name"]: item for item in yaml.safe_load((ROOT / "providers/catalog" / CATALOG_FILE).read_text())["models"]}
    for model in catalog.entries:
        assert model.sources, f"{model.name} has no source"
        covered = {group for source in model.sources for group in source.facts}
        stated = {group for group, fields in GROUPS.items() if any(raw[model.name].get(f) is not None for f in fields)}
        assert stated <= covered, f"{model.name}: no source for {sorted(stated - covered)}"
        for source in model.sources:
            assert source.url.startswith("https://") and source.checked <= TODAY + dt.timedelta(days=366)


def test_every_model_a_shipped_sweep_or_the_readme_names_is_known(catalog: Catalog) -> None:
    named: list[tuple[str, str]] = []
    for path in sorted((ROOT / "sweeps").glob("*.yaml")):
        for model in yaml.safe_load(path.read_text()).get("models") or ():
            # a base_url is a self-hosted server speaking the API, not the provider's own model
            if model["provider"] in ("openai", "anthropic", "google") and "base_url" not in model:
                api = {"openai": "openai_responses" if model.get("api") == "responses" else "openai"}
                named.append((model["model"], api.get(model["provider"], model["provider"])))
    named += [("gpt-5.2", "openai_responses"), ("gemini-3.1-pro-preview", "google")]  # README's examples
    assert len(named) > 8
    unknown = [(model, api) for model, api in named if catalog.lookup(model, api) is None]
    assert not unknown


def test_retired_models_in_reads_the_api_and_skips_simulated_models() -> None:
    text = """
models:
  - {id: a, provider: openai, model: gpt-4o-2024-08-06, api: responses}
  - {id: b, provider: simulated, model: oracle}
  - {id: c, provider: anthropic, model: claude-sonnet-5-5}
"""
    assert retired_models_in(text, today=TODAY) == [
        ("gpt-4o-2024-08-06", ("retiring", dt.date(2027, 1, 14), "gpt-6.1-sol"))]
    assert retired_models_in(text, today=dt.date(2026, 1, 1)) == []


# ---------------------------------------------------------------- lookup and a sweep's own entries

def test_an_exact_name_beats_a_pattern_and_a_longer_pattern_a_shorter_one() -> None:
    cat = Catalog(tuple(ModelFacts.model_validate(e) for e in (
        entry("m*", max_output_tokens=1), entry("m-mini*", max_output_tokens=2), entry("m-mini-x", max_output_tokens=3))))
    assert [cat.lookup(name, "openai").max_output_tokens for name in ("m-big", "m-mini-2", "m-mini-x")] == [1, 2, 3]
    assert cat.lookup("other", "openai") is None
    assert cat.lookup("M-big", "openai") is None  # model names are case-sensitive


def test_an_entry_served_on_the_api_comes_first_and_otherwise_the_name_still_finds_one() -> None:
    cat = Catalog(tuple(ModelFacts.model_validate(e) for e in (
        entry("m", apis=["google"], max_output_tokens=1), entry("m*", apis=["openai"], max_output_tokens=2))))
    assert cat.lookup("m", "openai").max_output_tokens == 2
    assert cat.lookup("m", "anthropic").max_output_tokens == 1
    only_google = cat.lookup("m", "anthropic")
    assert problems(only_google, "anthropic")[0].setting == "api"


def test_a_sweeps_entry_adds_a_model_or_replaces_a_shipped_one(catalog: Catalog) -> None:
    shipped = facts(catalog, "claude-haiku-4-5", "anthropic")
    extended = load_catalog([
        {"name": "gpt-9", "apis": ["openai_responses"], "reasoning": {"efforts": ["low"]}},
        {"name": shipped.name, "apis": ["anthropic"], "max_output_tokens": 100},
    ])
    assert facts(extended, "gpt-9", "openai_responses").reasoning.efforts == ("low",)
    assert facts(extended, "claude-haiku-4-5", "anthropic").max_output_tokens == 100
    assert len(extended.entries) == len(catalog.entries) + 1


@pytest.mark.parametrize(("raw", "expected"), [
    ({"name": "x", "apis": ["openai"], "sampling": "sometimes"}, "sweep's catalog entry 1 of the sweep (x): sampling"),
    ({"name": "x", "apis": ["carrier-pigeon"]}, "apis.0"),
    ({"name": "x", "apis": ["openai"], "colour": "blue"}, "colour"),
    ({"apis": ["openai"]}, "name"),
])
def test_a_malformed_entry_is_a_one_line_error_naming_the_entry_and_field(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog([raw])
    message = str(caught.value)
    assert "\n" not in message and expected.split(": ")[-1] in message


def test_a_malformed_catalog_file_is_refused_with_its_name() -> None:
    with pytest.raises(CatalogError, match="other.yaml: schema 2"):
        parse_catalog("schema: 2\nmodels: []\n", source="other.yaml")
    with pytest.raises(CatalogError, match="more than once: m"):
        parse_catalog("schema: 1\nmodels: [{name: m, apis: [google]}, {name: m, apis: [google]}]\n", source="f")


def test_an_unknown_model_gets_a_one_line_warning_not_a_refusal(catalog: Catalog) -> None:
    assert catalog.lookup("gpt-99-ultra", "openai") is None
    warning = unknown_model_warning("gpt-99-ultra", "openai")
    assert "gpt-99-ultra" in warning and "\n" not in warning


# ---------------------------------------------------------------- the rules of issue 20

def settings(found: list[Any]) -> list[str]:
    return [problem.setting for problem in found]


def test_effort_on_haiku_4_5_is_refused_naming_the_budgets_it_takes(catalog: Catalog) -> None:
    haiku = facts(catalog, "claude-haiku-4-5", "anthropic")
    found = problems(haiku, "anthropic", effort="high", model="claude-haiku-4-5")
    assert settings(found) == ["effort"]
    assert found[0].message.startswith("claude-haiku-4-5 takes no effort") and "1,024" in found[0].message
    assert problems(haiku, "anthropic", budget_tokens=2048, max_tokens=16000) == []


@pytest.mark.parametrize("model", ["claude-opus-4-7", "claude-sonnet-5", "claude-sonnet-5-5", "claude-opus-5-5"])
def test_a_budget_on_an_adaptive_only_model_is_refused(catalog: Catalog, model: str) -> None:
    found = problems(facts(catalog, model, "anthropic"), "anthropic", budget_tokens=2048, max_tokens=16000)
    assert settings(found) == ["budget_tokens"] and "effort" in found[0].message
    assert problems(facts(catalog, model, "anthropic"), "anthropic", effort="high") == []


@pytest.mark.parametrize(("model", "api"), [("claude-sonnet-5-5", "anthropic"), ("claude-opus-4-7", "anthropic"),
                                             ("gpt-5", "openai"), ("o3", "openai_responses")])
def test_temperature_on_a_model_that_rejects_sampling_is_refused(catalog: Catalog, model: str, api: str) -> None:
    model_facts = facts(catalog, model, api)
    assert settings(problems(model_facts, api, temperature=0)) == ["temperature"]
    assert settings(problems(model_facts, api, top_p=0.9, top_k=5)) == ["top_p", "top_k"]
    assert problems(model_facts, api, temperature=1) == []  # the default is accepted


def test_temperature_is_refused_only_with_reasoning_on_models_that_take_it_without(catalog: Catalog) -> None:
    haiku = facts(catalog, "claude-haiku-4-5", "anthropic")
    assert problems(haiku, "anthropic", temperature=0) == []
    assert settings(problems(haiku, "anthropic", temperature=0, budget_tokens=2048, max_tokens=8000)) == ["temperature"]
    mini = facts(catalog, "gpt-5.4-mini", "openai")
    assert problems(mini, "openai", temperature=0) == []  # its default effort is none
    assert settings(problems(mini, "openai_responses", temperature=0, effort="low")) == ["temperature"]


def test_a_thinking_level_on_gemini_2_5_is_refused(catalog: Catalog) -> None:
    for model in ("gemini-2.5-flash", "gemini-2.5-pro"):
        found = problems(facts(catalog, model, "google"), "google", effort="low")
        assert settings(found) == ["effort"] and "thinking budgets" in found[0].message


def test_budget_zero_on_2_5_pro_is_refused_and_on_2_5_flash_accepted(catalog: Catalog) -> None:
    pro = problems(facts(catalog, "gemini-2.5-pro", "google"), "google", budget_tokens=0)
    assert settings(pro) == ["budget_tokens"] and "128–32,768" in pro[0].message
    assert problems(facts(catalog, "gemini-2.5-flash", "google"), "google", budget_tokens=0) == []
    assert problems(facts(catalog, "gemini-2.5-pro", "google"), "google", budget_tokens=-1) == []  # dynamic
    assert settings(problems(facts(catalog, "gemini-2.5-pro", "google"), "google", budget_tokens=64)) == ["budget_tokens"]


def test_a_level_a_gemini_3_model_lacks_is_refused_naming_the_levels_it_has(catalog: Catalog) -> None:
    found = problems(facts(catalog, "gemini-3.8-flash", "google"), "google", effort="minimal")
    assert settings(found) == ["effort"] and "low | medium | high" in found[0].message
    assert settings(problems(facts(catalog, "gemini-3-pro-preview", "google"), "google", effort="medium")) == ["effort"]
    assert settings(problems(facts(catalog, "gemini-3.1-pro-preview", "google"), "google", budget_tokens=1024)) == [
        "budget_tokens"]


def test_gpt_5_1_and_later_default_to_no_reasoning_and_earlier_ones_to_medium(catalog: Catalog) -> None:
    for model in ("gpt-5.1", "gpt-5.2", "gpt-5.4-mini", "gpt-5.5"):
        model_facts = facts(catalog, model, "openai")
        assert model_facts.default.effort == "none" and effective_reasoning(model_facts, None) is None
    assert effective_reasoning(facts(catalog, "gpt-5", "openai"), None) == "medium"
    assert effective_reasoning(facts(catalog, "gpt-5.5", "openai"), "high") == "high"


def test_models_that_think_by_default_say_so_when_nothing_is_set(catalog: Catalog) -> None:
    assert effective_reasoning(facts(catalog, "claude-sonnet-5-5", "anthropic"), None) == "adaptive"
    assert effective_reasoning(facts(catalog, "gemini-2.5-flash", "google"), None) == "dynamic"
    assert effective_reasoning(facts(catalog, "gemini-3.8-flash", "google"), None) == "medium"
    assert effective_reasoning(facts(catalog, "claude-haiku-4-5", "anthropic"), None) is None
    assert effective_reasoning(None, None) is None


def test_gpt_5_4_and_later_refuse_tools_with_reasoning_on_chat(catalog: Catalog) -> None:
    gpt = facts(catalog, "gpt-5.5", "openai")
    assert settings(problems(gpt, "openai", effort="high")) == ["api"]
    assert problems(gpt, "openai_responses", effort="high") == []
    assert problems(gpt, "openai", effort="none") == []
    assert problems(facts(catalog, "gpt-5.2", "openai"), "openai", effort="high") == []


def test_max_tokens_above_the_models_output_limit_is_refused(catalog: Catalog) -> None:
    haiku = facts(catalog, "claude-haiku-4-5", "anthropic")
    assert settings(problems(haiku, "anthropic", max_tokens=100_000)) == ["max_tokens"]
    assert settings(problems(haiku, "anthropic", budget_tokens=4096, max_tokens=4096)) == ["budget_tokens"]


# ---------------------------------------------------------------- retirement and max_tokens

def test_retirement_is_retired_on_the_date_retiring_within_60_days_and_nothing_before(catalog: Catalog) -> None:
    sonnet = facts(catalog, "claude-sonnet-4-5-20250929", "anthropic")
    day = sonnet.retires
    assert day is not None
    assert retirement(sonnet, day) == ("retired", day, "claude-sonnet-5-5")
    assert retirement(sonnet, day - dt.timedelta(days=60)).status == "retiring"
    assert retirement(sonnet, day - dt.timedelta(days=61)) == (None, day, "claude-sonnet-5-5")
    assert retirement(facts(catalog, "gpt-5.5", "openai"), TODAY) == (None, None, None)


def test_default_max_tokens_leaves_room_for_thinking_up_to_the_models_maximum(catalog: Catalog) -> None:
    haiku = facts(catalog, "claude-haiku-4-5", "anthropic")
    assert default_max_tokens(haiku, None) == 1024
    assert default_max_tokens(haiku, 8192) == 8192 + 1024
    assert default_max_tokens(haiku, 63_000) == haiku.max_output_tokens
    sonnet = facts(catalog, "claude-sonnet-5-5", "anthropic")
    assert default_max_tokens(sonnet, None) > 1024  # it thinks by default
    assert default_max_tokens(None, 2048) == 2048 + 1024
    assert default_max_tokens(facts(catalog, "gemini-2.5-flash", "google"), 0) == 1024  # 0 turns thinking off
