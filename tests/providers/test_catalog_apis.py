"""The reasoning tables of ``providers.catalog.apis`` against the SDKs they are read from, and the
one way every provider refuses a setting its API cannot express."""

from __future__ import annotations

from typing import get_args, get_type_hints

import pytest
from anthropic.types import OutputConfigParam
from google.genai import types as genai_types
from openai.types.shared import ReasoningEffort

from providers.catalog.apis import EFFORTS, MIN_BUDGET_TOKENS, reasoning_problem, refuse_unexpressible
from providers.errors import BadRequest
from providers.registry import API_FORMATS
from providers.types import Reasoning
from providers.wire import anthropic_messages


def literal_values(annotation: object) -> tuple[str, ...]:
    """The strings of a Literal, through Optional/Required wrappers."""
    values: list[str] = []
    for arg in get_args(annotation):
        values.extend([arg] if isinstance(arg, str) else literal_values(arg))
    return tuple(values)


def test_every_api_format_has_its_efforts():
    assert set(EFFORTS) == set(API_FORMATS) and set(MIN_BUDGET_TOKENS) <= set(API_FORMATS)


def test_the_efforts_are_the_sdks_own():
    assert EFFORTS["openai"] == EFFORTS["openai_responses"] == literal_values(ReasoningEffort)
    assert EFFORTS["anthropic"] == literal_values(get_type_hints(OutputConfigParam)["effort"])
    assert EFFORTS["google"] == tuple(level.value.lower() for level in genai_types.ThinkingLevel
                                      if level is not genai_types.ThinkingLevel.THINKING_LEVEL_UNSPECIFIED)


def test_the_wire_module_reads_the_catalog():
    assert anthropic_messages.EFFORTS is EFFORTS["anthropic"]
    assert MIN_BUDGET_TOKENS["anthropic"] == anthropic_messages.MIN_BUDGET_TOKENS


@pytest.mark.parametrize(("api", "reasoning", "problem"), [
    ("openai", Reasoning(budget_tokens=2048), "takes a reasoning effort, not a token budget"),
    ("openai_responses", Reasoning(effort="turbo"), "does not take effort 'turbo'"),
    ("anthropic", Reasoning(effort="minimal"), "does not take effort 'minimal'"),
    ("google", Reasoning(effort="max"), "does not take effort 'max'"),
    ("google", Reasoning(effort="high", budget_tokens=1024), "not both"),
])
def test_a_setting_the_api_cannot_express_is_one_bad_request(api, reasoning, problem):
    with pytest.raises(BadRequest, match=problem) as caught:
        refuse_unexpressible("p", api, reasoning)
    assert str(caught.value).startswith("p: ")


@pytest.mark.parametrize(("api", "reasoning"), [
    ("openai", Reasoning(effort="minimal")), ("anthropic", Reasoning(effort="low", budget_tokens=1024)),
    ("google", Reasoning(budget_tokens=0)), ("google", Reasoning(effort="xhigh")),
])
def test_a_setting_the_api_takes_passes(api, reasoning):
    assert reasoning_problem(api, reasoning) is None
    refuse_unexpressible("p", api, reasoning)
