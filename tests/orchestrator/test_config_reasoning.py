"""Reasoning settings, OpenAI's two APIs and the google provider in sweep.yaml: variants, the wiring
they produce (requests, endpoints, simulator profiles) and a validate error per impossible
combination."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.capacity import gate_shares
from orchestrator.config import DEFAULT_GATES, ConfigError, config_hash, load_config
from orchestrator.endpoints import Endpoints, simulator_profiles
from orchestrator.plan import build_plan
from providers.types import Reasoning

BASE = """\
name: thinking
tasks: [typewriter_single]
models:
  - id: sim-chat
    provider: simulated
    model: oracle
    reasoning: [{effort: low}, {effort: high}]
  - id: sim-claude
    provider: simulated
    model: oracle
    api_format: anthropic
    max_tokens: 4096
    reasoning: {budget_tokens: 2048}
  - {id: plain, provider: simulated, model: oracle}
  - id: claude
    provider: anthropic
    model: claude-opus-4-7
    reasoning: [{effort: medium}, {effort: max}]
    price_per_mtok: {input: 5, output: 25, cached_input: 0.5}
  - {id: gpt, provider: openai, model: gpt-5.2, api: responses, reasoning: {effort: xhigh}}
"""


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(variable, "test-key")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_reasoning_list_expands_into_variants_in_place(tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert [m.id for m in config.models] == [
        "sim-chat@low", "sim-chat@high", "sim-claude@2048", "plain", "claude@medium", "claude@max", "gpt@xhigh"]
    assert [m.reasoning_label for m in config.models] == ["low", "high", "2048", None, "medium", "max", "xhigh"]
    assert config.model("sim-chat@high").thinking == Reasoning(effort="high")
    assert config.model("sim-claude@2048").thinking == Reasoning(budget_tokens=2048)
    assert config.model("plain").thinking is None
    # the plan sees ordinary models
    assert {spec.model_id for spec in build_plan(config)} == {m.id for m in config.models}


def test_a_variant_keeps_its_base_models_gate_key_and_price(tmp_path):
    config = load_config(write(tmp_path, BASE))
    medium, top = config.model("claude@medium"), config.model("claude@max")
    assert medium.gate_key == top.gate_key == "anthropic"
    assert medium.key_env == top.key_env == "ANTHROPIC_API_KEY"
    assert medium.price_per_mtok == top.price_per_mtok
    assert top.price_per_mtok.cached_input == 0.5
    assert set(config.gates()) == {"simulated", "anthropic", "openai"}


def test_openai_api_picks_the_wire_format(tmp_path):
    config = load_config(write(tmp_path, BASE + "  - {id: chat, provider: openai, model: gpt-4.1}\n"))
    assert config.model("gpt@xhigh").api_format == "openai_responses"
    assert config.model("chat").api_format == "openai" and config.model("chat").api is None


def test_simulated_reasoning_models_get_reasoning_profiles(tmp_path):
    profiles = simulator_profiles(load_config(write(tmp_path, BASE)))
    assert profiles["sim-chat@low"].reasoning and profiles["sim-claude@2048"].reasoning
    assert not profiles["plain"].reasoning


def test_reasoning_settings_change_the_config_hash(tmp_path):
    base = config_hash(load_config(write(tmp_path, BASE)))
    assert config_hash(load_config(write(tmp_path, BASE.replace("{effort: high}", "{effort: medium}")))) != base


async def test_model_calls_carry_reasoning_and_prices(tmp_path):
    config = load_config(write(tmp_path, BASE))
    endpoints = Endpoints(config, shares=gate_shares(config, 1, 0), simulator_url="http://127.0.0.1:9")
    call = endpoints.model_call("sim-claude@2048", "native")
    assert call.reasoning == Reasoning(budget_tokens=2048) and call.reasoning_label == "2048"
    assert call.max_tokens == 4096 and call.request_model == "sim-claude@2048"
    claude = endpoints.model_call("claude@max", "text")
    assert claude.reasoning == Reasoning(effort="max")
    assert (claude.price_in_per_mtok, claude.price_out_per_mtok, claude.price_cached_in_per_mtok) == (5, 25, 0.5)
    assert endpoints.model_call("plain", "native").reasoning is None
    await endpoints.aclose()


async def test_a_model_that_thinks_by_default_records_that_default(tmp_path):
    """No reasoning set on a model the catalog says thinks anyway: the record says what it did."""
    text = BASE + ("  - {id: opus, provider: anthropic, model: claude-opus-4-7}\n"
                   "  - {id: old, provider: anthropic, model: claude-opus-4-5}\n")
    config = load_config(write(tmp_path, text))
    endpoints = Endpoints(config, shares=gate_shares(config, 1, 0), simulator_url="http://127.0.0.1:9")
    assert endpoints.model_call("opus", "native").reasoning_label == "adaptive (default)"
    assert endpoints.model_call("old", "native").reasoning_label is None  # does not think unasked
    assert endpoints.model_call("claude@max", "native").reasoning_label == "max"  # a setting is recorded as set
    await endpoints.aclose()


def test_max_tokens_param_reaches_the_openai_endpoint(tmp_path):
    text = BASE + ("  - {id: vllm, provider: openai, model: qwen, base_url: 'http://127.0.0.1:8000/v1',\n"
                   "     max_tokens_param: max_completion_tokens}\n"
                   "  - {id: chat, provider: openai, model: gpt-4.1}\n")
    config = load_config(write(tmp_path, text))
    endpoints = Endpoints(config, shares=gate_shares(config, 1, 0), simulator_url="http://127.0.0.1:9")
    assert endpoints._endpoint(config.model("vllm")).options == {"token_param": "max_completion_tokens"}
    assert endpoints._endpoint(config.model("chat")).options == {}  # the adapter's default for its URL
    spec = endpoints._endpoint(config.model("gpt@xhigh"))
    assert (spec.kind, spec.api_format) == ("openai", "openai_responses")


def test_google_is_a_provider_with_its_own_key_and_gate(tmp_path, monkeypatch):
    text = BASE + "  - {id: gemini, provider: google, model: gemini-3-pro, reasoning: {effort: high}}\n"
    config = load_config(write(tmp_path, text))
    gemini = config.model("gemini@high")
    assert (gemini.api_format, gemini.gate_key, gemini.key_env) == ("google", "google", "GEMINI_API_KEY")
    assert config.gate_config("google") == DEFAULT_GATES["google"] and DEFAULT_GATES["google"].rpm
    monkeypatch.delenv("GEMINI_API_KEY")
    assert "GEMINI_API_KEY" in error_of(write(tmp_path, text))


def test_an_unknown_key_in_a_setting_names_the_key_as_written(tmp_path):
    text = BASE.replace("reasoning: {budget_tokens: 2048}", "reasoning: {budget: 2048}")
    path = write(tmp_path, text)
    assert error_of(path).startswith(f"{path}:{line_of(text, 'budget: 2048')}: models[1].reasoning.budget: "
                                     "unknown key (allowed: effort, budget_tokens)")


# (old, new, the line's fragment, the error after "<file>:<line>: ")
IMPOSSIBLE = [
    pytest.param("reasoning: {budget_tokens: 2048}", "reasoning: {budget_tokens: 2048, effort: high}",
                 "budget_tokens: 2048, effort", "models[1].reasoning: give either effort or budget_tokens",
                 id="effort-and-budget"),
    pytest.param("[{effort: low}, {effort: high}]", "[{effort: low}, {effort: low}]", "{effort: low}, {effort: low}",
                 "models[0].reasoning: listed more than once: low", id="repeated-setting"),
    pytest.param("[{effort: low}, {effort: high}]", "[{effort: low}, {effort: highest}]", "{effort: highest}",
                 "models[0].reasoning[1].effort: Input should be", id="unknown-effort"),
    pytest.param("    max_tokens: 4096\n", "    max_tokens: 2048\n", "budget_tokens: 2048",
                 "models[1].reasoning.budget_tokens: budget_tokens (2048) must be below max_tokens (2048)",
                 id="budget-not-below-max-tokens"),
    pytest.param("{budget_tokens: 2048}", "{budget_tokens: 512}", "budget_tokens: 512",
                 "models[1].reasoning.budget_tokens: Anthropic (api_format anthropic) needs a thinking budget "
                 "of at least 1024 tokens", id="anthropic-budget-below-1024"),
    pytest.param("[{effort: low}, {effort: high}]", "[{effort: low}, {budget_tokens: 2048}]",
                 "{budget_tokens: 2048}]",
                 "models[0].reasoning[1].budget_tokens: OpenAI Chat Completions (api_format openai) takes a "
                 "reasoning effort, not a token budget", id="openai-chat-budget"),
    pytest.param("api: responses, reasoning: {effort: xhigh}", "api: responses, reasoning: {budget_tokens: 900}",
                 "budget_tokens: 900", "models[4].reasoning.budget_tokens: gpt-5.2 takes no thinking budget; "
                 "it accepts effort none | low | medium | high | xhigh", id="openai-responses-budget"),
    pytest.param("model: gpt-5.2, api: responses, reasoning: {effort: xhigh}",
                 "model: gpt-next, api: responses, reasoning: {budget_tokens: 900}",
                 "budget_tokens: 900", "models[4].reasoning.budget_tokens: the OpenAI Responses API takes a "
                 "reasoning effort, not a token budget", id="unknown-model-openai-responses-budget"),
    pytest.param("[{effort: medium}, {effort: max}]", "[{effort: medium}, {effort: minimal}]", "effort: minimal",
                 "models[3].reasoning[1].effort: claude-opus-4-7 does not take effort 'minimal'; "
                 "it accepts effort low | medium | high | xhigh | max", id="anthropic-effort"),
    pytest.param("model: claude-opus-4-7\n    reasoning: [{effort: medium}, {effort: max}]",
                 "model: claude-opus-4-9\n    reasoning: [{effort: medium}, {effort: minimal}]", "effort: minimal",
                 "models[3].reasoning[1].effort: Anthropic does not take effort 'minimal' "
                 "(it takes: low, medium, high, xhigh, max)", id="unknown-model-gets-its-apis-rules"),
    pytest.param("api: responses, reasoning: {effort: xhigh}", "reasoning: {effort: max}",
                 "reasoning: {effort: max}", "models[4].reasoning.effort: gpt-5.2 does not take effort 'max'; "
                 "it accepts effort none | low | medium | high | xhigh", id="openai-chat-effort-max-not-on-gpt-5.2"),
    pytest.param("model: gpt-5.2, api: responses, reasoning: {effort: xhigh}",
                 "model: gpt-next, reasoning: {effort: max}", "reasoning: {effort: max}", None,
                 id="openai-chat-effort-max-is-fine-for-the-api"),
    pytest.param("    model: oracle\n    reasoning: [", "    model: oracle\n    temperature: 0\n    reasoning: [",
                 "temperature: 0", "models[0].temperature: temperature 0 with reasoning: OpenAI reasoning models "
                 "accept only the default temperature, 1", id="openai-temperature"),
    pytest.param("model: gpt-5.2, api: responses, reasoning: {effort: xhigh}",
                 "model: qwq, base_url: 'http://127.0.0.1:8000/v1', temperature: 0, reasoning: {effort: high}",
                 "id: gpt", None, id="a-compatible-server-keeps-its-own-sampling-rules"),
    pytest.param("model: claude-opus-4-7\n", "model: claude-opus-4-7\n    temperature: 0.7\n", "temperature: 0.7",
                 "models[3].temperature: claude-opus-4-7 accepts no temperature other than the default (1): "
                 "leave it unset", id="anthropic-temperature"),
    pytest.param("model: claude-opus-4-7\n", "model: claude-opus-4-7\n    temperature: 1\n", "temperature: 1",
                 None, id="anthropic-temperature-1-is-fine"),
    pytest.param("api: responses, reasoning: {effort: xhigh}", "max_tokens_param: max_tokens, reasoning: {effort: low}",
                 "max_tokens_param", "models[4].max_tokens_param: OpenAI reasoning models reject max_tokens",
                 id="openai-max-tokens-with-reasoning"),
    pytest.param("model: claude-opus-4-7\n", "model: claude-opus-4-7\n    api: responses\n", "api: responses",
                 "models[3].api: api (chat | responses) applies only to provider openai", id="api-on-anthropic"),
    pytest.param("model: oracle\n    reasoning: [", "model: oracle\n    api: chat\n    reasoning: [", "api: chat",
                 "models[0].api: api (chat | responses) applies only to provider openai (this model's provider is "
                 "'simulated'; choose api_format)", id="api-on-simulated"),
    pytest.param("api: responses, reasoning", "api: responses, max_tokens_param: max_completion_tokens, reasoning",
                 "max_tokens_param", "models[4].max_tokens_param: max_tokens_param applies only to OpenAI Chat "
                 "Completions (provider openai with api: chat, or simulated with api_format: openai)",
                 id="token-param-on-responses"),
    pytest.param("{id: plain, provider: simulated, model: oracle}",
                 "{id: plain, provider: local, model: smollm2, reasoning: {effort: low}}", "id: plain",
                 "models[2].reasoning: reasoning does not apply to local models", id="reasoning-on-local"),
    pytest.param("{id: plain, provider: simulated, model: oracle}",
                 "{id: plain, provider: simulated, model: oracle, api_format: google, reasoning: {effort: max}}",
                 "id: plain", "models[2].reasoning.effort: Gemini (api_format google) does not take effort 'max'",
                 id="google-effort"),
    pytest.param("{id: plain, provider: simulated, model: oracle}",
                 "{id: plain, provider: simulated, model: oracle, api_format: google, temperature: 0,"
                 " reasoning: {budget_tokens: 512}}", "id: plain", None, id="google-takes-temperature-and-small-budgets"),
    pytest.param("{id: plain, provider: simulated, model: oracle}",
                 "{id: plain, provider: simulated, model: oracle, reasoning: []}", "id: plain",
                 "models[2].reasoning: must not be empty", id="empty-list"),
]


@pytest.mark.parametrize(("old", "new", "fragment", "expected"), IMPOSSIBLE)
def test_impossible_combinations_are_validate_errors_naming_the_field_and_line(tmp_path, old, new, fragment,
                                                                             expected):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    path = write(tmp_path, text)
    if expected is None:
        load_config(path)
        return
    assert error_of(path).startswith(f"{path}:{line_of(text, fragment)}: {expected}")


def test_variant_ids_must_not_collide_with_another_models(tmp_path):
    text = BASE + "  - {id: sim-chat, provider: simulated, model: oracle, reasoning: {effort: high}}\n"
    path = write(tmp_path, text)
    assert error_of(path).startswith(f"{path}:{len(text.splitlines())}: models[5].id: model id 'sim-chat@high' "
                                     "is used twice")


def test_a_judge_names_a_variant(tmp_path):
    assert "judge 'claude' is not a model id" in error_of(write(tmp_path, BASE + "judge: claude\n"))
    assert load_config(write(tmp_path, BASE + "judge: claude@max\n")).judge == "claude@max"


def test_reasoning_summary_reaches_the_responses_adapter_and_is_refused_elsewhere(tmp_path):
    text = BASE + ("  - {id: gpt-sum, provider: openai, api: responses, model: gpt-5.5, reasoning_summary: concise}\n"
                   "  - {id: gpt-plain, provider: openai, api: responses, model: gpt-5.5}\n")
    config = load_config(write(tmp_path, text))
    endpoints = Endpoints(config, shares=gate_shares(config, 1, 0), simulator_url="http://127.0.0.1:9")
    assert endpoints._endpoint(config.model("gpt-sum")).options == {"reasoning_summary": "concise"}
    assert endpoints._endpoint(config.model("gpt-plain")).options == {}  # unset: never sent
    refused = error_of(write(tmp_path, BASE + "  - {id: c, provider: anthropic, model: claude-opus-4-7, "
                                              "reasoning_summary: auto}\n"))
    assert "reasoning_summary" in refused and "Responses API" in refused
