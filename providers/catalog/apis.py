"""What each API's reasoning setting accepts: one table per fact, read by the sweep config's checks,
the wire modules and the providers.

Keys are API formats (``providers.registry.ApiFormat``). The effort levels are the SDKs' own types
(openai 3.60 ``ReasoningEffort``, anthropic 2.17 ``OutputConfig.effort``, google-genai 3.6
``ThinkingLevel``), checked against the installed SDKs by ``tests/providers/test_catalog_apis.py``.
OpenAI expresses reasoning as an effort only; Anthropic's thinking budget starts at 1024 tokens
(``thinking.enabled.budget_tokens``, Messages API reference, checked 2025-12); Gemini takes a
budget or (Gemini 3) a thinking level.
"""

from __future__ import annotations

from providers.errors import BadRequest
from providers.types import Reasoning

# How messages name an API.
API_NAMES: dict[str, str] = {"openai": "OpenAI Chat Completions", "openai_responses": "the OpenAI Responses API",
                             "anthropic": "Anthropic", "google": "Gemini"}

EFFORTS: dict[str, tuple[str, ...]] = {
    "openai": ("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "openai_responses": ("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "anthropic": ("low", "medium", "high", "xhigh", "max"),
    "google": ("minimal", "low", "medium", "high", "xhigh"),
}
MIN_BUDGET_TOKENS: dict[str, int] = {"anthropic": 1024, "google": 1}  # absent: no budget at all

# APIs whose reasoning models take only the default temperature, 1 (OpenAI: 400 unsupported_value;
# Anthropic: thinking requires 1). Gemini accepts any.
_OPENAI_TEMPERATURE = "OpenAI reasoning models accept only the default temperature, 1"
DEFAULT_TEMPERATURE_ONLY: dict[str, str] = {
    "openai": _OPENAI_TEMPERATURE, "openai_responses": _OPENAI_TEMPERATURE,
    "anthropic": "Anthropic requires temperature 1 with thinking"}


def effort_problem(api: str, effort: str, name: str | None = None) -> str | None:
    """Why ``api`` refuses ``effort``, or None; ``name`` is how to call the API (its display name)."""
    if effort in EFFORTS[api]:
        return None
    return f"{name or API_NAMES[api]} does not take effort {effort!r} (it takes: {', '.join(EFFORTS[api])})"


def budget_problem(api: str, budget_tokens: int, name: str | None = None) -> str | None:
    """Why ``api`` refuses a thinking budget of ``budget_tokens``, or None (limits that depend on the
    model's ``max_tokens`` are the caller's)."""
    name = name or API_NAMES[api]
    if api not in MIN_BUDGET_TOKENS:
        return f"{name} takes a reasoning effort, not a token budget: use effort"
    if budget_tokens < MIN_BUDGET_TOKENS[api]:
        return f"{name} needs a thinking budget of at least {MIN_BUDGET_TOKENS[api]} tokens"
    return None


def reasoning_problem(api: str, reasoning: Reasoning) -> str | None:
    """Why ``api`` cannot express ``reasoning`` as asked, or None: what a provider refuses before
    any call (as ``providers.errors.BadRequest``, the error the API itself would answer with).

    Only the vocabulary is checked here: the budget minimums are the API's to enforce on the wire
    (Gemini's ``thinkingBudget: 0`` turns thinking off) and the sweep's to check before it starts."""
    if reasoning.effort is not None:
        problem = effort_problem(api, reasoning.effort)
        if problem is not None:
            return problem
    if reasoning.budget_tokens is not None and api not in MIN_BUDGET_TOKENS:
        return f"{API_NAMES[api]} takes a reasoning effort, not a token budget: use effort"
    return None


def refuse_unexpressible(provider: str, api: str, reasoning: Reasoning | None) -> None:
    """The one way a provider refuses a reasoning setting its API cannot express: ``BadRequest``
    (the error the API would answer with), before any call, naming the ``provider``."""
    if reasoning is None:
        return
    if reasoning.effort is not None and reasoning.budget_tokens is not None and api != "anthropic":
        # Anthropic takes both (a budget with an effort); the others set one or the other
        raise BadRequest(f"{provider}: reasoning takes an effort or budget_tokens, not both")
    problem = reasoning_problem(api, reasoning)
    if problem is not None:
        raise BadRequest(f"{provider}: {problem}")
