"""The schema of sweep.yaml: pydantic models with every key, default and limit (a config's hashes
are in ``orchestrator.config.identity``).

Gates: each model is governed by the gate of one provider *endpoint* (rate limits, retries,
breaker; ``providers.gate.config.GateConfig``). A model's gate key is its ``gate`` when set;
otherwise its provider name, except that a model with its own ``base_url`` (an OpenAI-compatible
server) is a different endpoint and defaults to ``"<provider>:<base_url>"``. The ``providers:``
mapping gives a gate's limits by key; a key it does not list gets ``DEFAULT_GATES[key]``
(``providers.gate.defaults``) when the key is a provider name, else ``GateConfig()``.

Reasoning variants: a model whose ``reasoning`` lists settings is expanded when the config is
validated into one model per setting, with ids ``<id>@<effort>`` or ``<id>@<budget_tokens>`` (a
single mapping is a list of one), so the plan, the runners, the records and the reports see
ordinary models. A variant keeps its base model's gate, key and price.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from orchestrator.config.errors import Loc
from orchestrator.mcp_tools.spec import CALL_TIMEOUT_S, START_TIMEOUT_S, AnswerRule
from providers.catalog.models import Catalog, CatalogError, default_max_tokens, load_catalog, reasoning_on
from providers.gate.config import GateConfig
from providers.gate.defaults import default_gate
from providers.keys import key_env_name
from providers.registry import ApiFormat, ProviderName
from providers.simulator.config import POLICY_NAMES, BatchConfig, FaultConfig, LatencyConfig, NoiseConfig
from providers.types import Reasoning
from tasks.plugins import TaskSource
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING

# Copies of vocabularies defined elsewhere, as pydantic needs them (a Literal); tests/test_vocabulary.py
# ties each to its source.
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]  # providers.catalog.apis.EFFORTS
Scoring = Literal["toolsweep", "paper"]  # tasks.variants.SCORING_PROFILES
Strategy = Literal["native", "text"]

_SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_URL = r"^https?://\S+$"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
PATTERN_HINTS = {
    _SAFE_NAME: "use only letters, digits, '.', '_' and '-', starting with a letter or digit",
    _URL: "must be an http:// or https:// URL",
    _ENV_NAME: "must be the name of an environment variable (not its value)",
}
_SIMULATED_ONLY = ("latency_ms", "faults", "noise")


def shown(value: Any, limit: int = 80) -> str:
    """A value as an error message quotes it: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _custom(kind: str, message: str, at: str | int | None = None) -> PydanticCustomError:
    # ``at`` names the offending key (or list index) below the model being validated, for the line number.
    return PydanticCustomError(kind, message, {"at": at} if at is not None else None)


MAX_SEEDS = 10_000  # far beyond any variance study; keeps `seeds: N` from allocating without bound



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class McpSettings(_Strict):
    """``tasks[].mcp``: an MCP tool server as the task's environment (``orchestrator.mcp_tools``).

    ``command`` (stdio: one server process per episode) or ``url`` (streamable HTTP: a server that
    runs already). Paths (``dataset``, ``cwd``) are relative to the sweep file; ``cwd`` defaults to
    the sweep file's folder. ``env_from`` names environment variables passed on to the server
    (their values never enter the config). ``reset``/``state`` name the server's harness tools.
    """

    command: list[str] | None = Field(None, min_length=1)
    url: str | None = Field(None, pattern=_URL)
    dataset: str = Field(min_length=1)
    cwd: str | None = None
    env_from: list[Annotated[str, Field(pattern=_ENV_NAME)]] = Field(default_factory=list)
    reset: str | None = Field(None, min_length=1)
    state: str | None = Field(None, min_length=1)
    answers: AnswerRule = "short"
    instructions: str | None = Field(None, min_length=1)
    start_timeout_s: float = Field(START_TIMEOUT_S, gt=0, le=600)
    call_timeout_s: float = Field(CALL_TIMEOUT_S, gt=0, le=3600)
    max_sessions: PositiveInt | None = None  # servers open at once in each runner (None: no cap)

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        if isinstance(value, str):
            import shlex

            return shlex.split(value)
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> McpSettings:
        if (self.command is None) == (self.url is None):
            raise _custom("transport", "give either command (stdio) or url (streamable HTTP)", at="command")
        if self.url is not None and self.cwd is not None:
            raise _custom("cwd", "cwd applies to a command; a url server runs where it was started", at="cwd")
        return self


class TaskSelection(_Strict):
    """One ``tasks:`` entry: a task name, or ``{name, limit}`` (its first ``limit`` examples), or
    ``{name, examples: [ids]}``; ``dataset`` picks one of the task's datasets (``toolsweep``, the
    default, or ``paper``/``paper-tiny``: the published benchmark's).

    A task of your own (``tasks.plugins``): ``module`` (an importable task module), ``path`` (a
    ``.py`` file, relative to the sweep file) or ``mcp`` (an MCP server); a bare name that is not
    built in names a task an installed package registers under the ``toolsweep.tasks`` entry points.
    """

    name: str = Field(min_length=1)
    dataset: str = Field(DEFAULT_DATASET, min_length=1)
    limit: PositiveInt | None = None
    examples: list[str] | None = Field(None, min_length=1)
    module: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    path: str | None = Field(None, min_length=1)
    mcp: McpSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @field_validator("examples", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Dataset ids are text; a YAML author may write numeric ones bare.
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @model_validator(mode="after")
    def _one_selector(self) -> TaskSelection:
        if self.limit is not None and self.examples is not None:
            raise _custom("selection", "give either limit or examples, not both", at="examples")
        if self.examples is not None and len(set(self.examples)) != len(self.examples):
            raise _custom("selection", "example ids repeat", at="examples")
        given = [key for key in ("module", "path", "mcp") if getattr(self, key) is not None]
        if len(given) > 1:
            raise _custom("source", f"give one of module, path and mcp, not {' and '.join(given)}", at=given[1])
        if self.mcp is not None and self.dataset != DEFAULT_DATASET:
            raise _custom("dataset", "an MCP task has one dataset: mcp.dataset", at="dataset")
        return self

    @property
    def plugin(self) -> bool:
        """Whether this entry brings its own task (module, path or MCP server)."""
        return self.module is not None or self.path is not None or self.mcp is not None


class PricePerMTok(_Strict):
    """US dollars per million tokens, for ``cost_usd``. Reasoning tokens bill as ``output``;
    input served from the provider's prompt cache bills as ``cached_input`` (as ``input`` when
    unset)."""

    input: NonNegativeFloat
    output: NonNegativeFloat
    cached_input: NonNegativeFloat | None = None


class ReasoningSetting(_Strict):
    """One ``reasoning`` level of a model: an ``effort`` or a thinking ``budget_tokens``."""

    effort: Effort | None = None
    # Gemini 2.5 reads 0 as thinking off and -1 as a budget the model chooses; whether a model
    # takes them is the catalog's to say (orchestrator.config.checks)
    budget_tokens: int | None = Field(None, ge=-1)

    @model_validator(mode="after")
    def _one_of(self) -> ReasoningSetting:
        if (self.effort is None) == (self.budget_tokens is None):
            raise _custom("reasoning", "give either effort or budget_tokens (one of them)")
        return self

    @property
    def label(self) -> str:
        """The variant's id suffix and its episodes' ``reasoning`` column: the effort or the budget."""
        return self.effort if self.effort is not None else str(self.budget_tokens)

    def request(self) -> Reasoning:
        return Reasoning(effort=self.effort, budget_tokens=self.budget_tokens)


class LocalOptions(_Strict):
    """How the local provider runs its model (``providers.local.LocalProvider``).

    ``grammar`` constrains decoding so every reply is a well-formed call to an offered tool or an
    answer; it applies to the ``native`` strategy (the ``text`` strategy offers the model no tools).
    """

    grammar: bool = False
    workers: PositiveInt = 1
    n_threads: PositiveInt | None = None
    n_ctx: PositiveInt = 4096

    def as_options(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class BatchOptions(_Strict):
    """``models[].batch``: the model's calls go through its provider's batch API
    (``providers.batch.caller``). ``flush_s``: how long a queued call waits for others before its
    batch is submitted; ``max_requests``: at most this many calls per batch (the API's own limit
    when unset, ``providers.catalog.batch``); ``poll_s``: the first wait between polls of a batch
    (then growing, up to a minute)."""

    flush_s: PositiveFloat = 10.0
    max_requests: PositiveInt | None = None
    poll_s: PositiveFloat = 5.0


class ModelConfig(_Strict):
    """One ``models:`` entry. For ``provider: simulated``, ``model`` is the policy name and
    ``impersonates`` the real model it may stand for: its requests name that model, and the
    simulator enforces the model catalog's rules and defaults for it
    (``providers.simulator.impersonation``)."""

    id: str = Field(pattern=_SAFE_NAME, max_length=100)
    provider: ProviderName
    model: str = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: PositiveInt = 1024
    base_url: str | None = Field(None, pattern=_URL)
    api_key_env: str | None = Field(None, pattern=_ENV_NAME)
    api_format: ApiFormat = "openai"
    api: Literal["chat", "responses"] | None = None  # openai only; None = chat
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None  # openai chat only
    reasoning: list[ReasoningSetting] | None = Field(None, min_length=1)
    latency_ms: LatencyConfig | None = None
    faults: FaultConfig | None = None
    noise: NoiseConfig | None = None
    model_path: str | None = None
    local: LocalOptions | None = None
    price_per_mtok: PricePerMTok | None = None
    gate: str | None = Field(None, min_length=1)
    # (added) the Responses API's ``reasoning.summary``; unset: not sent (some accounts get a 400 for it)
    reasoning_summary: Literal["auto", "concise", "detailed"] | None = None
    batch: bool | BatchOptions = False
    impersonates: str | None = Field(None, min_length=1)  # simulated only: the real model it stands for
    # (added) send streaming requests and record each call's time to first token; how calls are
    # made, not what an episode is: it changes neither the config hash nor episode ids
    stream: bool = False

    # Where this model is written: (index in the file's models, index in its reasoning list or None).
    _entry: tuple[int, int | None] | None = PrivateAttr(None)

    @field_validator("reasoning", mode="before")
    @classmethod
    def _one_setting_is_a_list_of_one(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _fits_provider(self) -> ModelConfig:
        if self.provider == "simulated":
            if self.model not in POLICY_NAMES:
                raise _custom("policy", f"simulated model {self.model!r} is not a policy "
                              f"(one of: {', '.join(POLICY_NAMES)})", at="model")
            if self.noise is not None and self.model != "noisy":
                raise _custom("noise", "noise applies only to the noisy policy", at="noise")
        else:
            for key in _SIMULATED_ONLY:
                if getattr(self, key) is not None:
                    raise _custom("simulated_only", f"{key} applies only to simulated models "
                                  f"(this model's provider is {self.provider!r})", at=key)
            native: ApiFormat = "openai"
            if self.provider in ("anthropic", "google"):
                native = "anthropic" if self.provider == "anthropic" else "google"
            elif self.api == "responses":
                native = "openai_responses"
            if "api_format" in self.model_fields_set and self.api_format != native:
                raise _custom("api_format", f"api_format applies only to simulated models "
                              f"(provider {self.provider!r} speaks {native!r})", at="api_format")
            self.api_format = native
        for key in ("model_path", "local"):
            if getattr(self, key) is not None and self.provider != "local":
                raise _custom("local_only", f"{key} applies only to local models", at=key)
        if self.provider == "anthropic" and self.temperature is not None and self.temperature > 1:
            raise _custom("temperature", "anthropic accepts temperature from 0 to 1", at="temperature")
        if self.api is not None and self.provider != "openai":
            raise _custom("api", f"api (chat | responses) applies only to provider openai (this model's provider "
                          f"is {self.provider!r}{'; choose api_format' if self.provider == 'simulated' else ''})",
                          at="api")
        chat = (self.provider == "openai" and self.api != "responses") or (
            self.provider == "simulated" and self.api_format == "openai")
        if self.max_tokens_param is not None and not chat:
            raise _custom("max_tokens_param", "max_tokens_param applies only to OpenAI Chat Completions (provider "
                          "openai with api: chat, or simulated with api_format: openai)", at="max_tokens_param")
        if self.impersonates is not None and self.provider != "simulated":
            raise _custom("impersonates", "impersonates applies only to simulated models (this model's provider "
                          f"is {self.provider!r})", at="impersonates")
        if self.batch is not False and self.provider == "local":
            raise _custom("batch", "batch applies only to models of a provider with a batch API "
                          "(openai, anthropic, google, simulated)", at="batch")
        if self.stream and self.provider == "local":
            raise _custom("stream", "stream does not apply to local models (their calls run in-process, "
                          "with no stream to time)", at="stream")
        if self.stream and self.batch is not False:
            raise _custom("stream", "stream and batch exclude each other: a batch API does not stream its "
                          "replies", at="stream")
        if self.reasoning is not None:
            if self.provider == "local":
                raise _custom("reasoning", "reasoning does not apply to local models", at="reasoning")
            labels = [setting.label for setting in self.reasoning]
            repeated = sorted({label for label in labels if labels.count(label) > 1})
            if repeated:
                raise _custom("reasoning", f"listed more than once: {', '.join(repeated)}", at="reasoning")
        return self

    @model_validator(mode="after")
    def _summary_fits_api(self) -> ModelConfig:
        # after ``_fits_provider``, which settles ``api_format``
        if self.reasoning_summary is not None and self.api_format != "openai_responses":
            raise _custom("reasoning_summary", "reasoning_summary applies only to the Responses API "
                          "(provider openai with api: responses, or api_format: openai_responses)",
                          at="reasoning_summary")
        return self

    @property
    def thinking(self) -> Reasoning | None:
        """The reasoning setting requests carry; None without one. Only an expanded variant (one
        setting) has it: see the module docstring."""
        if self.reasoning is None:
            return None
        if len(self.reasoning) != 1:
            raise ValueError(f"model {self.id!r} lists {len(self.reasoning)} reasoning settings: expand it first")
        return self.reasoning[0].request()

    @property
    def reasoning_label(self) -> str | None:
        """The variant's reasoning level as recorded (effort or budget), None without reasoning."""
        return self.reasoning[0].label if self.reasoning and len(self.reasoning) == 1 else None

    def variants(self, index: int) -> list[ModelConfig]:
        """This model, one per reasoning setting (ids ``<id>@<label>``); itself when it has none.
        ``index`` is its place in the file, kept so later checks name the right lines."""
        if self._entry is not None:  # already placed (a variant, or validated before)
            return [self]
        if self.reasoning is None:
            self._entry = (index, None)
            return [self]
        expanded = []
        for j, setting in enumerate(self.reasoning):
            variant = self.model_copy(update={"id": f"{self.id}@{setting.label}", "reasoning": [setting]})
            variant._entry = (index, j)
            expanded.append(variant)
        return expanded

    @property
    def batch_options(self) -> BatchOptions | None:
        """How this model's calls are batched; None when they go online."""
        if self.batch is False:
            return None
        return BatchOptions() if self.batch is True else self.batch

    @property
    def gate_key(self) -> str:
        """The provider endpoint whose gate governs this model (see the module docstring)."""
        if self.gate:
            return self.gate
        return f"{self.provider}:{self.base_url}" if self.base_url else self.provider

    @property
    def key_env(self) -> str | None:
        """The environment variable holding this model's API key; None when it needs none (the
        simulator, a local model, an own ``base_url`` without ``api_key_env``)."""
        if self.api_key_env:
            return self.api_key_env
        if self.base_url or self.provider in ("simulated", "local"):
            return None
        return key_env_name(self.provider)


class AgentConfig(_Strict):
    max_steps: PositiveInt = 30


class RayConfig(_Strict):
    """``address``: None runs a local Ray; ``"auto"`` or ``ray://host:10001`` joins a cluster."""

    address: str | None = None
    runners: PositiveInt = 2
    # episodes at once per runner and endpoint; unset, sized from the endpoints (orchestrator.capacity)
    max_concurrency_per_runner: PositiveInt = 64


class SimulatorSettings(_Strict):
    """``simulator:``: the seed of its policies and faults; ``batch``: how its batch API behaves
    (``providers.simulator.config.BatchConfig``: processing time, failures, expiry); ``url``:
    a simulator already running (``python -m providers.simulator``) to use instead of starting one,
    one that outlives the sweep as a provider's API does (its profiles, seed and batch settings are
    its own command line's)."""

    seed: int = 0
    batch: BatchConfig = Field(default_factory=BatchConfig)
    url: str | None = Field(None, pattern=_URL)


CacheMode = Literal["off", "read", "write", "readwrite"]  # orchestrator.cache


class CacheSettings(_Strict):
    """``cache:``: the response cache (``orchestrator.cache``). ``read`` answers a request from the
    cache when it holds it, ``write`` stores every successful completion, ``readwrite`` both;
    ``path`` is the directory of its one file, owned by the driver."""

    mode: CacheMode = "off"
    path: Path = Path(".toolsweep-cache")


class BudgetSettings(_Strict):
    """``budget:``: US dollars the sweep may spend in all (``usd``) and per model id (``models``);
    the driver stops handing out episodes before the spent plus the in-flight episodes' expected
    cost would pass one (``orchestrator.budget``)."""

    usd: NonNegativeFloat | None = None
    models: dict[str, NonNegativeFloat] = Field(default_factory=dict)


class FailOn(_Strict):
    """``fail_on:``: when the sweep's end counts as a failure (``orchestrator.exit_codes.EXIT_FAILED_EPISODES``).
    ``failed_fraction``: more than this share of the planned episodes ended ``provider_failed`` or
    ``agent_error`` (their latest attempt)."""

    failed_fraction: float = Field(ge=0, le=1)


class SweepConfig(_Strict):
    """The whole sweep.yaml (README.md, "Sweeps", shows every key)."""

    name: str = Field(pattern=_SAFE_NAME, max_length=100)
    tasks: list[TaskSelection] = Field(min_length=1)
    seeds: list[NonNegativeInt] = [0]
    strategies: list[Strategy] = Field(["native"], min_length=1)
    models: list[ModelConfig] = Field(min_length=1)
    providers: dict[str, GateConfig] = Field(default_factory=dict)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    judge: str | None = None
    scoring: Scoring = DEFAULT_SCORING
    ray: RayConfig = Field(default_factory=RayConfig)
    output: Path = Path("runs")
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    fail_on: FailOn | None = None
    # (added) model catalog entries of the sweep's own, in models.yaml's shape: a model the shipped
    # catalog lacks, or one whose entry they replace (``providers.catalog.models``)
    catalog: list[dict[str, Any]] = Field(default_factory=list)

    # Where the config came from, so later checks can name file and line.
    _source: str | None = PrivateAttr(None)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)
    # The sweep's own tasks, with their source hashes: what the cross-checks resolved, attached by
    # the loader (``with_task_sources``).
    _task_sources: tuple[TaskSource, ...] = PrivateAttr(())

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_count(cls, value: Any) -> Any:
        # ``seeds: N`` means seeds 0..N-1.
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= MAX_SEEDS:
                raise ValueError(f"a seed count must be from 1 to {MAX_SEEDS:,}")
            return list(range(value))
        if not isinstance(value, list) or not value:
            raise ValueError("expected a seed count N or a non-empty list of integers")
        return value

    @field_validator("models")
    @classmethod
    def _expand_reasoning(cls, models: list[ModelConfig]) -> list[ModelConfig]:
        return [variant for i, model in enumerate(models) for variant in model.variants(i)]

    @field_validator("catalog")
    @classmethod
    def _catalog_entries(cls, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, entry in enumerate(entries):
            try:
                load_catalog([entry])
            except CatalogError as exc:
                raise _custom("catalog", str(exc), at=i) from None
        names = [entry["name"] for entry in entries]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _custom("catalog", f"{name} is listed more than once", at=i)
        return entries

    @model_validator(mode="after")
    def _room_for_thinking(self) -> SweepConfig:
        # a model that thinks and sets no max_tokens gets room for its thinking as well as its
        # answer (``providers.catalog.models.default_max_tokens``), not the answer's 1,024 tokens
        catalog = load_catalog(self.catalog)
        for model in self.models:
            if "max_tokens" not in model.model_fields_set:
                chosen = thinking_max_tokens(model, catalog)
                if chosen is not None:
                    model.max_tokens = chosen
        return self

    @field_validator("seeds", "strategies")
    @classmethod
    def _distinct(cls, value: list[Any]) -> list[Any]:
        repeated = sorted(v for v, n in Counter(value).items() if n > 1)
        if repeated:
            raise ValueError(f"listed more than once: {', '.join(map(str, repeated))}")
        return value

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the config start from: the sweep file's."""
        return Path(self._source).parent if self._source else Path.cwd()

    @property
    def task_sources(self) -> list[TaskSource]:
        """The sweep's own tasks as ``tasks.TaskSource`` values, hashes included (runners register
        them; the run directory records the hashes); empty until the loader attaches them."""
        return list(self._task_sources)

    def with_task_sources(self, sources: list[TaskSource]) -> SweepConfig:
        """This config with the sweep's own tasks attached, as the cross-checks resolved them."""
        config = self.model_copy()
        config._task_sources = tuple(sources)
        return config

    def model(self, model_id: str) -> ModelConfig:
        """The model with this id; KeyError when there is none."""
        for model in self.models:
            if model.id == model_id:
                return model
        raise KeyError(model_id)

    def gate_config(self, key: str) -> GateConfig:
        """The limits of the gate ``key``: its ``providers:`` entry, else the default."""
        if key in self.providers:
            return self.providers[key]
        return default_gate(key)

    def gates(self) -> dict[str, GateConfig]:
        """Every gate the models use, with its limits."""
        return {m.gate_key: self.gate_config(m.gate_key) for m in self.models}


def catalog_target(model: ModelConfig) -> tuple[str, str] | None:
    """The (model name, catalog API) a model is checked against in the model catalog: a real
    provider's model on its own endpoint, or the real model a simulated one impersonates (the
    simulator then enforces the same entry). None for a local model, a simulated one that
    impersonates none, and an own ``base_url`` (a server speaking the API serves its own models).
    The one place that decides which catalog entry governs a model."""
    if model.provider == "simulated":
        return (model.impersonates, model.api_format) if model.impersonates is not None else None
    if model.provider not in ("openai", "anthropic", "google") or model.base_url is not None:
        return None
    return model.model, model.api_format


def thinking_max_tokens(model: ModelConfig, catalog: Catalog) -> int | None:
    """The max_tokens of a model that thinks and sets none: its answer's room plus its thinking
    budget (or the catalog's room for thinking without one), at most its maximum output; None when
    it does not think (the schema's default stands)."""
    setting = model.reasoning[0] if model.reasoning and len(model.reasoning) == 1 else None
    effort = setting.effort if setting else None
    budget = setting.budget_tokens if setting else None
    target = catalog_target(model)
    facts = catalog.lookup(*target) if target is not None else None
    if facts is not None:
        thinking = reasoning_on(facts, effort, budget)
    else:
        thinking = setting is not None and effort != "none" and budget != 0
    if not thinking:
        return None
    return default_max_tokens(facts, budget, thinking=True)
