"""Rows of the run directory's Arrow tables, and the Arrow schemas built beside them.

Three tables, each a directory of Arrow IPC part files (``runs/<name>/<table>/*.arrow``):

- ``episodes``: one row per finished episode (whatever its status).
- ``calls``: one row per HTTP attempt, retries included.
- ``events``: gate state changes (breaker transitions, adaptive-concurrency limit changes).

``analysis/`` depends only on these column names and types, never on this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pyarrow as pa

SCHEMA_VERSION = "1"

EpisodeStatus = Literal["completed", "max_steps", "provider_failed", "refused", "agent_error"]
EPISODE_STATUSES: tuple[str, ...] = ("completed", "max_steps", "provider_failed", "refused", "agent_error")
# the statuses whose answer and trajectory are scored (the others never reached an answer)
SCORED_STATUSES: tuple[str, ...] = ("completed", "max_steps")
CALL_OUTCOMES: tuple[str, ...] = (
    "ok", "http_5xx", "http_429", "timeout", "connection", "refusal", "bad_request", "auth", "malformed",
)


@dataclass
class ToolCallRow:
    name: str
    arguments: str  # JSON text as the model sent it
    result: str | None
    error: str | None


@dataclass
class EpisodeRow:
    run: str
    episode_id: str  # stable hash of (model_id, task, example_id, seed, strategy)
    model_id: str  # the sweep's name for the model
    provider: str  # provider name (simulated, openai, anthropic, local, …)
    model: str  # the provider's model string
    task: str
    example_id: str
    seed: int
    strategy: str  # native | text
    status: EpisodeStatus
    answer: str | None  # the model's final text answer
    correct: bool | None  # deterministic answer match; None when the episode did not complete
    judge_correct: bool | None  # LLM judge verdict when a judge is configured
    state_correct: bool | None  # None where the task has no state
    steps_match: bool | None
    step_ratio: float | None  # tool calls made / tool calls expected
    n_steps: int  # tool calls made
    expected_steps: int  # tool calls expected (length of the example's expected sequence)
    tool_calls: list[ToolCallRow]
    n_attempts: int  # HTTP attempts over the whole episode
    n_retries: int  # attempts beyond the first of each model call
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    started_at: float  # unix seconds
    duration_s: float
    error_class: str | None  # exception class for provider_failed / refused / agent_error
    error_message: str | None
    node_id: str | None = None  # Ray node that ran the episode
    difficulty: int | None = None  # the example's difficulty (expected tool calls unless the task says otherwise)
    reasoning_tokens: int = 0  # thinking tokens over the episode's attempts, as reported (part of output_tokens)
    cached_input_tokens: int = 0  # input tokens served from the provider's prompt cache (part of input_tokens)
    request_params: str | None = None  # JSON: sampling and reasoning parameters of the first request, as sent
    truncated: bool = False  # the answer was cut by a token limit: recorded, never scored correct
    reasoning: str | None = None  # the model variant's reasoning effort or budget; None without reasoning
    dataset: str | None = None  # the task's dataset: toolsweep | paper | paper-tiny (None in older runs)
    scoring: str | None = None  # the scoring profile: toolsweep | paper (None in older runs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CallRow:
    run: str
    episode_id: str
    provider: str
    model_id: str
    step: int  # model call index within the episode, 0-based
    attempt: int  # 1-based attempt of that call
    outcome: str  # one of CALL_OUTCOMES
    http_status: int | None
    retry_after_s: float | None
    latency_s: float
    breaker_state: str  # closed | open | half_open when the attempt started
    input_tokens: int
    output_tokens: int
    started_at: float
    error_message: str | None = None
    reasoning_tokens: int = 0  # part of output_tokens
    cached_input_tokens: int = 0  # part of input_tokens

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EventRow:
    run: str
    provider: str
    runner: str  # which runner's gate saw it
    kind: str  # "breaker" | "concurrency"
    at: float  # unix seconds
    from_state: str | None = None  # breaker: previous state
    to_state: str | None = None  # breaker: new state
    value: float | None = None  # concurrency: the new limit
    detail: str | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_TOOL_CALL = pa.struct([
    ("name", pa.string()), ("arguments", pa.string()), ("result", pa.string()), ("error", pa.string()),
])

_META = {b"toolsweep.schema_version": SCHEMA_VERSION.encode()}

EPISODES_SCHEMA = pa.schema([
    ("run", pa.string()), ("episode_id", pa.string()), ("model_id", pa.string()),
    ("provider", pa.string()), ("model", pa.string()), ("task", pa.string()),
    ("example_id", pa.string()), ("seed", pa.int64()), ("strategy", pa.string()),
    ("status", pa.string()), ("answer", pa.string()), ("correct", pa.bool_()),
    ("judge_correct", pa.bool_()), ("state_correct", pa.bool_()), ("steps_match", pa.bool_()),
    ("step_ratio", pa.float64()), ("n_steps", pa.int64()), ("expected_steps", pa.int64()),
    ("tool_calls", pa.list_(_TOOL_CALL)), ("n_attempts", pa.int64()), ("n_retries", pa.int64()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("cost_usd", pa.float64()),
    ("started_at", pa.float64()), ("duration_s", pa.float64()), ("error_class", pa.string()),
    ("error_message", pa.string()), ("node_id", pa.string()), ("difficulty", pa.int64()),
    ("reasoning_tokens", pa.int64()), ("cached_input_tokens", pa.int64()), ("request_params", pa.string()),
    ("truncated", pa.bool_()), ("reasoning", pa.string()),
    ("dataset", pa.string()), ("scoring", pa.string()),
], metadata=_META)

CALLS_SCHEMA = pa.schema([
    ("run", pa.string()), ("episode_id", pa.string()), ("provider", pa.string()),
    ("model_id", pa.string()), ("step", pa.int64()), ("attempt", pa.int64()),
    ("outcome", pa.string()), ("http_status", pa.int64()), ("retry_after_s", pa.float64()),
    ("latency_s", pa.float64()), ("breaker_state", pa.string()), ("input_tokens", pa.int64()),
    ("output_tokens", pa.int64()), ("started_at", pa.float64()), ("error_message", pa.string()),
    ("reasoning_tokens", pa.int64()), ("cached_input_tokens", pa.int64()),
], metadata=_META)

EVENTS_SCHEMA = pa.schema([
    ("run", pa.string()), ("provider", pa.string()), ("runner", pa.string()), ("kind", pa.string()),
    ("at", pa.float64()), ("from_state", pa.string()), ("to_state", pa.string()),
    ("value", pa.float64()), ("detail", pa.string()),
], metadata=_META)

SCHEMAS: dict[str, pa.Schema] = {"episodes": EPISODES_SCHEMA, "calls": CALLS_SCHEMA, "events": EVENTS_SCHEMA}


def to_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Build an Arrow table of one of the three kinds from row dicts (``Row.to_dict()``)."""
    return pa.Table.from_pylist(rows, schema=SCHEMAS[table])
