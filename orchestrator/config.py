"""The sweep config (sweep.yaml): its schema, loading with line numbers, and the cross-checks.

Every user mistake becomes a ``ConfigError`` with one line, ``<file>:<line>: <field>: <problem>``,
so the CLI can print it as it is. Unknown keys are errors at every level.

Gates: each model is governed by the gate of one provider *endpoint* (rate limits, retries,
breaker; ``providers.gate.config.GateConfig``). A model's gate key is its ``gate`` when set;
otherwise its provider name, except that a model with its own ``base_url`` (an OpenAI-compatible
server) is a different endpoint and defaults to ``"<provider>:<base_url>"``. The ``providers:``
mapping gives a gate's limits by key; a key it does not list gets ``DEFAULT_GATES[key]`` when the
key is a provider name, else ``GateConfig()``.

Reasoning variants: a model whose ``reasoning`` lists settings is expanded when the config is
loaded into one model per setting, with ids ``<id>@<effort>`` or ``<id>@<budget_tokens>`` (a single
mapping is a list of one), so the plan, the runners, the records and the reports see ordinary
models. A variant keeps its base model's gate, key and price.
"""

from __future__ import annotations

import hashlib
import json
import os
import types
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from providers.gate.config import GateConfig
from providers.keys import MissingApiKey, key_env_name, looks_like_key, mask_keys, resolve_api_key
from providers.registry import PROVIDER_NAMES, ApiFormat, ProviderName
from providers.simulator.config import POLICY_NAMES, FaultConfig, LatencyConfig, NoiseConfig
from providers.types import Reasoning

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
Scoring = Literal["toolsweep", "paper"]  # tasks.variants.SCORING_PROFILES
DEFAULT_DATASET = "toolsweep"  # tasks.variants.DEFAULT_DATASET
Strategy = Literal["native", "text"]
Loc = tuple[str | int, ...]

# What each API's reasoning setting takes, from the SDKs' types (openai ReasoningEffort, anthropic
# OutputConfig.effort and ThinkingConfigEnabled, google-genai ThinkingLevel). OpenAI expresses
# reasoning as an effort only; Anthropic's thinking budget starts at 1024 tokens; Gemini takes a
# budget or (Gemini 3) a thinking level.
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
DEFAULT_TEMPERATURE_ONLY = {"openai": _OPENAI_TEMPERATURE, "openai_responses": _OPENAI_TEMPERATURE,
                            "anthropic": "Anthropic requires temperature 1 with thinking"}

# Limits for gates the config does not list. Real APIs get conservative first-tier rates; the
# simulator and self-hosted endpoints rely on adaptive concurrency; a local model runs one at a time.
DEFAULT_GATES: dict[str, GateConfig] = {
    "simulated": GateConfig(),
    "openai": GateConfig(rpm=500),
    "anthropic": GateConfig(rpm=50),
    "google": GateConfig(rpm=60),  # below the lowest paid tier's per-minute limit of the Pro models
    "local": GateConfig(max_in_flight=1, timeout_s=300),
}

_SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_URL = r"^https?://\S+$"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_PATTERN_HINTS = {
    _SAFE_NAME: "use only letters, digits, '.', '_' and '-', starting with a letter or digit",
    _URL: "must be an http:// or https:// URL",
    _ENV_NAME: "must be the name of an environment variable (not its value)",
}
_SIMULATED_ONLY = ("latency_ms", "faults", "noise")


class ConfigError(ValueError):
    """A user mistake in the sweep config or the run directory; the message is one line, and any
    key-shaped text in it is masked (a key pasted into the config must not reach a terminal or a
    CI log)."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_keys(message))


def _shown(value: Any, limit: int = 80) -> str:
    """A value as an error message quotes it: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _custom(kind: str, message: str, at: str | None = None) -> PydanticCustomError:
    # ``at`` names the offending key below the model being validated, for the line number.
    return PydanticCustomError(kind, message, {"at": at} if at else None)


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
    answers: Literal["short", "number", "state"] = "short"
    instructions: str | None = Field(None, min_length=1)
    start_timeout_s: float = Field(20.0, gt=0, le=600)
    call_timeout_s: float = Field(30.0, gt=0, le=3600)
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
    budget_tokens: PositiveInt | None = None

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


class ModelConfig(_Strict):
    """One ``models:`` entry. For ``provider: simulated``, ``model`` is the policy name."""

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
        if self.max_tokens_param is not None and (self.provider != "openai" or self.api == "responses"):
            raise _custom("max_tokens_param", "max_tokens_param applies only to provider openai with api: chat",
                          at="max_tokens_param")
        if self.reasoning is not None:
            if self.provider == "local":
                raise _custom("reasoning", "reasoning does not apply to local models", at="reasoning")
            labels = [setting.label for setting in self.reasoning]
            repeated = sorted({label for label in labels if labels.count(label) > 1})
            if repeated:
                raise _custom("reasoning", f"listed more than once: {', '.join(repeated)}", at="reasoning")
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
    seed: int = 0


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
    scoring: Scoring = "toolsweep"
    ray: RayConfig = Field(default_factory=RayConfig)
    output: Path = Path("runs")
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)

    # Where the config came from, so later checks can name file and line.
    _source: str | None = PrivateAttr(None)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)
    # The sweep's own tasks (tasks.TaskSource, with their source hashes), set by the cross-checks.
    _task_sources: list[Any] = PrivateAttr(default_factory=list)

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
    def task_sources(self) -> list[Any]:
        """The sweep's own tasks as ``tasks.TaskSource`` values, hashes included (runners register
        them; the run directory records the hashes)."""
        return list(self._task_sources)

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
        return DEFAULT_GATES.get(key, GateConfig())

    def gates(self) -> dict[str, GateConfig]:
        """Every gate the models use, with its limits."""
        return {m.gate_key: self.gate_config(m.gate_key) for m in self.models}


def config_hash(config: SweepConfig) -> str:
    """A stable hash of what decides the plan and the results (not ``output`` nor ``ray``; nor
    ``cache``, whose answers are the ones the provider gave, nor ``budget``, which a run resumes
    with a larger one of)."""
    data = config.model_dump(mode="json", exclude={"output", "ray", "cache", "budget"})
    # keys added since the first schema hash as if absent while at their defaults, so a run made
    # before they existed still resumes
    _drop_defaults(data, {"scoring": "toolsweep"})
    for selection in data["tasks"]:
        _drop_defaults(selection, {"dataset": DEFAULT_DATASET, "module": None, "path": None, "mcp": None})
    for model in data["models"]:
        _drop_defaults(model, {"api": None, "max_tokens_param": None, "reasoning": None})
        if model["price_per_mtok"]:
            _drop_defaults(model["price_per_mtok"], {"cached_input": None})
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _drop_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, default in defaults.items():
        if key in data and data[key] == default:
            del data[key]


# ---------------------------------------------------------------- loading with line numbers


def load_config(path: str | os.PathLike[str], *, check_keys: bool = True) -> SweepConfig:
    """Read, validate and cross-check a sweep.yaml; any problem raises a one-line ConfigError."""
    source = str(path)
    data, lines = _read_yaml(Path(path), source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise ConfigError(f"{source}: the top level must be a mapping of keys (name, tasks, models, …), got {kind}")
    try:
        config = SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation(exc, source, lines)) from None
    config._source, config._lines = source, lines
    validate_semantics(config, check_keys=check_keys)
    return config


# Bounds on what a config file may make the loader do. A sweep config is a few kilobytes; these
# leave room for long explicit seed and example lists while keeping a hostile file (an alias
# bomb, a megabyte-long list) to well under a second of work before it is refused.
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_NODES = 100_000  # with every alias expanded: what validation would walk
MAX_INT_DIGITS = 100
_CORE = "tag:yaml.org,2002:"
# Plain data only: the JSON-like core types, merge keys, and timestamps (YAML reads an unquoted
# date as one; the schema then names the field). Anything else (!!binary, !!set, !!python/…,
# local !tags) has no meaning in a sweep config.
_ALLOWED_TAGS = frozenset(_CORE + kind for kind in
                          ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp"))
# libyaml when PyYAML was built with it: the pure-Python parser takes seconds over a few hundred
# kilobytes. libyaml also bounds nesting (1,000 levels) without recursing.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, source: str) -> tuple[Any, dict[Loc, int]]:
    if path.is_dir():
        raise ConfigError(f"{source}: is a directory, not a sweep config file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)  # bounded: /dev/zero or a huge file is not read whole
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_CONFIG_BYTES // 1024} KiB; a sweep config is a few kilobytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    loader = None
    try:
        loader = _Loader(text)  # checks the characters: inside the try
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{source}: the file is empty")
        _check_shape(node, source)
        lines: dict[Loc, int] = {}
        _record_lines(node, (), lines, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        column = f" (column {mark.column + 1})" if mark else ""
        # e.g. an unclosed bracket is found lines later: also say where it opened
        opened = exc.context_mark
        started = (f", {exc.context} started at line {opened.line + 1}"
                   if exc.problem and exc.context and opened and mark and opened.line != mark.line else "")
        raise ConfigError(f"{where}: YAML syntax error: {problem}{column}{started}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_shape(root: yaml.Node, source: str) -> None:
    """Refuse, before anything walks the document as a tree, what would make that walk hostile:
    an alias that contains itself (the tree is infinite), more than ``MAX_CONFIG_NODES`` nodes
    once aliases are expanded (an alias bomb: nine levels of nine aliases is 9**9 nodes from
    ninety lines), tags outside plain data, and integers too long to convert.

    The expanded size is counted once per node of the graph (depth-first, iteratively, with the
    size of each shared node remembered), so this takes time linear in the file, not in the tree.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()  # the nodes whose subtree is being counted: meeting one again is a cycle
    # (node, None) on the way down; (node, its children) once they are on the stack above it
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        key = id(node)
        if children is not None:
            on_path.discard(key)
            size = sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_CONFIG_NODES:
                raise _too_many(source, node)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: an alias refers to a node that contains it "
                              "(the value would be infinite)")
        if node.tag not in _ALLOWED_TAGS:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: YAML tag {node.tag.replace(_CORE, '!!')} "
                              "is not allowed in a sweep config (plain values, lists and mappings only)")
        if node.tag == _CORE + "int" and len(node.value) > MAX_INT_DIGITS:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: an integer of {len(node.value):,} "
                              "characters is too long")
        children = _children(node)
        if len(children) > MAX_CONFIG_NODES:  # a flat list that long is refused before it is walked
            raise _too_many(source, node)
        on_path.add(key)
        stack.append((node, children))
        stack.extend((child, None) for child in children if id(child) not in sizes)


def _too_many(source: str, node: yaml.Node) -> ConfigError:
    return ConfigError(f"{source}:{node.start_mark.line + 1}: more than {MAX_CONFIG_NODES:,} values once its "
                       "aliases are expanded; a sweep config is far smaller")


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], source: str) -> None:
    """Map each key path to its line (1-based); YAML would silently keep the last of two equal keys,
    so a repeated key is an error here. Walks the expanded tree: call it after ``_check_shape``."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: "
                                  f"{format_loc(loc) or 'top level'}: a key must be a plain name, not a list or mapping")
            key = key_node.value
            if (*loc, key) in lines:
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: "
                                  f"{format_loc((*loc, key))}: key appears twice")
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*loc, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*loc, index), lines, source)


def format_loc(loc: Loc) -> str:
    """``("models", 1, "faults")`` → ``models[1].faults``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of ``loc`` the file spells out (the root itself has none)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _as_written(loc: Loc, lines: dict[Loc, int]) -> Loc:
    """``loc`` as the file spells it: a key that takes one mapping or a list of them (``reasoning``)
    is validated as a list, so drop the ``[0]`` the file does not have."""
    for k, part in enumerate(loc):
        if isinstance(part, int) and loc[:k] in lines and loc[:k + 1] not in lines:
            return (*loc[:k], *loc[k + 1:])
    return loc


def _where(source: str | None, lines: dict[Loc, int], loc: Loc) -> str:
    line = _line_of(lines, loc)
    source = source or "<config>"
    return f"{source}:{line}" if line else source


def _describe_validation(exc: ValidationError, source: str, lines: dict[Loc, int]) -> str:
    issues = []
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        at = (error.get("ctx") or {}).get("at")
        if at:
            loc = (*loc, at)
        loc = _as_written(loc, lines)
        issues.append((loc, _problem(error, loc)))
    # The first in file order is the one to fix first.
    issues.sort(key=lambda issue: _line_of(lines, issue[0]) or 0)
    loc, problem = issues[0]
    more = f" (and {len(issues) - 1} more problem{'s' if len(issues) > 2 else ''})" if len(issues) > 1 else ""
    return f"{_where(source, lines, loc)}: {format_loc(loc) or 'top level'}: {problem}{more}"


def _problem(error: Mapping[str, Any], loc: Loc) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] in _PATTERN_HINTS:
        return f"{_PATTERN_HINTS[error['ctx']['pattern']]}, got {_shown(error['input'])}"
    message = message.removeprefix("Value error, ")
    if kind == "literal_error" or kind.endswith("_type"):
        message += f", got {_shown(error['input'])}"
    return message


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model found at ``loc`` in SweepConfig, for 'unknown key' messages."""
    annotation: Any = SweepConfig
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            field = annotation.model_fields.get(part)
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:  # a key that takes one mapping or a list of them
        annotation = _unwrap(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(members[0]) if len(members) == 1 else annotation
    return annotation


# ---------------------------------------------------------------- cross-checks


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


def validate_semantics(config: SweepConfig, *, check_keys: bool = True) -> None:
    """What the schema cannot see: names that must exist (tasks, example ids, the judge, gate
    keys, local model files), repeats, and API keys in the environment (``check_keys``)."""
    for loc, problem in _semantic_issues(config, check_keys=check_keys):
        raise ConfigError(located(config, loc, problem))


def located(config: SweepConfig, loc: Loc, problem: str) -> str:
    """``<file>:<line>: <field>: <problem>`` for a problem found in a loaded config, key-shaped
    text masked: the one shape of every config message, warnings included."""
    return mask_keys(f"{_where(config._source, config._lines, loc)}: {format_loc(loc)}: {problem}")


_API_NAMES = {"openai": "OpenAI Chat Completions", "openai_responses": "the OpenAI Responses API",
              "anthropic": "Anthropic", "google": "Gemini"}


def _reasoning_issues(model: ModelConfig, setting: ReasoningSetting, at: Loc, entry: Loc) -> Iterator[tuple[Loc, str]]:
    """A reasoning variant's ``setting`` (written at ``entry``; the model at ``at``) against what
    its API accepts.

    A simulated model follows the real API of its ``api_format``, so the same config works on the
    simulator and on the provider; an OpenAI-compatible server (``base_url``) keeps its own sampling
    rules. (There is no tool_choice setting: every request lets the model choose, which thinking
    requires.)"""
    fmt = model.api_format
    api = _API_NAMES[fmt] + (f" (api_format {fmt})" if model.provider == "simulated" else "")
    if setting.effort is not None and setting.effort not in EFFORTS[fmt]:
        yield (*entry, "effort"), (f"{api} does not take effort {setting.effort!r} "
                                   f"(it takes: {', '.join(EFFORTS[fmt])})")
    budget = setting.budget_tokens
    if budget is not None:
        if fmt not in MIN_BUDGET_TOKENS:
            yield (*entry, "budget_tokens"), f"{api} takes a reasoning effort, not a token budget: use effort"
        elif budget < MIN_BUDGET_TOKENS[fmt]:
            yield (*entry, "budget_tokens"), f"{api} needs a thinking budget of at least {MIN_BUDGET_TOKENS[fmt]} tokens"
        elif budget >= model.max_tokens:
            yield (*entry, "budget_tokens"), (f"budget_tokens ({budget}) must be below max_tokens ({model.max_tokens}): "
                                              "thinking counts towards the reply's tokens")
    own_rules = model.base_url is None or fmt == "anthropic"
    if fmt in DEFAULT_TEMPERATURE_ONLY and own_rules and model.temperature is not None and model.temperature != 1:
        yield (*at, "temperature"), (f"temperature {model.temperature:g} with reasoning: "
                                     f"{DEFAULT_TEMPERATURE_ONLY[fmt]} (remove temperature)")
    if model.max_tokens_param == "max_tokens" and model.base_url is None:
        yield (*at, "max_tokens_param"), ("OpenAI reasoning models reject max_tokens: "
                                          "use max_completion_tokens (the default on OpenAI's endpoint)")


def _installed_task_names() -> list[str]:
    """Task names installed packages register (the entry-point group of ``tasks.plugins``)."""
    from importlib import metadata

    return sorted({ep.name for ep in metadata.entry_points(group="toolsweep.tasks")})


def _load_own_task(config: SweepConfig, selection: TaskSelection) -> str | None:
    """Load, register and check a task the sweep brings (``tasks.plugins``); the problem, or None."""
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
    config._task_sources.append(source)
    return None


def _semantic_issues(config: SweepConfig, *, check_keys: bool) -> Iterator[tuple[Loc, str]]:
    import tasks  # the task registry; imported here so the schema loads without the datasets

    # First: a key pasted into the config would otherwise travel on into run directory names,
    # Arrow columns and requests.
    for loc, text in _strings(config.model_dump(mode="json", exclude_defaults=True), ()):
        if looks_like_key(text):
            yield loc, (f"looks like an API key ({mask_keys(text)}); keys are read from the environment "
                        "only: put it in a variable and name that in api_key_env")

    seen_tasks: set[str] = set()
    config._task_sources = []
    for i, selection in enumerate(config.tasks):
        if selection.plugin and selection.name in tasks.TASK_NAMES:
            yield ("tasks", i, "name"), f"{selection.name!r} is a built-in task; give your own task another name"
            continue
        if not selection.plugin and selection.name not in tasks.TASK_NAMES:
            installed = _installed_task_names()
            if selection.name not in installed:
                names = ", ".join([*tasks.TASK_NAMES, *installed])
                yield ("tasks", i, "name"), (f"unknown task {selection.name!r} (known: {names}); "
                                             "a task of your own takes module, path or mcp")
                continue
        if selection.name in seen_tasks:
            yield ("tasks", i), f"task {selection.name!r} is listed twice"
            continue
        seen_tasks.add(selection.name)
        if selection.name not in tasks.TASK_NAMES:
            problem = _load_own_task(config, selection)
            if problem is not None:
                key = next((k for k in ("module", "path", "mcp") if getattr(selection, k) is not None), "name")
                yield ("tasks", i, key), problem
                continue
            mcp = selection.mcp
            if mcp is not None and mcp.url is not None and mcp.reset is not None and config.ray.runners > 1:
                yield ("tasks", i, "mcp", "reset"), (f"a shared server reset per episode serves one runner at a time: "
                                                     f"set ray.runners to 1 (it is {config.ray.runners}), or use command")
        datasets = tasks.dataset_names(selection.name)
        if selection.dataset not in datasets:
            yield ("tasks", i, "dataset"), (f"task {selection.name!r} has no dataset {selection.dataset!r} "
                                            f"(its datasets: {', '.join(datasets)})")
            continue
        if selection.examples:
            known = {example.id for example in tasks.get_task(selection.name, selection.dataset).examples}
            for j, example_id in enumerate(selection.examples):
                if example_id not in known:
                    on = "" if selection.dataset == DEFAULT_DATASET else f" ({selection.dataset} dataset)"
                    yield ("tasks", i, "examples", j), f"task {selection.name!r}{on} has no example {example_id!r}"

    ids: set[str] = set()
    for position, model in enumerate(config.models):
        i, setting_index = model._entry or (position, None)
        if setting_index is not None and model.reasoning:  # a variant: its one setting
            for loc, problem in _reasoning_issues(model, model.reasoning[0], ("models", i),
                                                  ("models", i, "reasoning", setting_index)):
                yield _as_written(loc, config._lines), problem
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

    if config.judge is not None and config.judge not in ids:
        yield ("judge",), f"judge {config.judge!r} is not a model id (models: {', '.join(sorted(ids))})"
    elif config.judge is not None:
        # every runner judges its own episodes, so each needs a share of the judge's endpoint
        gate = config.gate_config(next(m.gate_key for m in config.models if m.id == config.judge))
        if gate.serving(config.ray.runners) < config.ray.runners:
            yield ("judge",), (f"judge {config.judge!r}: its endpoint's max_in_flight ({gate.max_in_flight}) is below "
                               f"ray.runners ({config.ray.runners}); every runner needs a share of it")

    unpriced = [m.id for m in config.models if m.price_per_mtok is None]
    if config.budget.usd is not None and unpriced:
        yield ("budget", "usd"), (f"model {unpriced[0]!r} has no price_per_mtok: a budget needs the price of every "
                                  "model it covers")
    for model_id in config.budget.models:
        if model_id not in ids:
            yield ("budget", "models", model_id), (f"{model_id!r} is not a model id "
                                                   f"(models: {', '.join(sorted(ids))})")
        elif model_id in unpriced:
            yield ("budget", "models", model_id), f"model {model_id!r} has no price_per_mtok: its budget needs one"

    used = {model.gate_key for model in config.models}
    for key in config.providers:
        if key not in used and key not in PROVIDER_NAMES:
            yield ("providers", key), (f"no model uses gate {key!r} (gates in use: {', '.join(sorted(used))})")
