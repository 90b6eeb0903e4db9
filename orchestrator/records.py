"""Rows of the run directory's Arrow tables, and the Arrow schemas built from them.

Four tables, each a directory of Arrow IPC part files (``runs/<name>/<table>/*.arrow``):

- ``episodes``: one row per finished episode (whatever its status).
- ``calls``: one row per HTTP attempt, retries included (and one per call served from the
  response cache, outcome ``cached``).
- ``events``: gate state changes (breaker transitions, adaptive-concurrency limit changes).
- ``transcripts``: one row per episode, its whole conversation (``orchestrator.transcripts``);
  zstd-compressed, and a part counts only once the episodes part of the same flush exists.

Each row dataclass is the one definition of its table: the Arrow schema is derived from its fields
(``schema_of``: the Python type of each field gives the Arrow type, through ``_ARROW_TYPES``), and
each field's ``doc`` is stored in the schema as the column's ``doc`` metadata, so the files describe
themselves. Adding a column is one line here. ``analysis/`` depends only on the column names,
types and values in the files, never on this module (a test compares its lists with these).
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import asdict, dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pyarrow as pa

from providers.types import OUTCOMES, BreakerState, Outcome
from tasks.environment import TOOL_CALL_KINDS, ToolCallKind

SCHEMA_VERSION = "1"

EpisodeStatus = Literal["completed", "max_steps", "provider_failed", "refused", "agent_error"]
EPISODE_STATUSES: tuple[EpisodeStatus, ...] = get_args(EpisodeStatus)
# the statuses whose answer and trajectory are scored (the others never reached an answer)
ScoredStatus = Literal["completed", "max_steps"]
SCORED_STATUSES: tuple[ScoredStatus, ...] = get_args(ScoredStatus)
# the statuses ``sweep --retry-errors`` runs again: the provider or the harness failed, so the episode says
# nothing about the model. ``refused`` is not one: a refusal is the model's (or its provider's safety
# filter's) behaviour, measured like any other answer.
RetryableStatus = Literal["provider_failed", "agent_error"]
RETRYABLE_STATUSES: tuple[RetryableStatus, ...] = get_args(RetryableStatus)
CALL_OUTCOMES: tuple[Outcome, ...] = OUTCOMES  # defined with the errors that carry them
EventKind = Literal["breaker", "concurrency"]


def column(doc: str, **options: Any) -> Any:
    """A row field with its documentation (``options`` as for ``dataclasses.field``: ``default``)."""
    return dataclasses.field(metadata={"doc": doc}, **options)


@dataclass
class ToolCallRow:
    name: str = column("the tool's name")
    arguments: str = column("the arguments as JSON text, as the model sent them")
    result: str | None = column("what the tool returned, as text")
    error: str | None = column("why the call failed (unknown tool, bad arguments, the tool raised)")
    kind: ToolCallKind | None = column("what the call came to: " + " | ".join(TOOL_CALL_KINDS) + " (null in runs "
                                       "written before it was recorded)", default=None)


@dataclass
class EpisodeRow:
    run: str = column("the run directory's name")
    episode_id: str = column("stable hash of (model_id, task, example_id, seed, strategy)")
    model_id: str = column("the sweep's name for the model")
    provider: str = column("provider name (simulated, openai, anthropic, local, …)")
    model: str = column("the provider's model string")
    task: str = column("task name")
    example_id: str = column("the example's id within its task")
    seed: int = column("the sweep seed of this episode")
    strategy: str = column("native (tool calling) | text (tools described in the prompt)")
    status: EpisodeStatus = column("how the episode ended: " + " | ".join(EPISODE_STATUSES))
    answer: str | None = column("the model's final text answer")
    correct: bool | None = column("deterministic answer match; None when the episode did not complete")
    judge_correct: bool | None = column("LLM judge verdict when a judge is configured")
    state_correct: bool | None = column("final environment state matches; None where the task has no state")
    steps_match: bool | None = column("tool-call sequence equals the expected one")
    step_ratio: float | None = column("tool calls made / tool calls expected")
    n_steps: int = column("tool calls made")
    expected_steps: int = column("tool calls expected (length of the example's expected sequence)")
    tool_calls: list[ToolCallRow] = column("every tool call, in order")
    n_attempts: int = column("HTTP attempts over the whole episode (calls answered by the cache excluded)")
    n_retries: int = column("attempts beyond the first of each model call")
    input_tokens: int = column("input tokens over every attempt")
    output_tokens: int = column("output tokens over every attempt")
    cost_usd: float | None = column("from the model's price_per_mtok; None without a price")
    started_at: float = column("unix seconds")
    duration_s: float = column("wall time of the episode, from its environment's start (queued_s excluded)")
    error_class: str | None = column("exception class for provider_failed / refused / agent_error")
    error_message: str | None = column("its message, cut to 500 characters")
    node_id: str | None = column("Ray node that ran the episode", default=None)
    difficulty: int | None = column("the example's difficulty (expected tool calls unless the task says "
                                    "otherwise)", default=None)
    reasoning_tokens: int = column("thinking tokens over the episode's attempts, as reported (part of "
                                   "output_tokens)", default=0)
    cached_input_tokens: int = column("input tokens served from the provider's prompt cache (part of "
                                      "input_tokens)", default=0)
    request_params: str | None = column("JSON: sampling and reasoning parameters of the first request, as sent",
                                        default=None)
    truncated: bool = column("the answer was cut by a token limit: recorded, never scored correct",
                             default=False)
    reasoning: str | None = column("the model variant's reasoning effort or budget; None without reasoning",
                                   default=None)
    dataset: str | None = column("the task's dataset: toolsweep | paper | paper-tiny (None in older runs)",
                                 default=None)
    scoring: str | None = column("the scoring profile: toolsweep | paper (None in older runs)", default=None)
    cached_calls: int = column("model calls answered by the response cache (no HTTP attempt; not in "
                               "n_attempts; their tokens are in the token counts and cost_usd)", default=0)
    served_model: str | None = column("the model the replies say served them (OpenAI/Anthropic ``model``, Gemini "
                                      "``modelVersion``): the last one named; None when no reply named one",
                                      default=None)
    attempt: int = column("1 for the episode's first run, one more for each run of sweep --retry-errors; an "
                          "episode's row with the highest attempt supersedes the others (kept, never deleted)",
                          default=1)
    judge_error: str | None = column("why the judge gave no verdict (its call failed, or its reply held "
                                     "none); None when it gave one or there is no judge", default=None)
    queued_s: float = column("seconds the episode waited for its environment (an MCP session slot or a server "
                             "start's turn) before its work began; not part of duration_s", default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TranscriptToolCall:
    id: str = column("the call's id, as the provider gave it")
    name: str = column("the tool's name")
    arguments: str = column("the arguments as JSON text (the raw text when it did not parse)")
    error: str | None = column("why the arguments did not parse; None when they did")


@dataclass
class MessageRow:
    role: str = column("system | user | assistant | tool")
    content: str = column("the text of the turn (a tool turn: what the tool returned)")
    tool_calls: list[TranscriptToolCall] = column("assistant: the tool calls it made, in order")
    tool_call_id: str | None = column("tool: the call this result answers")
    name: str | None = column("tool: the tool's name")
    reasoning: str | None = column("assistant: the reasoning summary the API returned, if any")
    replay: str | None = column("assistant: JSON list of the turn as the provider returned it (reasoning items, "
                                "thinking blocks and signatures), sent back verbatim; None when empty")
    tool_error: bool = column("tool: the call failed and its content is the error", default=False)


@dataclass
class TranscriptRow:
    run: str = column("the run directory's name")
    episode_id: str = column("the episode this conversation belongs to (joins episodes.episode_id)")
    model_id: str = column("the sweep's name for the model")
    messages: list[MessageRow] = column("every turn in order: system, user, then assistant and tool turns")
    attempt: int = column("the episode row's attempt this conversation belongs to (episodes.attempt)", default=1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CallRow:
    run: str = column("the run directory's name")
    episode_id: str = column("the episode this attempt belongs to")
    provider: str = column("the gate key of the endpoint called")
    model_id: str = column("the sweep's name for the model")
    step: int = column("model call index within the episode, 0-based")
    attempt: int = column("1-based attempt of that call")
    outcome: Outcome = column("what the attempt came to: " + " | ".join(CALL_OUTCOMES))
    http_status: int | None = column("the HTTP status, when a reply came")
    retry_after_s: float | None = column("the server's Retry-After, in seconds")
    latency_s: float = column("from sending the request to the reply or the failure")
    breaker_state: BreakerState = column("the endpoint's breaker when the attempt started")
    input_tokens: int = column("input tokens the provider reported")
    output_tokens: int = column("output tokens the provider reported")
    started_at: float = column("unix seconds")
    error_message: str | None = column("why the attempt failed", default=None)
    reasoning_tokens: int = column("part of output_tokens: thinking, as the provider reported it", default=0)
    cached_input_tokens: int = column("part of input_tokens: served from the provider's prompt cache", default=0)
    served_model: str | None = column("the model the reply says served it (OpenAI/Anthropic ``model``, Gemini "
                                      "``modelVersion``); None without a reply or when it names none",
                                      default=None)
    batch_id: str | None = column("the provider's batch that carried this attempt; null for an online call",
                                  default=None)
    ttft_s: float | None = column("streamed attempts (``models[].stream``): seconds from sending the request to the "
                                  "first event carrying content; null when the attempt did not stream",
                                  default=None)
    output_tokens_per_s: float | None = column("streamed attempts: output_tokens / (latency_s - ttft_s), the "
                                               "generation phase's rate (``providers.types.output_tokens_per_s``); "
                                               "null without ttft_s or when that phase is under 1 ms",
                                               default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EventRow:
    run: str = column("the run directory's name")
    provider: str = column("the gate key of the endpoint")
    runner: str = column("which runner's gate saw it")
    kind: EventKind = column("breaker (a transition) | concurrency (a new adaptive limit)")
    at: float = column("unix seconds")
    from_state: str | None = column("breaker: previous state", default=None)
    to_state: str | None = column("breaker: new state", default=None)
    value: float | None = column("concurrency: the new limit", default=None)
    detail: str | None = column("what caused it", default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScoreRow:
    """A row of a rescoring's table (``scores/<name>/scores/*.arrow``, ``orchestrator.rescore``): an
    episode's scores recomputed from its transcript, replacing the episodes' score columns when
    ``report`` or ``compare`` selects it."""

    run: str = column("the run directory's name")
    episode_id: str = column("the episode rescored (joins episodes.episode_id)")
    correct: bool | None = column("as episodes.correct, recomputed; None when the episode did not complete")
    judge_correct: bool | None = column("the rescoring judge's verdict; None without --judge")
    state_correct: bool | None = column("as episodes.state_correct, from the tool calls replayed on a fresh "
                                        "environment")
    steps_match: bool | None = column("as episodes.steps_match, recomputed")
    step_ratio: float | None = column("as episodes.step_ratio, recomputed")
    scoring: str = column("the scoring profile applied: toolsweep | paper")
    judge: str | None = column("the judge's model id; None without one")
    judge_error: str | None = column("why the judge gave no verdict; None when it gave one or there is "
                                     "no judge", default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_ARROW_TYPES: dict[type, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
_META = {b"toolsweep.schema_version": SCHEMA_VERSION.encode()}


def _arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a row field's Python type (every column is nullable)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):  # X | None
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _arrow_type(inner)
    if origin is Literal:  # a vocabulary: the type of its values
        return _arrow_type(type(get_args(hint)[0]))
    if origin is list:
        return pa.list_(_arrow_type(get_args(hint)[0]))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return pa.struct(_fields(hint))
    return _ARROW_TYPES[hint]


def _fields(row: type) -> list[pa.Field]:
    hints = get_type_hints(row)
    return [pa.field(f.name, _arrow_type(hints[f.name]), metadata={"doc": f.metadata["doc"]})
            for f in dataclasses.fields(row)]


def schema_of(row: type) -> pa.Schema:
    """The Arrow schema of a row dataclass: its fields in order, typed and documented."""
    return pa.schema(_fields(row), metadata=_META)


EPISODES_SCHEMA = schema_of(EpisodeRow)
CALLS_SCHEMA = schema_of(CallRow)
EVENTS_SCHEMA = schema_of(EventRow)
TRANSCRIPTS_SCHEMA = schema_of(TranscriptRow)
SCORES_SCHEMA = schema_of(ScoreRow)  # a rescoring's table, kept beside the run's (not one of SCHEMAS)
SCHEMAS: dict[str, pa.Schema] = {"episodes": EPISODES_SCHEMA, "calls": CALLS_SCHEMA, "events": EVENTS_SCHEMA,
                                 "transcripts": TRANSCRIPTS_SCHEMA}


def to_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Build an Arrow table of one of the four kinds from row dicts (``Row.to_dict()``)."""
    return pa.Table.from_pylist(rows, schema=SCHEMAS[table])
