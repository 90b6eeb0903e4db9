"""Agent policies driven directly (no server): what each one does with a script."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.simulator.config import POLICY_NAMES, NoiseConfig
from providers.simulator.conversation import Script, format_text_call, past_calls, script_progress
from providers.simulator.perturb import perturb_answer, perturb_value
from providers.simulator.policies import POLICIES, SKIPPED_ANSWER, last_tool_result, seeded_situation
from providers.types import Message, ToolCall, ToolSpec

TYPE_LETTER = ToolSpec("type_letter", "Append one letter.", {
    "type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]})
MULTIPLY = ToolSpec("multiply", "Multiply two numbers.", {
    "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]})
ADD = ToolSpec("add", "Add two numbers.", {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                                           "required": ["a", "b"]})
LOOKUP = ToolSpec("lookup", "Find things.", {
    "type": "object",
    "properties": {"query": {"type": "string", "maxLength": 5}, "limit": {"type": "integer", "minimum": 1, "maximum": 3},
                   "mode": {"enum": ["fast", "exact"]}, "tags": {"type": "array", "items": {"type": "string"}},
                   "strict": {"type": "boolean"}},
    "required": ["query", "mode"],
})
MATH_TOOLS = (ADD, MULTIPLY, TYPE_LETTER)
CAT = Script.model_validate({"steps": [{"name": "type_letter", "arguments": {"letter": c}} for c in "cat"],
                             "answer": "cat"})
MATH = Script.model_validate({"steps": [{"name": "multiply", "arguments": {"a": 5, "b": 64}},
                                        {"name": "add", "arguments": {"a": 320, "b": 1.5}},
                                        {"name": "multiply", "arguments": {"a": 321.5, "b": 2}}],
                              "answer": "643.0"})
QUIET = NoiseConfig(wrong_tool=0, wrong_argument=0, stop_early=0, repeat=0, skip_answer=0, ignore_tool_output=0)


def drive(policy: str, script: Script | None, *, tools: tuple[ToolSpec, ...] = MATH_TOOLS, text_mode: bool = False,
          noise: NoiseConfig = QUIET, seed: int = 0, max_turns: int = 30) -> tuple[list[tuple[str, Any]], str]:
    """Run a policy against an environment that answers every call "OK"; the calls and the answer."""
    messages = [Message(role="system", content="Use the tools."), Message(role="user", content="Go.")]
    calls: list[tuple[str, Any]] = []
    for turn_index in range(max_turns):
        situation = seeded_situation(tuple(messages), () if text_mode else tools, script, noise,
                                     server_seed=seed, profile_seed=0)
        turn = POLICIES[policy](situation)
        if not turn.calls:
            return calls, turn.text
        assert len(turn.calls) == 1
        call = turn.calls[0]
        calls.append((call.name, call.arguments))
        if text_mode:
            messages += [Message(role="assistant", content=format_text_call(call.name, call.arguments)),
                         Message(role="user", content="<tool_result>OK</tool_result>")]
        else:
            call_id = f"c{turn_index}"
            messages += [Message(role="assistant", tool_calls=(ToolCall(id=call_id, name=call.name,
                                                                        arguments=call.arguments),)),
                         Message(role="tool", content="OK", tool_call_id=call_id, name=call.name)]
    raise AssertionError("the policy never answered")


def steps_of(script: Script) -> list[tuple[str, Any]]:
    return [(step.name, step.arguments) for step in script.steps]


@pytest.mark.parametrize("text_mode", [False, True])
@pytest.mark.parametrize("script", [CAT, MATH])
def test_oracle_follows_the_script(script, text_mode):
    calls, answer = drive("oracle", script, text_mode=text_mode)
    assert calls == steps_of(script) and answer == script.answer


def test_without_a_script_every_policy_answers_plain_text():
    for policy in ("oracle", "noisy", "single-call"):
        calls, answer = drive(policy, None)
        assert calls == [] and "Go." in answer


def test_single_call_stops_at_two_calls():
    calls, answer = drive("single-call", MATH)
    assert calls == steps_of(MATH)[:2] and answer != MATH.answer
    two = Script(steps=MATH.steps[:2], answer="321.5")
    assert drive("single-call", two) == (steps_of(two), "321.5")
    one = Script(steps=MATH.steps[:1], answer="320")
    assert drive("single-call", one) == (steps_of(one), "320")


@pytest.mark.parametrize("seed", range(5))
def test_noisy_with_every_knob_at_zero_is_the_oracle(seed):
    for script in (CAT, MATH):
        assert drive("noisy", script, seed=seed) == drive("oracle", script, seed=seed)


@pytest.mark.parametrize("text_mode", [False, True])
def test_noisy_with_wrong_tool_always_never_matches_and_gives_up(text_mode):
    for script in (CAT, MATH):
        calls, answer = drive("noisy", script, noise=QUIET.model_copy(update={"wrong_tool": 1.0}), text_mode=text_mode)
        assert all(call != steps_of(script)[0] for call in calls)
        assert len(calls) == 2 * len(script.steps) + 2 and answer == script.answer


def test_noisy_knobs_each_do_what_they_say():
    calls, answer = drive("noisy", MATH, noise=QUIET.model_copy(update={"stop_early": 1.0}))
    assert calls == [] and answer == MATH.answer
    assert drive("noisy", MATH, noise=QUIET.model_copy(update={"skip_answer": 1.0}))[1] == SKIPPED_ANSWER
    calls, answer = drive("noisy", MATH, noise=QUIET.model_copy(update={"ignore_tool_output": 1.0}))
    assert calls == steps_of(MATH) and answer != MATH.answer
    calls, _ = drive("noisy", MATH, noise=QUIET.model_copy(update={"wrong_argument": 1.0}))
    assert calls[0][0] == "multiply" and calls[0][1] != MATH.steps[0].arguments


def test_noisy_defaults_make_some_mistakes_and_replay_identically():
    runs = [drive("noisy", MATH, noise=NoiseConfig(), seed=seed) for seed in range(40)]
    oracle = drive("oracle", MATH)
    assert any(run == oracle for run in runs) and any(run != oracle for run in runs)
    assert runs[:5] == [drive("noisy", MATH, noise=NoiseConfig(), seed=seed) for seed in range(5)]


def test_a_repeated_call_does_not_advance_the_script():
    repeated = past_calls((Message(role="assistant", tool_calls=(
        ToolCall(id="1", name="type_letter", arguments={"letter": "c"}),
        ToolCall(id="2", name="type_letter", arguments={"letter": "c"}))),))
    assert script_progress(repeated, CAT) == 1


def test_random_calls_offered_tools_with_schema_valid_arguments():
    jsonschema = pytest.importorskip("jsonschema")
    tools = {tool.name: tool for tool in (LOOKUP, ADD, TYPE_LETTER)}
    seen = set()
    for seed in range(30):
        calls, answer = drive("random", MATH, tools=tuple(tools.values()), seed=seed)
        assert 1 <= len(calls) <= 4 and answer != MATH.answer
        for name, arguments in calls:
            jsonschema.validate(arguments, tools[name].parameters)
            seen.add(name)
    assert seen == set(tools)


def test_text_calls_are_counted_with_native_ones():
    messages = (
        Message(role="assistant", content="x " + format_text_call("a", {}) + format_text_call("b", {"k": 1})),
        Message(role="user", content=format_text_call("ignored", {})),
        Message(role="assistant", content="<tool_call>{broken</tool_call>",
                tool_calls=(ToolCall(id="1", name="c", arguments={}),)),
    )
    assert [(c.name, c.arguments) for c in past_calls(messages)] == [("a", {}), ("b", {"k": 1}), ("c", {}), ("", None)]


@given(st.text(max_size=40))
def test_a_perturbed_answer_always_differs(answer):
    import random

    assert perturb_answer(answer, random.Random(answer)) != answer


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans(),
                 st.text(max_size=10), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)))
def test_a_perturbed_argument_always_differs(value):
    import random

    assert json.dumps(perturb_value(value, random.Random(0)), sort_keys=True) != json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("text_mode", [False, True])
def test_grounded_answers_from_the_last_tool_result_never_the_reference(text_mode):
    """Every call here returns "OK": the grounded policy makes the script's calls, then answers what
    the tools said ("OK", read out of its ``<tool_result>`` tag in text mode), not the reference "643.0"."""
    calls, answer = drive("grounded", MATH, text_mode=text_mode)
    assert calls == steps_of(MATH)
    assert answer == "OK"
    assert answer != MATH.answer
    assert drive("grounded", Script(steps=[], answer="42"))[1] == SKIPPED_ANSWER  # no tool said anything


def test_grounded_answers_from_the_last_result_native_or_text():
    native = (Message(role="tool", content="first", tool_call_id="a", name="t"),
              Message(role="tool", content=" 42 \n", tool_call_id="b", name="t"))
    text = (Message(role="user", content='<tool_result name="t">1</tool_result>\n<tool_result name="t">99</tool_result>'),)
    assert last_tool_result(native) == " 42 \n"
    assert last_tool_result(text) == "99"
    assert last_tool_result((Message(role="user", content="Go."),)) is None
    assert "grounded" in POLICY_NAMES and set(POLICY_NAMES) == set(POLICIES)
