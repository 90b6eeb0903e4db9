"""The grounded simulated model: the script's calls, then the last tool result as its answer."""

from __future__ import annotations

import pytest

from providers.simulator.config import POLICY_NAMES
from providers.simulator.conversation import Script
from providers.simulator.policies import POLICIES, last_tool_result
from providers.types import Message
from tests.providers.test_simulator_policies import CAT, MATH, drive, steps_of


@pytest.mark.parametrize("text_mode", [False, True])
@pytest.mark.parametrize("script", [CAT, MATH])
def test_grounded_makes_the_scripts_calls_and_answers_what_the_tools_said_not_the_reference(script, text_mode):
    calls, answer = drive("grounded", script, text_mode=text_mode)
    assert calls == steps_of(script)
    assert answer == "OK" != script.answer  # the test environment answers every call "OK"


def test_grounded_answers_from_the_last_result_native_or_text():
    native = (Message(role="tool", content="first", tool_call_id="a", name="t"),
              Message(role="tool", content=" 42 \n", tool_call_id="b", name="t"))
    text = (Message(role="user", content='<tool_result name="t">1</tool_result>\n<tool_result name="t">99</tool_result>'),)
    assert last_tool_result(native) == " 42 \n"
    assert last_tool_result(text) == "99"
    assert last_tool_result((Message(role="user", content="Go."),)) is None
    assert "grounded" in POLICY_NAMES and set(POLICY_NAMES) == set(POLICIES)


def test_grounded_without_steps_says_it_has_nothing_to_answer_from():
    calls, answer = drive("grounded", Script(steps=[], answer="5"))
    assert calls == [] and answer != "5"
