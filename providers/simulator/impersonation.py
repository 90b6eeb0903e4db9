"""A simulated model standing in for a real one (``ModelProfile.impersonates``): the model
catalog's rules and defaults for that model, applied the same way whatever the wire format.

The request's settings are read from what each format reports of the body (``WireFormat.params``)
into one shape (``Settings``); ``providers.catalog.models.problems`` says what the model refuses of
them, and each refusal is answered with the error the real API gives for it (below, with where
each wording was read; a wording no public report quotes is modelled on its siblings and says so).
Then the format's own rules run with the profile made a reasoning model exactly when the catalog
says the model reasons, and a request that sets no reasoning thinks as the model does by default
(Gemini's dynamic thinking, Claude's adaptive thinking, OpenAI's default effort).

A model the catalog does not know gets its API's general rules only, as validate does. Catalog
look-ups are cached per model name and API: the hot path costs a dict look-up and a few reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from providers.catalog.models import ModelFacts, Problem, load_catalog, problems
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import RuleViolation, WireFormat
from providers.simulator.routes_openai import tools_with_reasoning
from providers.simulator.rules_anthropic import BUDGET_TOO_SMALL, TEMPERATURE_WITH_THINKING
from providers.simulator.signatures import Signer
from providers.types import Reasoning
from providers.wire.google_genai import field


@dataclass(frozen=True)
class Settings:
    """What a request sets of the model's reasoning, sampling and output cap, in the catalog's
    terms (None: not set). ``effort`` is Gemini's thinking level on Gemini; ``adaptive``: an
    Anthropic request asks for adaptive thinking; ``reasoning_set``: the request says anything
    about reasoning at all (so the model's default does not apply)."""

    effort: str | None = None
    budget_tokens: int | None = None
    adaptive: bool = False
    reasoning_set: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    tools: bool = False


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_settings(api: str, params: dict[str, Any], body: dict[str, Any]) -> Settings:
    """The settings of a request to ``api``, from ``params`` (its format's ``params(body)``)."""
    tools = bool(body.get("tools"))
    if api == "openai":
        effort = params.get("reasoning_effort")
        return Settings(effort=effort if isinstance(effort, str) else None, reasoning_set="reasoning_effort" in params,
                        temperature=_number(params.get("temperature")), top_p=_number(params.get("top_p")),
                        max_tokens=_integer(params.get("max_completion_tokens", params.get("max_tokens"))),
                        tools=tools)
    if api == "openai_responses":
        reasoning = _mapping(params.get("reasoning"))
        effort = reasoning.get("effort")
        return Settings(effort=effort if isinstance(effort, str) else None, reasoning_set=effort is not None,
                        temperature=_number(params.get("temperature")), top_p=_number(params.get("top_p")),
                        max_tokens=_integer(params.get("max_output_tokens")), tools=tools)
    if api == "anthropic":
        thinking = _mapping(params.get("thinking"))
        output_config = _mapping(params.get("output_config"))
        effort = output_config.get("effort")
        kind = thinking.get("type")
        return Settings(effort=effort if isinstance(effort, str) else None,
                        budget_tokens=_integer(thinking.get("budget_tokens")) if kind == "enabled" else None,
                        adaptive=kind == "adaptive", reasoning_set=bool(thinking) or effort is not None,
                        temperature=_number(params.get("temperature")), top_p=_number(params.get("top_p")),
                        top_k=_integer(params.get("top_k")), max_tokens=_integer(params.get("max_tokens")),
                        tools=tools)
    thinking = _mapping(params.get("thinkingConfig"))
    level, budget = field(thinking, "thinkingLevel"), _integer(field(thinking, "thinkingBudget"))
    return Settings(effort=level.lower() if isinstance(level, str) else None, budget_tokens=budget,
                    reasoning_set=level is not None or budget is not None,
                    temperature=_number(params.get("temperature")), top_p=_number(params.get("topP")),
                    top_k=_integer(params.get("topK")), max_tokens=_integer(params.get("maxOutputTokens")),
                    tools=tools)


@functools.cache
def _catalog_facts(model: str, api: str) -> ModelFacts | None:
    return load_catalog().lookup(model, api)


def reasons(facts: ModelFacts) -> bool:
    """Whether the model can think at all (and so follows its API's rules for reasoning models)."""
    reasoning = facts.reasoning
    return bool(reasoning.efforts) or reasoning.budget is not None or reasoning.adaptive \
        or facts.default.reasoning is not None


def check(fmt: WireFormat, body: dict[str, Any], profile: ModelProfile, signer: Signer,
          request: web.Request) -> Reasoning | None:
    """``fmt.check`` for a profile that may impersonate a real model: that model's rules first
    (``RuleViolation`` with its API's error), then the format's, then its default thinking."""
    name = profile.impersonates
    facts = _catalog_facts(name, fmt.api) if name is not None else None
    if name is None or facts is None:
        return fmt.check(body, profile, signer, request)
    settings = read_settings(fmt.api, fmt.params(body), body)
    violation = model_violation(fmt, request, facts, settings, name)
    if violation is not None:
        raise violation
    thinker = reasons(facts)
    if thinker != profile.reasoning:
        profile = profile.model_copy(update={"reasoning": thinker})
    default = facts.default
    if not settings.reasoning_set and default.effort is not None and fmt.api in _DEFAULT_EFFORT_FIELD:
        # OpenAI's formats check a reasoning model as if at its API's default effort: at this model's
        # instead (e.g. "none", under which sampling parameters are accepted)
        body = {**body, **_DEFAULT_EFFORT_FIELD[fmt.api](default.effort)}
    reasoning = fmt.check(body, profile, signer, request)
    if settings.reasoning_set or fmt.api in _DEFAULT_EFFORT_FIELD:
        return reasoning
    # nothing set on Messages or Gemini: the model's own default thinking
    if default.reasoning is None:
        return None
    return Reasoning(effort=default.effort) if default.effort else reasoning or Reasoning(effort="medium")


# How OpenAI's formats carry an effort, for a request that sends none.
_DEFAULT_EFFORT_FIELD: dict[str, Callable[[str], dict[str, Any]]] = {
    "openai": lambda effort: {"reasoning_effort": effort},
    "openai_responses": lambda effort: {"reasoning": {"effort": effort}},
}


def model_violation(fmt: WireFormat, request: web.Request, facts: ModelFacts, settings: Settings,
                    model: str) -> RuleViolation | None:
    """The error the real API answers for the first per-model rule ``settings`` break, or None."""
    api = fmt.api
    if api == "anthropic" and settings.adaptive and not facts.reasoning.adaptive:
        # askalf/dario#273 (claude-opus-4-5, claude-sonnet-4-5, claude-haiku-4-5)
        return _anthropic("adaptive thinking is not supported on this model")
    found = problems(facts, api, effort=settings.effort, budget_tokens=settings.budget_tokens,
                     temperature=settings.temperature, top_p=settings.top_p, top_k=settings.top_k,
                     max_tokens=settings.max_tokens, model=model)
    for problem in found:
        violation = _violation(problem, fmt, request, facts, settings, model)
        if violation is not None:
            return violation
    return None


def _violation(problem: Problem, fmt: WireFormat, request: web.Request, facts: ModelFacts, settings: Settings,
               model: str) -> RuleViolation | None:
    api, setting = fmt.api, problem.setting
    if setting == "api":
        if api not in facts.apis:
            return RuleViolation(404, fmt.model_not_found(request, model), code="model_not_found")
        # Chat Completions refusing function tools with reasoning: only when the request has tools
        return tools_with_reasoning(model) if settings.tools else None
    if setting == "effort":
        return _effort(api, facts, settings.effort or "", model)
    if setting == "budget_tokens":
        return _budget(api, facts, settings)
    if setting in ("temperature", "top_p", "top_k"):
        return _sampling(api, facts, setting, getattr(settings, setting))
    if setting == "max_tokens":
        return _max_tokens(api, facts, settings.max_tokens or 0, model)
    return None


def _anthropic(message: str) -> RuleViolation:
    return RuleViolation(400, message, code="invalid_request_error")


def _listed(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _effort(api: str, facts: ModelFacts, effort: str, model: str) -> RuleViolation:
    efforts = facts.reasoning.efforts or ()
    if api in ("openai", "openai_responses"):
        param = "reasoning_effort" if api == "openai" else "reasoning.effort"
        if not efforts:
            # BoundaryML/baml#2708, RageAgainstThePixel/OpenAI-DotNet#500 (Responses; Chat's worded alike)
            return RuleViolation(400, f"Unsupported parameter: '{param}' is not supported with this model.",
                                 code="unsupported_parameter", param=param)
        # openai/codex#6647
        return RuleViolation(400, f"Unsupported value: '{effort}' is not supported with the '{model}' model. "
                                  f"Supported values are: {_listed(efforts)}.", code="unsupported_value", param=param)
    if api == "anthropic":
        if not efforts:
            # anthropics/claude-code#30760, griffinmartin/opencode-claude-auth#125
            return _anthropic("This model does not support the effort parameter.")
        # no public report quotes this one; worded after the one above
        return _anthropic(f"This model does not support effort '{effort}' (it supports: {', '.join(efforts)}).")
    if not efforts:
        # RooCodeInc/Roo-Code#10700 (gemini-2.5-flash)
        return RuleViolation(400, "Thinking level is not supported for this model.")
    # heyhuynhgiabuu/proxypal#170
    return RuleViolation(400, f"Thinking level {effort.upper()} is not supported for this model.")


def _budget(api: str, facts: ModelFacts, settings: Settings) -> RuleViolation | None:
    budget, limits = settings.budget_tokens or 0, facts.reasoning.budget
    if api == "anthropic":
        if limits is None:
            # Sylinko/Everywhere#410 (claude-opus-4-7, claude-opus-4-8)
            return _anthropic('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
                              'and "output_config.effort" to control thinking behavior.')
        if budget < limits.min:
            return _anthropic(BUDGET_TOO_SMALL)
        return None  # budget against max_tokens: the format's rule (it knows the interleaved-thinking beta)
    if api == "google":
        if limits is None:
            # no public report quotes this one; worded after "Thinking level is not supported for this model."
            return RuleViolation(400, "Thinking budget is not supported for this model.")
        if budget == 0:
            # GewoonJaap/gemini-cli-openai#23 (gemini-2.5-pro)
            return RuleViolation(400, "The model does not support setting thinking_budget to 0.")
        # RooCodeInc/Roo-Code#4399
        return RuleViolation(400, f"The thinking budget ({budget}) is invalid.")
    return None  # OpenAI's wire has no thinking budget


def _sampling(api: str, facts: ModelFacts, setting: str, value: float | int | None) -> RuleViolation:
    if api == "openai":
        if setting == "temperature":
            # microsoft/vscode#255504, as routes_openai answers it for reasoning models
            return RuleViolation(400, f"Unsupported value: 'temperature' does not support {value:g} with this model. "
                                      "Only the default (1) value is supported.", code="unsupported_value",
                                 param="temperature")
        return RuleViolation(400, f"Unsupported parameter: '{setting}' is not supported with this model.",
                             code="unsupported_parameter", param=setting)
    if api == "openai_responses":
        # ai-christianson/RA.Aid#70, as routes_openai_responses answers it
        return RuleViolation(400, f"Unsupported parameter: '{setting}' is not supported with this model.",
                             code="unsupported_parameter", param=setting)
    if api == "anthropic":
        if facts.sampling == "rejected":
            # RooCodeInc/Roo-Code#12162, The-PR-Agent/pr-agent#2456 (temperature; top_p and top_k alike)
            return _anthropic(f"`{setting}` is deprecated for this model.")
        if setting == "temperature":
            return _anthropic(TEMPERATURE_WITH_THINKING)
        # no public report quotes this one; worded after the temperature rule
        return _anthropic(f"`{setting}` may not be set when thinking is enabled.")
    # the catalog lists no Gemini model refusing sampling; worded after the API's field errors
    return RuleViolation(400, f"{setting} is not supported for this model.")


def _max_tokens(api: str, facts: ModelFacts, asked: int, model: str) -> RuleViolation:
    most = facts.max_output_tokens or 0
    if api in ("openai", "openai_responses"):
        param = "max_output_tokens" if api == "openai_responses" else "max_completion_tokens"
        # ChatGPTNextWeb/NextChat#3195, enoch3712/ExtractThinker#346 (Chat; Responses worded alike)
        return RuleViolation(400, f"{param} is too large: {asked}. This model supports at most {most} completion "
                                  f"tokens, whereas you provided {asked}.", param=param)
    if api == "anthropic":
        # the API's field error as client reports paraphrase it (no verbatim quote was found)
        return _anthropic(f"max_tokens: {asked} > {most}, which is the maximum allowed number of output tokens "
                          f"for {model}")
    # Vertex AI's wording for the same check (the Gemini API's own is not quoted publicly)
    return RuleViolation(400, f"Unable to submit request because it has a maxOutputTokens value of {asked} but the "
                              f"supported range is from 1 (inclusive) to {most + 1} (exclusive). Update the value "
                              "and try again.")
