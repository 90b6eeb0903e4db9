"""The cross-checks: what the schema cannot see. Names that must exist (tasks, example ids, the
judge, gate keys, local model files), repeats, each model's settings against its model catalog
entry (``orchestrator.config.catalog``) or, for a model the catalog does not know, against what its
API accepts, and API keys in the environment.

Each step yields ``(loc, problem)`` pairs in file order; loading stops at the first. The task step
also loads the sweep's own tasks (``tasks.plugins``) and returns them as ``tasks.TaskSource`` values
with their hashes: :func:`validate_semantics` hands them back to the loader, which attaches them to
the config (``SweepConfig.with_task_sources``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from orchestrator.config.catalog import catalog_of, catalog_problems
from orchestrator.config.errors import ConfigError, Loc, as_written, format_loc, where
from orchestrator.config.prices import model_price
from orchestrator.config.schema import (
    ModelConfig,
    ReasoningSetting,
    SweepConfig,
    TaskSelection,
    catalog_target,
)
from providers.catalog.apis import API_NAMES, DEFAULT_TEMPERATURE_ONLY, budget_problem, effort_problem
from providers.catalog.models import Catalog, ModelFacts
from providers.keys import MissingApiKey, looks_like_key, mask_keys, resolve_api_key
from providers.registry import PROVIDER_NAMES
from tasks.plugins import TaskSource
from tasks.variants import DEFAULT_DATASET

Issue = tuple[Loc, str]


def validate_semantics(config: SweepConfig, *, check_keys: bool = True,
                       today: dt.date | None = None) -> list[TaskSource]:
    """Raise a ConfigError for the first problem the cross-checks find; else the sweep's own tasks
    as the checks loaded them (``check_keys``: also require the API keys in the environment;
    ``today``: the day retirements are judged on, default today)."""
    issues = semantic_issues(config, check_keys=check_keys, today=today)
    while True:
        try:
            loc, problem = next(issues)
        except StopIteration as done:
            sources: list[TaskSource] = done.value
            return sources
        raise ConfigError(located(config, loc, problem))


def located(config: SweepConfig, loc: Loc, problem: str) -> str:
    """``<file>:<line>: <field>: <problem>`` for a problem found in a loaded config, key-shaped
    text masked: the one shape of every config message, warnings included."""
    return mask_keys(f"{where(config._source, config._lines, loc)}: {format_loc(loc)}: {problem}")


def semantic_issues(config: SweepConfig, *, check_keys: bool,
                    today: dt.date | None = None) -> Generator[Issue, None, list[TaskSource]]:
    """Every problem, step by step; returns the sweep's own tasks (see the module docstring)."""
    # First: a key pasted into the config would otherwise travel on into run directory names,
    # Arrow columns and requests.
    yield from _pasted_keys(config)
    sources = yield from _task_issues(config)
    yield from _model_issues(config, check_keys=check_keys, today=today)
    ids = {model.id for model in config.models}
    yield from _judge_issues(config, ids)
    yield from _budget_issues(config, ids)
    yield from _unused_gates(config)
    return sources


def _strings(data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every text in ``data`` (mapping keys included) with its location."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield (*loc, key), str(key)
            yield from _strings(value, (*loc, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _strings(item, (*loc, index))


def _pasted_keys(config: SweepConfig) -> Iterator[Issue]:
    for loc, text in _strings(config.model_dump(mode="json", exclude_defaults=True), ()):
        if looks_like_key(text):
            yield loc, (f"looks like an API key ({mask_keys(text)}); keys are read from the environment "
                        "only: put it in a variable and name that in api_key_env")


# ---------------------------------------------------------------- tasks


def _task_issues(config: SweepConfig) -> Generator[Issue, None, list[TaskSource]]:
    """Each ``tasks:`` entry: its name, its own task's source, its dataset and example ids."""
    import tasks  # the task registry; imported here so the schema loads without the datasets

    sources: list[TaskSource] = []
    seen: set[str] = set()
    for i, selection in enumerate(config.tasks):
        refused = _name_problem(selection, seen)
        if refused is not None:
            below, problem = refused
            yield ("tasks", i, *below), problem
            continue
        seen.add(selection.name)
        if selection.name not in tasks.TASK_NAMES:
            loaded = _load_own_task(config, selection)
            if isinstance(loaded, str):
                key = next((k for k in ("module", "path", "mcp") if getattr(selection, k) is not None), "name")
                yield ("tasks", i, key), loaded
                continue
            sources.append(loaded)
            yield from _shared_server_issues(config, selection, i)
        yield from _variant_issues(selection, i)
    return sources


def _name_problem(selection: TaskSelection, seen: set[str]) -> tuple[Loc, str] | None:
    """Why this entry's name cannot be used, as (where below its ``tasks[i]``, problem); None when it can."""
    import tasks

    if selection.plugin and selection.name in tasks.TASK_NAMES:
        return ("name",), f"{selection.name!r} is a built-in task; give your own task another name"
    if not selection.plugin and selection.name not in tasks.TASK_NAMES:
        installed = tasks.entry_point_names()
        if selection.name not in installed:
            names = ", ".join([*tasks.TASK_NAMES, *installed])
            return ("name",), (f"unknown task {selection.name!r} (known: {names}); "
                               "a task of your own takes module, path or mcp")
    if selection.name in seen:
        return (), f"task {selection.name!r} is listed twice"
    return None


def _load_own_task(config: SweepConfig, selection: TaskSelection) -> TaskSource | str:
    """Load, register and check a task the sweep brings (``tasks.plugins``): its source with the
    hash of what was loaded, or the problem."""
    import tasks
    from orchestrator.task_sources import source_of, with_digest

    source = source_of(selection, config.base_dir)
    if source is None:
        return f"unknown task {selection.name!r}"
    try:
        source = with_digest(source)
        tasks.register(source)
        if selection.dataset in tasks.dataset_names(selection.name):
            tasks.verify_task(selection.name, selection.dataset, config.scoring)
    except (tasks.PluginError, ValueError) as exc:
        return " ".join(str(exc).split())
    return source


def _shared_server_issues(config: SweepConfig, selection: TaskSelection, i: int) -> Iterator[Issue]:
    mcp = selection.mcp
    if mcp is not None and mcp.url is not None and mcp.reset is not None and config.ray.runners > 1:
        yield ("tasks", i, "mcp", "reset"), (f"a shared server reset per episode serves one runner at a time: "
                                             f"set ray.runners to 1 (it is {config.ray.runners}), or use command")


def _variant_issues(selection: TaskSelection, i: int) -> Iterator[Issue]:
    """The entry's dataset, and its example ids in that dataset."""
    import tasks

    datasets = tasks.dataset_names(selection.name)
    if selection.dataset not in datasets:
        yield ("tasks", i, "dataset"), (f"task {selection.name!r} has no dataset {selection.dataset!r} "
                                        f"(its datasets: {', '.join(datasets)})")
        return
    if selection.examples:
        known = {example.id for example in tasks.get_task(selection.name, selection.dataset).examples}
        for j, example_id in enumerate(selection.examples):
            if example_id not in known:
                on = "" if selection.dataset == DEFAULT_DATASET else f" ({selection.dataset} dataset)"
                yield ("tasks", i, "examples", j), f"task {selection.name!r}{on} has no example {example_id!r}"


# ---------------------------------------------------------------- models


def _model_issues(config: SweepConfig, *, check_keys: bool, today: dt.date | None) -> Iterator[Issue]:
    """Each model (reasoning variants included; the judge is one of them): its settings against
    its catalog entry or its API, its id, gate, file and key."""
    ids: set[str] = set()
    catalog = catalog_of(config)
    for position, model in enumerate(config.models):
        i, setting_index = model._entry or (position, None)
        facts = _facts(model, catalog)
        for loc, problem in catalog_problems(model, catalog, today=today) if facts else ():
            yield as_written(loc, config._lines), problem
        if setting_index is not None and model.reasoning:  # a variant: its one setting
            for loc, problem in _reasoning_issues(model, model.reasoning[0], ("models", i),
                                                  ("models", i, "reasoning", setting_index), facts):
                yield as_written(loc, config._lines), problem
        if model.id in ids:
            yield ("models", i, "id"), f"model id {model.id!r} is used twice"
        ids.add(model.id)
        if model.gate and model.gate not in config.providers and model.gate not in PROVIDER_NAMES:
            yield ("models", i, "gate"), (f"gate {model.gate!r} is neither a providers: entry "
                                          f"nor a provider name ({', '.join(PROVIDER_NAMES)})")
        if model.model_path is not None and not Path(model.model_path).expanduser().exists():
            yield ("models", i, "model_path"), f"no such file: {model.model_path}"
        if check_keys and model.key_env:
            try:
                resolve_api_key(model.provider, model.key_env)
            except MissingApiKey as exc:
                yield ("models", i, "api_key_env" if model.api_key_env else "provider"), str(exc)


def _facts(model: ModelConfig, catalog: Catalog) -> ModelFacts | None:
    target = catalog_target(model)
    return catalog.lookup(*target) if target is not None else None


def _reasoning_issues(model: ModelConfig, setting: ReasoningSetting, at: Loc, entry: Loc,
                      facts: ModelFacts | None) -> Iterator[Issue]:
    """A reasoning variant's ``setting`` (written at ``entry``; the model at ``at``) against what
    its API accepts (``providers.catalog.apis``). Where the model's catalog entry (``facts``)
    states a rule, the entry's rule replaces the API's (``catalog_problems``); the API's rules stand
    for what the entry leaves unknown and for a model without one.

    A simulated model follows the real API of its ``api_format``, so the same config works on the
    simulator and on the provider; an OpenAI-compatible server (``base_url``) keeps its own sampling
    rules. (There is no tool_choice setting: every request lets the model choose, which thinking
    requires.)"""
    if model.max_tokens_param == "max_tokens" and model.base_url is None:
        yield (*at, "max_tokens_param"), ("OpenAI reasoning models reject max_tokens: "
                                          "use max_completion_tokens (the default on OpenAI's endpoint)")
    reasoning = facts.reasoning if facts is not None else None
    fmt = model.api_format
    api = API_NAMES[fmt] + (f" (api_format {fmt})" if model.provider == "simulated" else "")
    if (setting.effort is not None and (reasoning is None or reasoning.efforts is None)
            and (problem := effort_problem(fmt, setting.effort, api)) is not None):
        yield (*entry, "effort"), problem
    budget = setting.budget_tokens
    budget_known = reasoning is not None and (reasoning.budget is not None or reasoning.efforts is not None
                                              or reasoning.adaptive)
    # Gemini reads 0 as thinking off and -1 as a budget the model chooses
    if budget is not None and not budget_known and not (fmt == "google" and budget in (0, -1)):
        problem = budget_problem(fmt, budget, api)
        if problem is not None:
            yield (*entry, "budget_tokens"), problem
        elif budget >= model.max_tokens:
            yield (*entry, "budget_tokens"), (f"budget_tokens ({budget}) must be below max_tokens ({model.max_tokens}): "
                                              "thinking counts towards the reply's tokens")
    own_rules = model.base_url is None or fmt == "anthropic"
    sampling_known = facts is not None and facts.sampling is not None
    if (fmt in DEFAULT_TEMPERATURE_ONLY and own_rules and not sampling_known and model.temperature is not None
            and model.temperature != 1):
        yield (*at, "temperature"), (f"temperature {model.temperature:g} with reasoning: "
                                     f"{DEFAULT_TEMPERATURE_ONLY[fmt]} (remove temperature)")


# ---------------------------------------------------------------- judge, budget, gates


def _judge_issues(config: SweepConfig, ids: set[str]) -> Iterator[Issue]:
    if config.judge is None:
        return
    if config.judge not in ids:
        yield ("judge",), f"judge {config.judge!r} is not a model id (models: {', '.join(sorted(ids))})"
        return
    # every runner judges its own episodes, so each needs a share of the judge's endpoint
    gate = config.gate_config(config.model(config.judge).gate_key)
    if gate.serving(config.ray.runners) < config.ray.runners:
        yield ("judge",), (f"judge {config.judge!r}: its endpoint's max_in_flight ({gate.max_in_flight}) is below "
                           f"ray.runners ({config.ray.runners}); every runner needs a share of it")


def _budget_issues(config: SweepConfig, ids: set[str]) -> Iterator[Issue]:
    unpriced = [m.id for m in config.models if model_price(m).per_mtok is None]
    if config.budget.usd is not None and unpriced:
        yield ("budget", "usd"), (f"model {unpriced[0]!r} has no price_per_mtok (and genai-prices has no price for "
                                  "it): a budget needs the price of every model it covers")
    for model_id in config.budget.models:
        if model_id not in ids:
            yield ("budget", "models", model_id), (f"{model_id!r} is not a model id "
                                                   f"(models: {', '.join(sorted(ids))})")
        elif model_id in unpriced:
            yield ("budget", "models", model_id), f"model {model_id!r} has no price_per_mtok (and genai-prices has no price for it): its budget needs one"


def _unused_gates(config: SweepConfig) -> Iterator[Issue]:
    used = {model.gate_key for model in config.models}
    for key in config.providers:
        if key not in used and key not in PROVIDER_NAMES:
            yield ("providers", key), (f"no model uses gate {key!r} (gates in use: {', '.join(sorted(used))})")
