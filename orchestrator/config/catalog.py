"""Each model of a sweep against the model catalog (``providers.catalog.models``): what its own
entry refuses, whether it is retired or retiring, and the warning for a model the catalog lacks.

The catalog is the shipped one with the sweep's ``catalog:`` entries (which replace shipped entries
of the same name). Which entry governs a model is ``schema.catalog_target``'s to say: a real
provider's model on its own endpoint; a simulated model has none of its own.
"""

from __future__ import annotations

import datetime as dt

from orchestrator.config.errors import Loc
from orchestrator.config.schema import ModelConfig, SweepConfig, catalog_target
from providers.catalog.models import Catalog, load_catalog, problems, retirement, unknown_model_warning

# The config field each of ``problems``' settings is written in, below the model's entry.
_REASONING_FIELDS = frozenset({"effort", "budget_tokens"})


def catalog_of(config: SweepConfig) -> Catalog:
    """The shipped catalog with the sweep's own entries."""
    return load_catalog(config.catalog)


def model_loc(model: ModelConfig) -> tuple[Loc, Loc | None]:
    """Where a model is written (``models[i]``) and its reasoning setting (None without one)."""
    i, setting_index = model._entry or (0, None)
    at: Loc = ("models", i)
    if not model.reasoning:
        return at, None
    return at, (*at, "reasoning", setting_index if setting_index is not None else 0)


def catalog_problems(model: ModelConfig, catalog: Catalog | None = None, *,
                     today: dt.date | None = None) -> list[tuple[Loc, str]]:
    """What ``model``'s catalog entry refuses of its settings, as (where in the file, one line naming
    the values the model accepts), and its retirement once it is retired. Empty for a model without
    a catalog entry (``unknown_model_warning`` is then a warning) and for one no entry governs."""
    target = catalog_target(model)
    if target is None:
        return []
    catalog = catalog if catalog is not None else load_catalog()
    name, api = target
    facts = catalog.lookup(name, api)
    if facts is None:
        return []
    at, entry = model_loc(model)
    found: list[tuple[Loc, str]] = []
    state = retirement(facts, today or dt.date.today())
    if state.status == "retired":
        instead = f": use {state.successor}" if state.successor else " (no successor named)"
        found.append(((*at, "model"), f"{name} was retired on {state.date}{instead}"))
    setting = model.reasoning[0] if model.reasoning and len(model.reasoning) == 1 else None
    for problem in problems(facts, api, effort=setting.effort if setting else None,
                            budget_tokens=setting.budget_tokens if setting else None,
                            temperature=model.temperature, max_tokens=model.max_tokens, model=name):
        if problem.setting in _REASONING_FIELDS and entry is not None:
            loc: Loc = (*entry, problem.setting)
        elif problem.setting == "api":
            loc = (*at, "api") if model.api is not None else (*at, "model")
        else:
            loc = (*at, problem.setting)
        found.append((loc, problem.message))
    return found


def catalog_warnings(config: SweepConfig, *, today: dt.date | None = None) -> list[tuple[Loc, str]]:
    """A model the catalog does not know (its API's rules are checked) and one retiring within
    ``providers.catalog.models.RETIRING_WITHIN_DAYS``: once per entry of the file."""
    catalog = catalog_of(config)
    today = today or dt.date.today()
    found: list[tuple[Loc, str]] = []
    seen: set[Loc] = set()
    for model in config.models:
        target = catalog_target(model)
        at, _ = model_loc(model)
        if target is None or at in seen:
            continue
        seen.add(at)
        name, api = target
        facts = catalog.lookup(name, api)
        if facts is None:
            found.append(((*at, "model"), unknown_model_warning(name, api)))
            continue
        state = retirement(facts, today)
        if state.status == "retiring" and state.date is not None:
            instead = f"; its successor is {state.successor}" if state.successor else ""
            found.append(((*at, "model"), f"{name} retires on {state.date} (in {(state.date - today).days} "
                                          f"days){instead}"))
    return found
