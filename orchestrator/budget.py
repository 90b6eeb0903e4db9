"""Spending: what a sweep is expected to cost before it runs (``sweep --estimate``) and the cap it
runs under (``budget:`` in sweep.yaml).

**The token model.** An episode is expected to go as the oracle's would: one model call per
expected tool call and one for the answer (a simulated ``single-call`` model's path stops after
that policy's two calls, as it does). Each call's input is the conversation so far — the
instructions, the question, the oracle's calls and the tool results a fresh environment really
returns for them (the text strategy's rendering included) — and the tools' names and
descriptions; its output is the call's arguments or the reference answer. Characters become tokens
at four a token, the rule the provider simulator bills by. ``--like RUN`` calibrates this per model,
task and strategy with what a previous run's episodes really used (calls, input and output tokens
against this model's figures for the same episodes), which covers what the oracle does not: weaker
policies, reasoning tokens, a real tokenizer.

**The budget.** The driver asks ``BudgetGuard.admit`` before it hands out each episode: admitted
only when what was spent (every paid attempt's tokens at the model's price, ``orchestrator.config.prices``; calls
answered by the response cache cost nothing) plus the expected cost of the episodes already out
plus this one's stays within ``budget.usd`` and the model's ``budget.models`` entry. An episode's
expected cost is the mean paid cost of that model's finished episodes once there are a few, the
token model's before. The overrun is thus bounded by how far the in-flight episodes exceed their
expectation. What was spent before a resume is read back from the run's ``calls``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa

import tasks
from orchestrator.config import ModelConfig, SweepConfig
from orchestrator.config.prices import model_price
from orchestrator.plan import EpisodeSpec
from orchestrator.rundir import iter_parts
from providers.catalog.batch import terms as batch_terms
from providers.simulator.policies import SINGLE_CALL_LIMIT
from providers.text_tools import render_call, render_request
from providers.types import CompletionRequest, Message, ToolCall, ToolSpec

CHARS_PER_TOKEN = 4  # the simulator's billing rule (providers/simulator/replies.py)
OBSERVED_AFTER = 3  # finished episodes of a model before its mean replaces the token model


@dataclass(frozen=True)
class EpisodeShape:
    """What one episode is expected to use: model calls, input and output tokens."""

    calls: float
    input_tokens: float
    output_tokens: float


def _tokens(characters: int) -> int:
    return max(1, characters // CHARS_PER_TOKEN)


def _prompt_chars(request: CompletionRequest) -> int:
    chars = sum(len(m.content) + sum(len(c.arguments_json) for c in m.tool_calls) for m in request.messages)
    return chars + sum(len(t.name) + len(t.description) for t in request.tools)


def path_limit(model: ModelConfig) -> int | None:
    """The most tool calls the model's path takes, when its policy is known to stop early."""
    return SINGLE_CALL_LIMIT if model.provider == "simulated" and model.model == "single-call" else None


@cache
def oracle_shape(task_name: str, dataset: str, scoring: str, example_id: str, strategy: str,
                 max_calls: int | None = None) -> EpisodeShape:
    """The token model's figures for one episode (the same for every seed), its path cut after
    ``max_calls`` tool calls when set."""
    task = tasks.get_task(task_name, dataset, scoring)
    example = task.example(example_id)
    environment = task.environment()
    tools = tuple(ToolSpec(t.name, t.description, dict(t.parameters)) for t in environment.tools)
    messages = [Message("system", task.instructions), Message("user", example.question)]
    input_tokens = output_tokens = 0

    def sent(conversation: list[Message]) -> int:
        request = CompletionRequest(model="", messages=tuple(conversation), tools=tools)
        return _tokens(_prompt_chars(render_request(request) if strategy == "text" else request))

    steps = list(example.expected_steps)[:max_calls]
    for index, step in enumerate(steps):
        input_tokens += sent(messages)
        call = ToolCall(f"call_{index}", step.name, dict(step.arguments), json.dumps(dict(step.arguments)))
        output_tokens += _tokens(len(render_call(call)) if strategy == "text" else len(call.arguments_json))
        result = environment.call(step.name, dict(step.arguments))
        messages += [Message("assistant", "", tool_calls=(call,)),
                     Message("tool", result.content, tool_call_id=call.id, name=call.name)]
    input_tokens += sent(messages)
    output_tokens += _tokens(len(str(example.reference)))
    return EpisodeShape(len(steps) + 1, input_tokens, output_tokens)


def batch_discount(model: ModelConfig) -> float | None:
    """The share of the online price a batched call of ``model`` costs; None when its provider has
    no batch API (the local provider, which the config refuses to batch)."""
    return None if model.provider == "local" else batch_terms(model.api_format).discount


def cost_usd(model: ModelConfig, input_tokens: float, output_tokens: float, cached_input_tokens: float = 0,
             *, batch: bool | None = None) -> float:
    """US dollars at the model's price (``model_price``; 0 without one); cached input at its own
    price when set. At the batch rate when ``batch`` (default: when the model is batched, as its
    calls are billed)."""
    price = model_price(model).per_mtok
    if price is None:
        return 0.0
    batched = model.batch_options is not None if batch is None else batch
    factor = (batch_discount(model) or 1.0) if batched else 1.0
    cached = price.input if price.cached_input is None else price.cached_input
    return factor * (price.input * (input_tokens - cached_input_tokens) + cached * cached_input_tokens
                     + price.output * output_tokens) / 1e6


def _limit(config: SweepConfig, model_id: str) -> int | None:
    try:
        return path_limit(config.model(model_id))
    except KeyError:  # a model of the earlier run (--like) this config does not have
        return None


# ---------------------------------------------------------------- --like: calibration by a previous run


Calibration = dict[tuple[str, str, str], tuple[float, float, float]]  # (model, task, strategy) → ratios


def calibrate(config: SweepConfig, run: Path) -> Calibration:
    """Per model, task and strategy: what ``run``'s episodes really used over what the token model
    expects of the same episodes (calls, input tokens, output tokens)."""
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0] * 6)
    columns = ["model_id", "task", "dataset", "example_id", "strategy", "n_attempts", "input_tokens",
               "output_tokens"]
    for part in iter_parts(run, "episodes", columns):
        for row in part.to_pylist():
            shape = oracle_shape(row["task"], row["dataset"] or "toolsweep", config.scoring, row["example_id"],
                                 row["strategy"], _limit(config, row["model_id"]))
            key = (row["model_id"], row["task"], row["strategy"])
            for i, (real, expected) in enumerate(((row["n_attempts"], shape.calls),
                                                  (row["input_tokens"], shape.input_tokens),
                                                  (row["output_tokens"], shape.output_tokens))):
                sums[key][2 * i] += real
                sums[key][2 * i + 1] += expected
    return {key: (s[0] / s[1], s[2] / s[3], s[4] / s[5]) for key, s in sums.items() if s[1] and s[3] and s[5]}


def expected_shape(spec: EpisodeSpec, config: SweepConfig, calibration: Calibration | None = None) -> EpisodeShape:
    shape = oracle_shape(spec.task, spec.dataset, config.scoring, spec.example_id, spec.strategy,
                         _limit(config, spec.model_id))
    ratios = (calibration or {}).get((spec.model_id, spec.task, spec.strategy))
    if ratios is None:
        return shape
    return EpisodeShape(shape.calls * ratios[0], shape.input_tokens * ratios[1], shape.output_tokens * ratios[2])


@dataclass
class ModelEstimate:
    """``cost_usd``: what the sweep will pay (the batch price for a batched model, ``batched``);
    ``online_usd`` and ``batch_usd``: the model's calls at either price (None without a price, or
    without a batch API)."""

    model_id: str
    episodes: int = 0
    calls: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    cost_usd: float | None = None
    online_usd: float | None = None
    batch_usd: float | None = None
    batched: bool = False


def estimate(config: SweepConfig, plan: Sequence[EpisodeSpec], like: Path | None = None) -> list[ModelEstimate]:
    """Per model: planned episodes, expected calls, tokens and cost (None without a price). Calls
    no provider."""
    calibration = calibrate(config, like) if like is not None else None
    rows = {m.id: ModelEstimate(m.id, cost_usd=0.0 if model_price(m).per_mtok else None) for m in config.models}
    for spec in plan:
        shape = expected_shape(spec, config, calibration)
        row = rows[spec.model_id]
        row.episodes += 1
        row.calls += shape.calls
        row.input_tokens += shape.input_tokens
        row.output_tokens += shape.output_tokens
    for row in rows.values():
        model = config.model(row.model_id)
        row.batched = model.batch_options is not None
        if row.cost_usd is not None:
            row.cost_usd = cost_usd(model, row.input_tokens, row.output_tokens)
            row.online_usd = cost_usd(model, row.input_tokens, row.output_tokens, batch=False)
            if batch_discount(model) is not None:
                row.batch_usd = cost_usd(model, row.input_tokens, row.output_tokens, batch=True)
    return [row for row in rows.values() if row.episodes]


def estimate_table(rows: Iterable[ModelEstimate]) -> str:
    """The estimate as a plain text table, with a total line: each model at the online and the batch
    price, the one the sweep will pay marked ``*`` and repeated as its cost."""
    rows = list(rows)
    header = ("model", "episodes", "calls", "input tokens", "output tokens", "online USD", "batch USD", "cost USD")

    def usd(value: float | None, paid: bool = False) -> str:
        return "-" if value is None else f"{value:,.2f}{'*' if paid else ' '}"

    def cells(r: ModelEstimate, total: bool = False) -> tuple[str, ...]:
        return (r.model_id, f"{r.episodes:,}", f"{r.calls:,.0f}", f"{r.input_tokens:,.0f}", f"{r.output_tokens:,.0f}",
                usd(r.online_usd, not total and not r.batched), usd(r.batch_usd, not total and r.batched),
                usd(r.cost_usd))

    def summed(values: list[float | None]) -> float | None:
        return None if all(v is None for v in values) else sum(v or 0.0 for v in values)

    total = ModelEstimate("total", sum(r.episodes for r in rows), sum(r.calls for r in rows),
                          sum(r.input_tokens for r in rows), sum(r.output_tokens for r in rows),
                          summed([r.cost_usd for r in rows]), summed([r.online_usd for r in rows]),
                          summed([r.batch_usd for r in rows]))
    table = [header, *(cells(r) for r in rows), cells(total, total=True)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
                     .rstrip() for line in table)


# ---------------------------------------------------------------- the guard the driver asks


@dataclass
class BudgetGuard:
    """Spent and in-flight money against ``budget.usd`` and ``budget.models`` (see the module docstring)."""

    config: SweepConfig
    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # by model id
    reached: bool = False  # an episode was refused for the budget
    _inflight: dict[str, tuple[str, float]] = field(default_factory=dict)  # episode id → (model, expected)
    _finished: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _paid_by_episode: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # in flight
    _paid_finished: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # by model: for its mean

    @classmethod
    def for_run(cls, config: SweepConfig, run_path: Path) -> BudgetGuard | None:
        """The guard of a sweep with a budget, counting what the run directory's calls already spent."""
        if config.budget.usd is None and not config.budget.models:
            return None
        guard = cls(config)
        if run_path.exists():
            for part in iter_parts(run_path, "calls", ["model_id", "outcome", "input_tokens", "output_tokens",
                                                       "cached_input_tokens"]):
                guard._add_spent(part, per_episode=False)
        return guard

    @property
    def spent_usd(self) -> float:
        return sum(self.spent.values())

    def expected(self, spec: EpisodeSpec) -> float:
        """The cost this episode is expected to add: its model's mean so far, else the token model."""
        finished = self._finished[spec.model_id]
        if finished >= OBSERVED_AFTER:
            return self._paid_finished[spec.model_id] / finished
        shape = expected_shape(spec, self.config)
        return cost_usd(self.config.model(spec.model_id), shape.input_tokens, shape.output_tokens)

    def admit(self, spec: EpisodeSpec) -> bool:
        """Whether ``spec`` may go out now; if so its expected cost counts as in flight until it is back."""
        cost = self.expected(spec)
        inflight = [c for _, c in self._inflight.values()]
        limit = self.config.budget.usd
        if limit is not None and self.spent_usd + sum(inflight) + cost > limit:
            self.reached = True
            return False
        model_limit = self.config.budget.models.get(spec.model_id)
        if model_limit is not None:
            mine = sum(c for m, c in self._inflight.values() if m == spec.model_id)
            if self.spent[spec.model_id] + mine + cost > model_limit:
                self.reached = True
                return False
        self._inflight[spec.episode_id] = (spec.model_id, cost)
        return True

    def release(self, episode_id: str) -> None:
        """An episode handed back unrun (its runner died): no longer in flight."""
        self._inflight.pop(episode_id, None)

    def settle(self, calls: pa.Table | None, done_ids: Iterable[str]) -> None:
        """A returned batch: its paid calls are spent, its episodes no longer in flight."""
        if calls is not None:
            self._add_spent(calls, per_episode=True)
        for episode_id in done_ids:
            held = self._inflight.pop(episode_id, None)
            if held is not None:
                self._finished[held[0]] += 1
                self._paid_finished[held[0]] += self._paid_by_episode.pop(episode_id, 0.0)

    def _add_spent(self, calls: pa.Table, *, per_episode: bool) -> None:
        columns = ["model_id", "outcome", "input_tokens", "output_tokens", "cached_input_tokens"]
        if per_episode:
            columns.append("episode_id")
        for row in calls.select(columns).to_pylist():
            if row["outcome"] == "cached":
                continue  # answered by the response cache: nothing paid
            paid = cost_usd(self.config.model(row["model_id"]), row["input_tokens"], row["output_tokens"],
                            row["cached_input_tokens"] or 0)
            self.spent[row["model_id"]] += paid
            if per_episode:
                self._paid_by_episode[row["episode_id"]] += paid
