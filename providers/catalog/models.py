"""The model catalog: what each model accepts and does when nothing is set, read from models.yaml.

The rules of an API (OpenAI Chat, Responses, Anthropic Messages, Gemini) are shared by many models,
and each model generation changes what it accepts: effort on one Claude model and not another,
budgets on Gemini 2.5 and levels on Gemini 3, sampling parameters refused by some. This module reads
those per-model facts and answers, as pure functions, what the wiring needs: the problems of a
setting (``problems``), what a model does when nothing is set (``effective_reasoning``), whether it
is retired (``retirement``) and a ``max_tokens`` that leaves room for thinking
(``default_max_tokens``). An unknown model is not refused: ``Catalog.lookup`` returns None and the
caller applies the API's rules with the warning of ``unknown_model_warning``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Api = Literal["openai", "openai_responses", "anthropic", "google"]  # providers.registry.ApiFormat
FactGroup = Literal["reasoning", "defaults", "sampling", "limits", "retirement"]
Sampling = Literal["accepted", "without_reasoning", "rejected"]
Status = Literal["retired", "retiring"]

CATALOG_FILE = "models.yaml"
# A model retiring within this many days is reported as retiring (Anthropic promises at least 60
# days' notice before a retirement, so every announced date is seen at least once as retiring).
RETIRING_WITHIN_DAYS = 60
# Room for the answer itself when max_tokens is chosen for a thinking model: ToolSweep's default
# max_tokens without reasoning.
ANSWER_TOKENS = 1024
# Room for thinking when a model thinks without a budget (adaptive, dynamic, an effort): none of the
# providers publishes a figure; this is a starting point a sweep overrides with max_tokens.
THINKING_TOKENS_WITHOUT_BUDGET = 8192


class CatalogError(ValueError):
    """The catalog file or an entry added by a sweep is malformed; the message is one line."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """Where facts of an entry were read (``url``), when (``checked``) and which groups (``facts``)."""

    url: str = Field(min_length=1)
    checked: dt.date
    facts: tuple[FactGroup, ...] = Field(min_length=1)


class Budget(_Frozen):
    """A thinking budget in tokens: ``min`` to ``max`` (None: no stated maximum); ``zero_disables``:
    0 turns thinking off; ``dynamic``: -1 lets the model choose; ``below_max_tokens``: the budget
    must stay below the request's max_tokens (Anthropic)."""

    min: int = Field(ge=0)
    max: int | None = None
    zero_disables: bool = False
    dynamic: bool = False
    below_max_tokens: bool = False

    def describe(self) -> str:
        if self.max is not None:
            accepted = f"thinking budgets {self.min:,}–{self.max:,}"
        else:
            accepted = f"thinking budgets from {self.min:,}{' to below max_tokens' if self.below_max_tokens else ''}"
        if self.zero_disables:
            accepted += " (0 turns thinking off)"
        return accepted


class Reasoning(_Frozen):
    """How a model's reasoning is set. ``efforts``: the values a sweep's ``effort`` may take (OpenAI
    reasoning_effort, Anthropic output_config.effort, Gemini thinking_level); empty: none; None: not
    known. ``budget``: a thinking budget, None if the model takes none. ``adaptive``: Anthropic's
    adaptive thinking. ``tools_on_chat``: False when Chat Completions refuses function tools
    together with a reasoning effort."""

    efforts: tuple[str, ...] | None = None
    budget: Budget | None = None
    adaptive: bool = False
    tools_on_chat: bool = True


class Defaults(_Frozen):
    """What a model does with no reasoning setting. ``reasoning``: None if it does not think, else
    the label records carry (``adaptive``, ``dynamic`` or a level). ``effort``: the effort or level
    the API applies when none is sent. ``display``: whether thinking text comes back unasked."""

    reasoning: str | None = None
    effort: str | None = None
    display: Literal["summarized", "omitted"] | None = None


class ModelFacts(_Frozen):
    """One catalog entry: a model name, or a pattern with ``*``, and what it accepts."""

    name: str = Field(min_length=1)
    apis: tuple[Api, ...] = Field(min_length=1)
    reasoning: Reasoning = Field(default_factory=Reasoning)
    default: Defaults = Field(default_factory=Defaults)
    sampling: Sampling | None = None
    max_output_tokens: int | None = Field(None, gt=0)
    context_window: int | None = Field(None, gt=0)
    retires: dt.date | None = None
    successor: str | None = None
    sources: tuple[Source, ...] = ()
    note: str | None = None

    @property
    def is_pattern(self) -> bool:
        return "*" in self.name

    def matches(self, model_name: str) -> bool:
        if not self.is_pattern:
            return model_name == self.name
        # fnmatchcase: model names are case-sensitive on every API, and only `*` is meant.
        return fnmatch.fnmatchcase(model_name, self.name.replace("[", "[[]").replace("?", "[?]"))


@dataclass(frozen=True)
class Catalog:
    """The shipped entries with a sweep's own ones, which replace shipped entries of the same name."""

    entries: tuple[ModelFacts, ...]

    def lookup(self, model_name: str, api: str) -> ModelFacts | None:
        """The entry for ``model_name``: an exact name beats a pattern, a longer pattern a shorter
        one. Entries served on ``api`` come first; if none is, the best entry for the name is still
        returned, so ``problems`` can say the model is not served there. None: an unknown model."""
        matching = [entry for entry in self.entries if entry.matches(model_name)]
        on_api = [entry for entry in matching if api in entry.apis]
        candidates = on_api or matching
        if not candidates:
            return None
        return max(candidates, key=lambda entry: (not entry.is_pattern, len(entry.name)))


class Problem(NamedTuple):
    """A setting the model refuses: ``setting`` is the config field, ``message`` one line saying
    what the model accepts instead."""

    setting: str
    message: str


class Retirement(NamedTuple):
    status: Status | None
    date: dt.date | None
    successor: str | None


def load_catalog(extra_entries: Iterable[Mapping[str, Any]] = ()) -> Catalog:
    """The shipped catalog plus ``extra_entries`` (a sweep's ``models`` entries in the file's shape,
    sources optional); an extra entry replaces a shipped one of the same name."""
    shipped = _shipped()
    extra = tuple(_entry(raw, f"catalog entry {i + 1} of the sweep") for i, raw in enumerate(extra_entries))
    replaced = {entry.name for entry in extra}
    return Catalog(tuple(entry for entry in shipped.entries if entry.name not in replaced) + extra)


@cache  # read once per process: every config check asks for it
def _shipped() -> Catalog:
    text = resources.files(__package__).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return parse_catalog(text, source=CATALOG_FILE)


def parse_catalog(text: str, *, source: str) -> Catalog:
    """Entries from a catalog file's text; ``source`` names it in errors."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        raise CatalogError(f"{source}: expected a mapping with schema: 1 and a models list")
    if raw.get("schema") != 1:
        raise CatalogError(f"{source}: schema {raw.get('schema')!r} is not one this version reads (1)")
    entries = tuple(_entry(item, f"{source}: models[{i}]") for i, item in enumerate(raw["models"]))
    names = [entry.name for entry in entries]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CatalogError(f"{source}: listed more than once: {', '.join(repeated)}")
    return Catalog(entries)


def _entry(raw: Any, where: str) -> ModelFacts:
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        where = f"{where} ({raw['name']})"
    try:
        return ModelFacts.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{where}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc or 'entry'}: {error['msg']}{more}"


def unknown_model_warning(model_name: str, api: str) -> str:
    """The one line shown for a model the catalog does not know; its API's rules apply."""
    return (f"model {model_name!r} is not in the model catalog: only {api}'s general rules are checked "
            "(add it under the sweep's catalog entries to check its own)")


def _accepted(facts: ModelFacts) -> str:
    """What the model takes for reasoning, for messages: '…; it accepts …'."""
    parts = []
    if facts.reasoning.efforts:
        parts.append(f"effort {' | '.join(facts.reasoning.efforts)}")
    if facts.reasoning.budget is not None:
        parts.append(facts.reasoning.budget.describe())
    if not parts:
        return "it takes no reasoning setting"
    return "it accepts " + " or ".join(parts)


def reasoning_on(facts: ModelFacts, effort: str | None, budget_tokens: int | None) -> bool:
    """Whether the model thinks with this setting (a level or budget that turns it off: no)."""
    if effort is not None:
        return effort != "none"
    if budget_tokens is not None:
        return budget_tokens != 0
    return facts.default.reasoning is not None


def problems(facts: ModelFacts, api: str, *, effort: str | None = None, budget_tokens: int | None = None,
             temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
             max_tokens: int | None = None, model: str | None = None) -> list[Problem]:
    """What ``facts``' model refuses of these settings on ``api``, each naming the config field and
    the values the model accepts; ``model`` is the name the messages use (default: the entry's).
    On Gemini ``effort`` is the thinking level. Facts the catalog does not know (None) are not
    checked."""
    name = model if model is not None else facts.name
    found: list[Problem] = []
    if api not in facts.apis:
        found.append(Problem("api", f"{name} is not served on {api} (it is on: {', '.join(facts.apis)})"))
    efforts = facts.reasoning.efforts
    if effort is not None and efforts is not None and effort not in efforts:
        if efforts:
            found.append(Problem("effort", f"{name} does not take effort {effort!r}; {_accepted(facts)}"))
        else:
            found.append(Problem("effort", f"{name} takes no effort; {_accepted(facts)}"))
    budget = facts.reasoning.budget
    if budget_tokens is not None:
        if budget is None:
            if efforts is not None or facts.reasoning.adaptive:
                found.append(Problem("budget_tokens", f"{name} takes no thinking budget; {_accepted(facts)}"))
        elif budget_tokens == 0 and not budget.zero_disables:
            found.append(Problem("budget_tokens", f"{name} cannot turn thinking off with a budget of 0; "
                                                  f"{_accepted(facts)}"))
        elif budget_tokens == -1 and budget.dynamic:
            pass  # -1: the model chooses its budget
        elif budget_tokens != 0 and (budget_tokens < budget.min
                                     or (budget.max is not None and budget_tokens > budget.max)):
            found.append(Problem("budget_tokens", f"{name} does not take a thinking budget of {budget_tokens:,}; "
                                                  f"{_accepted(facts)}"))
        elif budget.below_max_tokens and max_tokens is not None and budget_tokens >= max_tokens:
            found.append(Problem("budget_tokens", f"budget_tokens ({budget_tokens:,}) must be below max_tokens "
                                                  f"({max_tokens:,}) for {name}: thinking counts towards the reply"))
    thinking = reasoning_on(facts, effort, budget_tokens)
    if (api == "openai" and not facts.reasoning.tools_on_chat and effort is not None and thinking):
        found.append(Problem("api", f"{name} refuses function tools with a reasoning effort on Chat Completions: "
                                    "use api: responses, or effort none"))
    sampling = {"temperature": temperature if temperature != 1 else None, "top_p": top_p, "top_k": top_k}
    for setting, value in sampling.items():
        if value is None:
            continue
        if facts.sampling == "rejected":
            found.append(Problem(setting, f"{name} accepts no {setting} other than the default"
                                          f"{' (1)' if setting == 'temperature' else ''}: leave it unset"))
        elif facts.sampling == "without_reasoning" and thinking:
            found.append(Problem(setting, f"{name} accepts {setting} only with reasoning off "
                                          f"({'effort none' if 'none' in (efforts or ()) else 'no thinking'}): "
                                          "leave it unset"))
    if max_tokens is not None and facts.max_output_tokens is not None and max_tokens > facts.max_output_tokens:
        found.append(Problem("max_tokens", f"{name} writes at most {facts.max_output_tokens:,} tokens; "
                                           f"max_tokens is {max_tokens:,}"))
    return found


def effective_reasoning(facts: ModelFacts | None, requested: str | None) -> str | None:
    """The reasoning label a record carries: the requested setting, or when none was, what the model
    does by default (``adaptive``, ``dynamic``, a level), or None if it then does not think."""
    if requested is not None:
        return requested
    return facts.default.reasoning if facts is not None else None


def retirement(facts: ModelFacts, today: dt.date, *, within_days: int = RETIRING_WITHIN_DAYS) -> Retirement:
    """``retired`` on or after the retirement date, ``retiring`` within ``within_days`` of it."""
    if facts.retires is None:
        return Retirement(None, None, facts.successor)
    if today >= facts.retires:
        status: Status | None = "retired"
    elif (facts.retires - today).days <= within_days:
        status = "retiring"
    else:
        status = None
    return Retirement(status, facts.retires, facts.successor)


def default_max_tokens(facts: ModelFacts | None, budget_tokens: int | None, *, thinking: bool = False,
                       answer_tokens: int = ANSWER_TOKENS) -> int:
    """A max_tokens for a request that sets none: the answer's room plus the thinking budget (or,
    for a model that thinks without one, ``THINKING_TOKENS_WITHOUT_BUDGET``), at most the model's
    maximum output."""
    if budget_tokens is not None and budget_tokens > 0:
        room = budget_tokens
    elif thinking or (budget_tokens is None and facts is not None and facts.default.reasoning is not None):
        room = THINKING_TOKENS_WITHOUT_BUDGET
    else:
        room = 0
    wanted = answer_tokens + room
    if facts is not None and facts.max_output_tokens is not None:
        return min(wanted, facts.max_output_tokens)
    return wanted


def retired_models_in(config_text: str, *, today: dt.date, catalog: Catalog | None = None,
                      ) -> list[tuple[str, Retirement]]:
    """The models of a sweep config's text (``models[].model`` of the providers' own APIs) that are
    retired or retiring on ``today``, with their retirement, in the file's order."""
    catalog = catalog if catalog is not None else load_catalog()
    data = yaml.safe_load(config_text) or {}
    found: list[tuple[str, Retirement]] = []
    for model in data.get("models") or ():
        # a base_url is a self-hosted server speaking the API: its model is not the provider's
        if not isinstance(model, dict) or model.get("provider") not in _API_OF_PROVIDER or "base_url" in model:
            continue
        api = _API_OF_PROVIDER[model["provider"]]
        if api == "openai" and model.get("api") == "responses":
            api = "openai_responses"
        facts = catalog.lookup(str(model.get("model")), api)
        if facts is None:
            continue
        state = retirement(facts, today)
        if state.status is not None:
            found.append((str(model["model"]), state))
    return found


_API_OF_PROVIDER: dict[str, Api] = {"openai": "openai", "anthropic": "anthropic", "google": "google"}
