"""Sweep config: schema, line numbers in errors, cross-checks, gates, the config hash."""

from __future__ import annotations

import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestrator.config import (
    DEFAULT_GATES,
    ConfigError,
    SweepConfig,
    changed_settings,
    config_hash,
    episode_hash,
    episode_settings,
    format_loc,
    load_config,
    validate_semantics,
)
from orchestrator.plan import build_plan, selected_examples
from providers.gate.config import GateConfig

BASE = """\
name: baseline
tasks:
  - alpha
  - {name: beta, limit: 2}
seeds: 3
strategies: [native, text]
models:
  - {id: sim-oracle, provider: simulated, model: oracle}
  - id: sim-noisy
    provider: simulated
    model: noisy
    latency_ms: {mean: 200, jitter: 50}
    faults:
      http_5xx: 0.05
      http_429: 0.02
      outages: [{start_s: 30, duration_s: 20, status: 503}]
  - {id: gpt, provider: openai, model: gpt-4o-2024-08-06, temperature: 0}
  - {id: vllm, provider: openai, model: qwen, base_url: "http://127.0.0.1:8000/v1"}
providers:
  openai: {rpm: 500, max_in_flight: 32, breaker: {failures: 5, cooldown_s: 10}}
agent: {max_steps: 12}
judge: gpt
output: runs/
"""


@dataclass
class FakeExample:
    id: str
    expected_steps: list[str] = field(default_factory=lambda: ["step"])
    difficulty: int = 1


@dataclass
class FakeTask:
    name: str
    examples: list[FakeExample]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeTask]:
    """A task registry with the ``tasks`` package's API: alpha (5 examples), beta (4)."""
    known = {
        "alpha": FakeTask("alpha", [FakeExample(f"a{i}") for i in range(5)]),
        "beta": FakeTask("beta", [FakeExample(f"b{i}") for i in range(4)]),
    }
    module = types.ModuleType("tasks")
    module.TASK_NAMES = tuple(known)
    module.get_task = lambda name, dataset="toolsweep", scoring="toolsweep": known[name]
    module.dataset_names = lambda name: ("toolsweep", "paper")
    module.entry_point_names = lambda: ()  # whatever task packages this machine has installed
    monkeypatch.setitem(sys.modules, "tasks", module)
    return known


@pytest.fixture(autouse=True)
def api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-value")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_design_example_loads(registry, tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.seeds == [0, 1, 2]
    assert config.strategies == ["native", "text"]
    assert [t.name for t in config.tasks] == ["alpha", "beta"] and config.tasks[1].limit == 2
    noisy = config.model("sim-noisy")
    assert noisy.faults.http_5xx == 0.05 and noisy.faults.outages[0].duration_s == 20
    assert noisy.latency_ms.mean == 200
    assert config.agent.max_steps == 12 and config.judge == "gpt"
    assert config.ray.runners == 2 and config.ray.address is None


def test_defaults(registry, tmp_path):
    config = load_config(write(tmp_path, """\
        name: small
        tasks: [alpha]
        models: [{id: m, provider: simulated, model: random}]
        """))
    assert config.seeds == [0] and config.strategies == ["native"]
    assert config.models[0].max_tokens == 1024 and config.models[0].api_format == "openai"
    assert config.agent.max_steps == 30 and config.judge is None
    assert config.ray.max_concurrency_per_runner == 64
    assert config.output == Path("runs") and config.simulator.seed == 0


def test_nested_error_names_its_line_and_path(registry, tmp_path):
    path = write(tmp_path, BASE.replace("http_429: 0.02", "http_429: 1.02"))
    message = error_of(path)
    line = BASE.splitlines().index("      http_429: 0.02") + 1
    assert message == f"{path}:{line}: models[1].faults.http_429: Input should be less than or equal to 1"


def test_unknown_key_lists_the_allowed_ones(registry, tmp_path):
    path = write(tmp_path, BASE.replace("agent: {max_steps: 12}", "agent: {max_steps: 12, retries: 3}"))
    message = error_of(path)
    line = BASE.splitlines().index("agent: {max_steps: 12}") + 1
    assert message.startswith(f"{path}:{line}: agent.retries: unknown key (allowed: max_steps)")


def test_errors_are_reported_first_in_file_order(registry, tmp_path):
    text = BASE.replace("seeds: 3", "seeds: -1").replace("max_steps: 12", "max_steps: 0")
    message = error_of(write(tmp_path, text))
    assert ": seeds: " in message and "max_steps" not in message


def test_several_schema_errors_are_counted(registry, tmp_path):
    text = BASE.replace("model: oracle}", "model: oracle, colour: red}").replace("max_steps: 12", "max_steps: 0")
    message = error_of(write(tmp_path, text))
    assert "models[0].colour: unknown key" in message and message.endswith("(and 1 more problem)")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("temperature: 0}", "temperature: 0, faults: {http_5xx: 0.1}}",
     "models[2].faults: faults applies only to simulated models"),
    ("temperature: 0}", "temperature: 0, noise: {}}", "models[2].noise: noise applies only to simulated"),
    ("model: oracle}", "model: oracle, noise: {}}", "models[0].noise: noise applies only to the noisy policy"),
    ("model: oracle}", "model: genius}", "models[0].model: simulated model 'genius' is not a policy"),
    ("temperature: 0}", "temperature: 0, api_format: anthropic}", "models[2].api_format: api_format applies"),
    ("temperature: 0}", "temperature: 0, model_path: x.gguf}", "models[2].model_path: model_path applies only"),
    ("provider: openai, model: gpt", "provider: azure, model: gpt", "models[2].provider: Input should be"),
    ("seeds: 3", "seeds: 0", "seeds: a seed count must be from 1 to 10,000"),
    ("seeds: 3", "seeds: [0, 4, 4]", "seeds: listed more than once: 4"),
    ("seeds: 3", "seeds: three", "seeds: expected a seed count N or a non-empty list"),
    ("[native, text]", "[native, tools]", "strategies[1]: Input should be 'native' or 'text', got 'tools'"),
    ("{name: beta, limit: 2}", "{name: beta, limit: 0}", "tasks[1].limit: Input should be greater than 0"),
    ("{name: beta, limit: 2}", "{name: beta, limit: 2, examples: [b1]}",
     "tasks[1].examples: give either limit or examples, not both"),
    ("name: baseline", "name: ../escape", "name: use only letters, digits"),
    ("id: vllm,", "id: my model,", "models[3].id: use only letters, digits"),
    ('base_url: "http://127.0.0.1:8000/v1"', "base_url: localhost:8000", "models[3].base_url: must be an http"),
    ("rpm: 500", "rpm: -1", "providers.openai.rpm: Input should be greater than 0"),
])
def test_schema_errors_name_the_field(registry, tmp_path, old, new, expected):
    assert old in BASE
    message = error_of(write(tmp_path, BASE.replace(old, new)))
    assert f": {expected}" in message


@pytest.mark.parametrize(("old", "new", "line", "expected"), [
    ("  - alpha\n", "  - alhpa\n", 3, "tasks[0].name: unknown task 'alhpa' (known: alpha, beta)"),
    ("  - alpha\n", "  - beta\n", 4, "tasks[1]: task 'beta' is listed twice"),
    ("{name: beta, limit: 2}", "{name: beta, examples: [b1, b9]}", 4,
     "tasks[1].examples[1]: task 'beta' has no example 'b9'"),
    ("id: vllm,", "id: gpt,", 18, "models[3].id: model id 'gpt' is used twice"),
    ("judge: gpt", "judge: claude", 22, "judge: judge 'claude' is not a model id"),
    ("max_in_flight: 32", "max_in_flight: 1", 22,
     "judge: judge 'gpt': its endpoint's max_in_flight (1) is below ray.runners (2)"),
    ("  openai: {rpm", "  opneai: {rpm", 20, "providers.opneai: no model uses gate 'opneai'"),
    ("temperature: 0}", "temperature: 0, gate: shared}", 17, "models[2].gate: gate 'shared' is neither"),
])
def test_cross_check_errors_name_the_field_and_line(registry, tmp_path, old, new, line, expected):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    assert error_of(path).startswith(f"{path}:{line}: {expected}")


def test_numeric_example_ids_are_read_as_text(registry, tmp_path):
    registry["beta"].examples.append(FakeExample("7"))
    config = load_config(write(tmp_path, BASE.replace("{name: beta, limit: 2}", "{name: beta, examples: [7]}")))
    assert config.tasks[1].examples == ["7"]


def test_missing_api_key_names_the_variable_and_not_a_value(registry, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    path = write(tmp_path, BASE)
    message = error_of(path)
    line = BASE.splitlines().index("  - {id: gpt, provider: openai, model: gpt-4o-2024-08-06, temperature: 0}") + 1
    assert message.startswith(f"{path}:{line}: models[2].provider: ") and "OPENAI_API_KEY" in message
    assert load_config(path, check_keys=False).model("gpt").key_env == "OPENAI_API_KEY"


def test_own_key_variable_is_checked_and_its_value_never_shown(registry, tmp_path, monkeypatch):
    text = BASE.replace('base_url: "http://127.0.0.1:8000/v1"}', 'base_url: "http://127.0.0.1:8000/v1", api_key_env: VLLM_KEY}')
    monkeypatch.delenv("VLLM_KEY", raising=False)
    assert "models[3].api_key_env: " in error_of(write(tmp_path, text)) and "VLLM_KEY" in error_of(write(tmp_path, text))
    monkeypatch.setenv("VLLM_KEY", "secret-value-123")
    assert load_config(write(tmp_path, text)).model("vllm").key_env == "VLLM_KEY"


def test_which_models_need_a_key(registry, tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.model("sim-oracle").key_env is None
    assert config.model("vllm").key_env is None  # own endpoint, no api_key_env: no key
    assert config.model("gpt").key_env == "OPENAI_API_KEY"


def test_local_model_path_must_exist(registry, tmp_path):
    text = BASE + "  # appended\n"
    text = text.replace("providers:", "  - {id: tiny, provider: local, model: smollm2, model_path: missing.gguf}\nproviders:")
    assert "models[4].model_path: no such file: missing.gguf" in error_of(write(tmp_path, text))
    weights = tmp_path / "tiny.gguf"
    weights.write_bytes(b"gguf")
    config = load_config(write(tmp_path, text.replace("missing.gguf", str(weights))))
    assert config.model("tiny").key_env is None


def test_anthropic_models_speak_anthropic(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    text = BASE.replace("providers:", "  - {id: claude, provider: anthropic, model: claude-x}\n"
                        "  - {id: sim-a, provider: simulated, model: oracle, api_format: anthropic}\nproviders:")
    config = load_config(write(tmp_path, text))
    assert config.model("claude").api_format == "anthropic"
    assert config.model("sim-a").api_format == "anthropic" and config.model("sim-oracle").api_format == "openai"
    assert "temperature" in error_of(write(tmp_path, text.replace("model: claude-x}", "model: claude-x, temperature: 1.5}")))


def test_gates_are_per_endpoint(registry, tmp_path):
    text = BASE.replace("providers:", "  - {id: sim-b, provider: simulated, model: oracle, gate: openai}\nproviders:")
    text = text.replace("providers:\n", "providers:\n  \"openai:http://127.0.0.1:8000/v1\": {rpm: 30}\n")
    config = load_config(write(tmp_path, text))
    assert config.model("gpt").gate_key == "openai"
    assert config.model("vllm").gate_key == "openai:http://127.0.0.1:8000/v1"
    assert config.model("sim-b").gate_key == "openai"
    gates = config.gates()
    assert set(gates) == {"simulated", "openai", "openai:http://127.0.0.1:8000/v1"}
    assert gates["openai"].rpm == 500 and gates["openai"].max_in_flight == 32
    assert gates["openai:http://127.0.0.1:8000/v1"].rpm == 30
    assert gates["simulated"] == DEFAULT_GATES["simulated"]


def test_unlisted_gates_get_defaults(registry, tmp_path):
    config = load_config(write(tmp_path, BASE.replace("  openai: {rpm: 500, max_in_flight: 32, breaker: {failures: 5, cooldown_s: 10}}\n", "  anthropic: {rpm: 5}\n")))
    assert config.gate_config("openai") == DEFAULT_GATES["openai"]
    assert config.gate_config("openai:http://127.0.0.1:8000/v1") == GateConfig()
    assert config.gate_config("anthropic").rpm == 5  # a provider name may be listed before it is used


def test_config_hash_follows_what_changes_results(registry, tmp_path):
    base = config_hash(load_config(write(tmp_path, BASE)))
    assert base == config_hash(load_config(write(tmp_path, BASE)))
    assert base == config_hash(load_config(write(tmp_path, BASE.replace("output: runs/", "output: elsewhere/"))))
    assert base == config_hash(load_config(write(tmp_path, BASE + "ray: {address: auto, runners: 8}\n")))
    assert base == config_hash(load_config(write(tmp_path, BASE.replace("seeds: 3", "seeds: [0, 1, 2]"))))
    assert base == config_hash(load_config(write(tmp_path, "# a comment\n" + BASE)))
    for old, new in [("temperature: 0}", "temperature: 0.5}"), ("http_5xx: 0.05", "http_5xx: 0.06"),
                     ("seeds: 3", "seeds: 4"), ("rpm: 500", "rpm: 400"), ("max_steps: 12", "max_steps: 13")]:
        assert config_hash(load_config(write(tmp_path, BASE.replace(old, new)))) != base, new


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"),
    ("# nothing\n", "the file is empty"),
    ("- a\n- b\n", "the top level must be a mapping"),
    ("just text\n", "the top level must be a mapping"),
    ("name: a\n---\nname: b\n", ":2: YAML syntax error:"),
    ("name: a\nname: b\n", ":2: name: key appears twice"),
    ("tasks: [alpha\n", "YAML syntax error"),
])
def test_unusable_files(registry, tmp_path, text, expected):
    assert expected in error_of(write(tmp_path, text))


def test_missing_file_and_directory(tmp_path):
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"
    assert "is a directory" in error_of(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00name")
    assert "not UTF-8" in error_of(tmp_path / "bin.yaml")


def test_validate_semantics_on_a_built_config(registry):
    config = SweepConfig.model_validate({
        "name": "x", "tasks": ["alpha"], "judge": "nobody",
        "models": [{"id": "m", "provider": "simulated", "model": "oracle"}],
    })
    with pytest.raises(ConfigError, match=r"^<config>: judge: judge 'nobody' is not a model id"):
        validate_semantics(config)


def test_key_check_can_be_skipped(registry, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    load_config(write(tmp_path, BASE), check_keys=False)


def test_selected_examples_follow_limit_and_ids_in_dataset_order(registry, tmp_path):
    text = BASE.replace("  - alpha\n", "  - {name: alpha, examples: [a3, a1]}\n")
    assert selected_examples(load_config(write(tmp_path, text))) == {"alpha": ["a1", "a3"], "beta": ["b0", "b1"]}


def test_format_loc():
    assert format_loc(("models", 1, "faults", "http_5xx")) == "models[1].faults.http_5xx"
    assert format_loc(("providers", "openai:http://h/v1", "rpm")) == 'providers["openai:http://h/v1"].rpm'


def test_a_config_written_before_the_added_keys_keeps_its_hash(tmp_path):
    # The hash the first release computed for this file (so its run directories still resume):
    # keys added since (dataset, scoring, api, max_tokens_param, reasoning, cached_input) must not
    # change it while unset.
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: pinned\n"
        "tasks: [typewriter_single, {name: multiverse_math, limit: 3}]\n"
        "seeds: 2\n"
        "strategies: [native, text]\n"
        "models:\n"
        "  - {id: sim-oracle, provider: simulated, model: oracle}\n"
        "  - {id: gpt, provider: openai, model: gpt-4o, temperature: 0, price_per_mtok: {input: 2.5, output: 10}}\n"
    )
    assert config_hash(load_config(path, check_keys=False)) == "58adcbbf0d30c754"


def test_episode_hash_leaves_out_the_operational_settings(registry, tmp_path):
    base = load_config(write(tmp_path, BASE))
    operational = BASE.replace("rpm: 500", "rpm: 400, max_attempts: 1, timeout_s: 5") + (
        "ray: {runners: 8, max_concurrency_per_runner: 4}\ncache: {mode: readwrite}\n"
        "fail_on: {failed_fraction: 0.05}\n")
    changed = load_config(write(tmp_path, operational))
    assert episode_hash(changed) == episode_hash(base) and config_hash(changed) != config_hash(base)
    assert changed.fail_on is not None and changed.fail_on.failed_fraction == 0.05
    for old, new, path in [("temperature: 0}", "temperature: 0.5}", "temperature"), ("seeds: 3", "seeds: 4", "seeds"),
                            ("max_steps: 12", "max_steps: 13", "agent.max_steps")]:
        other = load_config(write(tmp_path, BASE.replace(old, new)))
        assert episode_hash(other) != episode_hash(base)
        assert [p for p in changed_settings(episode_settings(base), episode_settings(other))
                if p.endswith(path)], (path, changed_settings(episode_settings(base), episode_settings(other)))


def test_fail_on_is_checked(registry, tmp_path):
    assert "fail_on.failed_fraction" in error_of(write(tmp_path, BASE + "fail_on: {failed_fraction: 1.5}\n"))
    assert "fail_on.failed_fraction: required key is missing" in error_of(write(tmp_path, BASE + "fail_on: {failed: 0.1}\n"))


def test_stream_changes_neither_the_config_hash_nor_the_episodes(registry, tmp_path):
    base = load_config(write(tmp_path, BASE))
    streamed = load_config(write(tmp_path, BASE.replace("model: oracle}", "model: oracle, stream: true}")
                                 .replace("temperature: 0}", "temperature: 0, stream: true}")))
    assert [m.stream for m in streamed.models] == [True, False, True, False]
    assert config_hash(streamed) == config_hash(base) and episode_hash(streamed) == episode_hash(base)
    assert {s.episode_id for s in build_plan(streamed)} == {s.episode_id for s in build_plan(base)}
    # the simulator's pacing share is part of what a simulated episode is, and hashes only when set
    assert config_hash(load_config(write(tmp_path, BASE.replace("jitter: 50}", "jitter: 50, ttft_share: 0.3}")))) \
        == config_hash(base)
    assert config_hash(load_config(write(tmp_path, BASE.replace("jitter: 50}", "jitter: 50, ttft_share: 0.5}")))) \
        != config_hash(base)


@pytest.mark.parametrize(("entry", "expected"), [
    ("{id: m, provider: local, model: x, stream: true}", "models[0].stream: stream does not apply to local models"),
    ("{id: m, provider: openai, model: gpt-4o, batch: true, stream: true}",
     "models[0].stream: stream and batch exclude each other"),
])
def test_stream_is_refused_where_it_cannot_apply(registry, tmp_path, entry, expected):
    path = write(tmp_path, f"name: s\ntasks: [alpha]\nmodels:\n  - {entry}\n")
    assert error_of(path).startswith(f"{path}:4: {expected}")
