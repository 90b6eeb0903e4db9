"""Hostile input: the sweep config loader and the reply parsers never fail in an undocumented way.

- ``load_config`` on random text, on random YAML structures and on mutated valid configs raises
  nothing but ``ConfigError`` (the one-line user error the CLI prints).
- ``parse_tool_calls`` never raises, and what it returns is well formed.
- ``completion_from_wire`` (OpenAI and Anthropic) on random JSON bodies returns, or raises only
  what the adapters turn into ``ServerError`` ("unreadable reply"); ``checked`` then raises only
  ``Refusal`` or ``MalformedToolCall``.

Regressions found by fuzzing are pinned below with their exact inputs.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.config import ConfigError, load_config
from orchestrator.records import to_table
from providers.errors import MalformedToolCall, Refusal
from providers.text_tools import parse_tool_calls
from providers.wire import anthropic_messages, openai_chat
from providers.wire.translate import checked

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# What the OpenAI and Anthropic adapters catch around completion_from_wire and report as a
# ServerError "unreadable reply".
ADAPTER_TRANSLATES = (ValueError, KeyError, IndexError, TypeError, AttributeError)

VALID = {
    "name": "fuzz",
    "tasks": ["typewriter_single", {"name": "multiverse_math", "limit": 3},
              {"name": "relational_data", "examples": ["rd-01", "rd-02"]}],
    "seeds": 2,
    "strategies": ["native", "text"],
    "models": [
        {"id": "sim", "provider": "simulated", "model": "noisy", "gate": "fast",
         "latency_ms": {"mean": 10, "jitter": 2},
         "faults": {"http_5xx": 0.1, "outages": [{"start_s": 1, "duration_s": 2, "status": 503}]},
         "noise": {"wrong_tool": 0.1}},
        {"id": "vllm", "provider": "openai", "model": "qwen", "base_url": "http://127.0.0.1:8000/v1"},
    ],
    "providers": {"fast": {"rpm": 600, "breaker": {"failures": 3}}},
    "agent": {"max_steps": 10},
    "judge": "sim",
    "ray": {"runners": 2, "max_concurrency_per_runner": 8},
    "output": "runs",
    "simulator": {"seed": 1},
}

# Text YAML can write: no surrogates (not encodable), no other control characters.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
SCALARS = (st.none() | st.booleans() | st.integers(-(10**6), 10**6)  # a seed count builds a list: keep it small
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(TEXT, inner, max_size=4), max_leaves=16)
YAML_PIECES = st.sampled_from([
    "name: x", "tasks:", "models:", "seeds: 3", "- ", "  ", "\n", ":", "{", "}", "[", "]", ",", "&a ", "*a",
    "<<: *a", "!!python/object:os.system", "!!binary", "'", '"', "#", "? ", "---", "...", "|", ">", "%YAML 1.1",
    "typewriter_single", "{id: s, provider: simulated, model: oracle}", "- {name: multiverse_math, limit: 2}",
    "\t", "\ufeff", "é", "0x1F", ".inf", ".nan", "~", "null", "yes", "2001-12-14",
])


@pytest.fixture(scope="module")
def config_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "sweep.yaml"


def load(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as error:
        assert "\n" not in str(error).strip(), "a config error is one line"


def test_the_valid_config_loads(config_file):
    config_file.write_text(yaml.safe_dump(VALID))
    assert load_config(config_file).name == "fuzz"


@FUZZ
@given(text=st.text(max_size=300).filter(lambda t: "\x00" not in t) | st.lists(YAML_PIECES | TEXT, max_size=40).map("".join))
def test_random_text_is_a_config_or_a_config_error(config_file, text):
    text = text.encode("utf-8", "replace").decode("utf-8")
    load(config_file, text)


@FUZZ
@given(data=VALUES)
def test_random_yaml_structures_are_config_errors(config_file, data):
    load(config_file, yaml.safe_dump(data))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``node`` (dict keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@FUZZ
@given(data=st.data())
def test_mutated_valid_configs_load_or_are_config_errors(config_file, data):
    config = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(config)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = config
        for step in path[:-1]:
            parent = parent[step]
        operation = data.draw(st.sampled_from(["replace", "delete", "add_key"]), label="operation")
        if operation == "replace":
            parent[path[-1]] = data.draw(VALUES, label="value")
        elif operation == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(TEXT, label="new key")] = data.draw(VALUES, label="value")
    load(config_file, yaml.safe_dump(config))


# ---------------------------------------------------------------- the reply parsers

JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=20))
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    """The plausible value, or any JSON value in its place."""
    return value | JSON


def shaped(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A JSON object with some of ``fields`` (each plausible or not)."""
    return st.fixed_dictionaries({}, optional={key: maybe(value) for key, value in fields.items()})


OPENAI_CALL = shaped({"id": st.text(max_size=8), "type": st.just("function"),
                      "function": shaped({"name": st.text(max_size=12), "arguments": st.text(max_size=40)
                                          | JSON.map(lambda v: json.dumps(v))})})
OPENAI_BODY = shaped({
    "choices": st.lists(shaped({
        "message": shaped({"role": st.just("assistant"), "content": st.text(max_size=40)
                           | st.lists(shaped({"type": st.just("text"), "text": st.text(max_size=20)}), max_size=3),
                           "refusal": st.none() | st.text(max_size=10),
                           "tool_calls": st.lists(OPENAI_CALL, max_size=3)}),
        "finish_reason": st.sampled_from(["stop", "tool_calls", "length", "content_filter"])}), max_size=2),
    "usage": shaped({"prompt_tokens": st.integers(0, 10**6), "completion_tokens": st.integers(0, 10**6)}),
})
ANTHROPIC_BODY = shaped({
    "content": st.lists(shaped({"type": st.sampled_from(["text", "tool_use", "thinking"]), "text": st.text(max_size=20),
                                "id": st.text(max_size=8), "name": st.text(max_size=12), "input": JSON}), max_size=3),
    "stop_reason": st.sampled_from(["end_turn", "tool_use", "max_tokens", "refusal"]),
    "usage": shaped({"input_tokens": st.integers(0, 10**6), "output_tokens": st.integers(0, 10**6)}),
})


def read_reply(wire, body: Any) -> None:
    """What an adapter does with a 2xx body, minus the HTTP: parse, then check."""
    try:
        completion = wire.completion_from_wire(body)
    except ADAPTER_TRANSLATES:
        return
    try:
        checked("fuzz", completion)
    except (Refusal, MalformedToolCall):
        return


@FUZZ
@given(body=OPENAI_BODY | JSON)
def test_openai_replies_parse_or_fail_as_unreadable(body):
    read_reply(openai_chat, body)


@FUZZ
@given(body=ANTHROPIC_BODY | JSON)
def test_anthropic_replies_parse_or_fail_as_unreadable(body):
    read_reply(anthropic_messages, body)


TAGGY = st.lists(st.sampled_from([
    "<tool_call>", "</tool_call>", "<TOOL_CALL >", "```json\n", "```", "\n", "{", "}", "[", "]", ",", ":",
    '"name"', '"arguments"', '"tool"', '"args"', '"type_letter"', '"add"', '{"letter": "c"}', '"{\\"a\\": 1}"',
    "1e999", "null", "I think ", "Answer: 42",
]) | st.text(max_size=10) | JSON.map(lambda v: json.dumps(v)), max_size=30).map("".join)


@FUZZ
@given(text=st.text(max_size=300) | TAGGY, offered=st.none() | st.lists(st.sampled_from(["type_letter", "add", "a"])))
def test_text_tool_calls_never_raise_and_come_out_well_formed(text, offered):
    parsed = parse_tool_calls(text, offered)
    assert isinstance(parsed.text, str)
    assert [call.id for call in parsed.tool_calls] == [f"call_{i}" for i in range(len(parsed.tool_calls))]
    for call in parsed.tool_calls:
        assert isinstance(call.name, str)
        if call.error:
            assert isinstance(call.raw_arguments, str)
        else:
            assert isinstance(call.arguments, dict)
            if offered is not None and "<tool_call" not in text.lower():
                assert call.name in offered, "JSON outside a tag is a call only when it names an offered tool"


# ---------------------------------------------------------------- regressions, pinned


def test_a_list_as_a_yaml_key_is_a_config_error(config_file):
    config_file.write_text("? [a, b]\n: 1\n")
    with pytest.raises(ConfigError):
        load_config(config_file)


def test_a_control_character_is_a_config_error(config_file):
    config_file.write_text("name: x\x08\n")
    with pytest.raises(ConfigError):
        load_config(config_file)


def test_deeply_nested_yaml_is_a_config_error(config_file):
    config_file.write_text("[" * 1000)
    with pytest.raises(ConfigError):
        load_config(config_file)


def test_a_huge_seed_count_is_a_config_error(config_file):
    config_file.write_text("name: x\ntasks: [typewriter_single]\n"
                           "models: [{id: s, provider: simulated, model: oracle}]\nseeds: 1000000000000\n")
    with pytest.raises(ConfigError):
        load_config(config_file)


@pytest.mark.parametrize("wire, body", [
    (openai_chat, {"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": math.inf}}),
    (anthropic_messages, {"content": [], "usage": {"input_tokens": math.inf}}),
], ids=["openai", "anthropic"])
def test_an_infinite_token_count_is_an_unreadable_reply(wire, body):  # json.loads("1e999") is inf
    read_reply(wire, body)


@pytest.mark.parametrize("wire, body", [
    (openai_chat, {"choices": [{"message": {"tool_calls": [{"id": "c", "function": {"name": 5, "arguments": "{}"}}]}}]}),
    (anthropic_messages, {"content": [{"type": "tool_use", "id": "c", "name": 5, "input": {}}]}),
], ids=["openai", "anthropic"])
def test_a_tool_name_that_is_not_text_is_unreadable_or_malformed(wire, body):
    try:
        completion = checked("fuzz", wire.completion_from_wire(body))
    except (*ADAPTER_TRANSLATES, MalformedToolCall):
        return
    # returned: the agent records it, and an episode row must convert to Arrow
    to_table("episodes", [{"tool_calls": [{"name": call.name, "arguments": call.arguments_json,
                                           "result": None, "error": None} for call in completion.tool_calls]}])
