"""A key pasted into a config never comes back whole: not in an error, not in a log line.

The corpus: one valid config holding every kind of string field, then that config with a key of
each vendor's shape pasted into each of its strings in turn (as the value, and inside it). Each
variant goes through ``validate`` and ``sweep --dry-run``; nothing they print may hold the key.
"""

from __future__ import annotations

import copy
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import tasks
from orchestrator.cli import main
from orchestrator.config import ConfigError
from providers.keys import MissingApiKey, looks_like_key, mask_keys

# Made-up keys in each vendor's shape, assembled here so that no key-shaped literal sits in the
# repository for secret scanners to flag.
KEYS = {
    "openai": "sk-" + "proj-Xy3_kLm9Qw2ErT5yUi8Op0AsDf4GhJk7LzXc6VbNm1QwErTy",
    "anthropic": "sk-" + "ant-" + "api03-Zq8wX2cV5bN7mK1lJ4hG6fD9sA3pO0iU-yT5rE2wQ8_AAAA",
    "google": "AIza" + "SyD4f7Hk2Lm9Np3Qr6St8Uv1Wx5Yz0Ab2Cd4",
    "unprefixed": "b7Rk2Qm9Xv4Lp8Zt3Wn6Hs1Jd5Fg0Ky",
}
KEY_ENV = "TOOLSWEEP_MASKING_TEST_KEY"


def base_config(tmp_path: Path) -> dict:
    model_file = tmp_path / "model.gguf"
    model_file.write_bytes(b"GGUF")
    example = tasks.get_task("typewriter_single").examples[0].id
    return {
        "name": "masking",
        "tasks": [{"name": "typewriter_single", "examples": [example]}, "multiverse_math"],
        "seeds": [0],
        "strategies": ["native"],
        "models": [
            {"id": "sim", "provider": "simulated", "model": "oracle", "api_format": "anthropic", "gate": "simulated"},
            {"id": "compatible", "provider": "openai", "model": "qwen-2.5", "base_url": "http://127.0.0.1:9/v1",
             "api_key_env": KEY_ENV},
            {"id": "small", "provider": "local", "model": "smollm2", "model_path": str(model_file)},
        ],
        "providers": {"simulated": {"rpm": 600}},
        "judge": "sim",
        "ray": {"address": "auto"},
        "output": str(tmp_path / "runs"),
    }


def string_places(data: object, path: tuple = ()) -> Iterator[tuple]:
    """Where ``data`` holds text: ``(path, "value")`` for a string, ``(path, "key")`` for a mapping key."""
    if isinstance(data, str):
        yield path, "value"
    elif isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key), "key"
            yield from string_places(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from string_places(item, (*path, index))


def pasted(config: dict, path: tuple, where: str, text_of) -> dict:
    """``config`` with the string at ``path`` (or the mapping key) replaced by ``text_of(old)``."""
    config = copy.deepcopy(config)
    parent = config
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if where == "key":
        parent[text_of(last)] = parent.pop(last)
    else:
        parent[last] = text_of(parent[last])
    return config


@pytest.fixture
def no_sweep_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "set-for-the-test")


def run_cli(argv: list[str], capsys, caplog) -> tuple[int, str]:
    caplog.clear()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err + caplog.text


def test_the_base_config_is_valid(tmp_path, capsys, caplog, no_sweep_run):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path)))
    code, output = run_cli(["validate", str(path)], capsys, caplog)
    assert code == 0, output
    assert len(list(string_places(base_config(tmp_path)))) >= 25


@pytest.mark.parametrize("vendor", KEYS)
def test_no_output_holds_a_key_pasted_into_any_string(tmp_path, capsys, caplog, no_sweep_run, vendor):
    caplog.set_level(logging.DEBUG)
    key = KEYS[vendor]
    base = base_config(tmp_path)
    path = tmp_path / "sweep.yaml"
    variants = [("as the value", lambda old: key), ("inside the value", lambda old: f"{old}/{key}"),
                ("after a space", lambda old: f"{old} {key}")]
    checked = refused = 0
    for place, where in string_places(base):
        for how, text_of in variants:
            path.write_text(yaml.safe_dump(pasted(base, place, where, text_of)))
            for argv in (["validate", str(path)], ["sweep", str(path), "--dry-run"]):
                code, output = run_cli(argv, capsys, caplog)
                assert code in (0, 2), output
                assert key not in output, f"{vendor} key {how} at {place} ({where}) leaked: {output}"
                assert key[:12] not in output, f"more than the first four characters shown: {output}"
                checked += 1
                refused += code == 2
    assert checked >= 2 * 3 * 25
    if vendor != "unprefixed":  # a vendor-format key is refused wherever it is pasted
        assert refused == checked


def test_a_pasted_key_is_refused_and_shown_masked(tmp_path, capsys, caplog, no_sweep_run):
    config = base_config(tmp_path)
    config["models"][1]["api_key_env"] = KEYS["openai"]
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    code, output = run_cli(["validate", str(path)], capsys, caplog)
    assert code == 2
    assert "models[1].api_key_env: must be the name of an environment variable (not its value), got 'sk-p…'" in output
    config["models"][1]["model"] = KEYS["anthropic"]
    config["models"][1]["api_key_env"] = KEY_ENV
    path.write_text(yaml.safe_dump(config))
    code, output = run_cli(["validate", str(path)], capsys, caplog)
    assert code == 2 and "models[1].model: looks like an API key (sk-a…)" in output


def test_an_internal_error_quoting_a_key_is_masked_traceback_and_all(tmp_path, capsys, caplog, monkeypatch,
                                                                      no_sweep_run):
    module = types.ModuleType("orchestrator.sweep")

    def run_sweep(config, **kwargs):
        raise RuntimeError(f"the server said: invalid key {KEYS['google']}")

    module.run_sweep = run_sweep  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "orchestrator.sweep", module)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(base_config(tmp_path)))
    code, output = run_cli(["sweep", str(path)], capsys, caplog)
    assert code == 1
    assert "Traceback" in output and "invalid key AIza…" in output and KEYS["google"] not in output


@pytest.mark.parametrize("key", KEYS.values())
def test_masking_keeps_four_characters(key):
    assert mask_keys(f"got {key!r} here") == f"got '{key[:4]}…' here"
    assert mask_keys(f"x={key}&y=1") == f"x={key[:4]}…&y=1"


@pytest.mark.parametrize("text", [
    "meta-llama/Llama-3.3-70B-Instruct-Turbo", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06",
    "accounts/fireworks/models/llama-v3p1-8b-instruct", "0123456789abcdef0123456789abcdef01234567",
    "http://127.0.0.1:8000/v1", "runs/quickstart-2", "OPENAI_API_KEY", "typewriter_single",
    "risk-assessment-model-version-two",
])
def test_ordinary_settings_are_not_key_shaped(text):
    assert mask_keys(text) == text and not looks_like_key(text)


def test_the_errors_mask_themselves():
    """For callers of the library, not only the command line."""
    assert KEYS["openai"] not in str(ConfigError(f"x: {KEYS['openai']}"))
    assert KEYS["unprefixed"] not in str(MissingApiKey(f"set {KEYS['unprefixed']}"))


def test_progress_lines_mask_an_endpoint_holding_a_key():
    """A gate key is ``provider:base_url``; a key in a URL's query must not reach the log."""
    import io

    import pyarrow as pa
    from rich.console import Console

    from orchestrator.progress import SweepProgress

    endpoint = f"openai:http://127.0.0.1:9/v1?api_key={KEYS['unprefixed']}"
    progress = SweepProgress(planned=4, already_done=0, console=Console(file=io.StringIO()))
    calls = pa.table({"provider": [endpoint], "outcome": ["http_5xx"], "input_tokens": [1], "output_tokens": [1]})
    progress.record(None, calls, running=1, breakers={endpoint: "open"})
    assert "api_key=b7Rk…" in progress.line() and KEYS["unprefixed"] not in progress.line()
