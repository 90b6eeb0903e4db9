"""The response cache: a model call answered from what the same request got before.

``cache: {mode, path}`` in sweep.yaml (``--cache MODE`` on the command line): ``read`` answers a
call from the cache when it holds the request, ``write`` stores every successful completion,
``readwrite`` both, ``off`` neither.

**The key** is a hash of the provider endpoint (provider, gate key, the configured ``base_url``,
api format, the provider's model string; for a simulated model its policy's settings and the
simulator's seed), the call's strategy, and the canonical request: every message with every field
(tool calls, tool results, the provider's ``replay`` items), the tools, the sampling and reasoning
parameters, ``max_tokens``, the ``extra_body`` — and the **seed**, so repeated seeds of one example
are never collapsed into one cached answer (the trap of promptfoo/promptfoo#360). The request's
timeout is left out: it changes nothing a provider answers.

**A hit** returns the stored ``Completion`` exactly as the provider returned it (``replay``,
reasoning and token counts included, or the next request to a reasoning API would break), makes no
HTTP attempt and takes no rate-limit permit: it short-circuits before the gate. It is recorded as a
``calls`` row with outcome ``cached`` and the original's token counts. Only successful completions
are stored; an error (a refusal or malformed call included) never is.

**Who holds it.** The driver owns the store, one SQLite file under ``path``
(``ResponseStore``); runners never touch a file, so a Ray cluster needs no shared filesystem. Every
entry is filed under its episode's *scope* (endpoint, task, dataset, example, seed, strategy): when
the driver hands a runner a batch, it ships along the entries of those scopes (one indexed query per
batch), and the runner's ``RunnerCache`` answers from them; the completions a runner stores travel
back with its finished rows and the driver writes them. A file that is not this cache (not SQLite,
another program's database, another format version) is refused when the sweep starts, in one line;
an entry that does not decode later is a miss, never a crash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from orchestrator.agent import ModelCall
from orchestrator.config import ConfigError, ModelConfig, SweepConfig
from orchestrator.plan import EpisodeSpec
from providers.types import AttemptRecord, Completion, CompletionRequest, ToolCall

FILE_NAME = "responses.sqlite"
FORMAT = "toolsweep-response-cache"
FORMAT_VERSION = "1"
ENTRIES_SCHEMA = pa.schema([("key", pa.string()), ("scope", pa.string()), ("model_id", pa.string()),
                            ("completion", pa.string()), ("created_at", pa.float64())])
_SQL_VARIABLES = 500  # scopes per query: below SQLite's bound on host parameters

Entries = dict[str, dict[str, str]]  # scope → key → the completion as JSON text


class CacheError(ConfigError):
    """The cache file cannot be used (foreign, damaged, unreadable): reported in one line, exit 2."""


# ---------------------------------------------------------------- keys


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def endpoint_identity(model: ModelConfig, config: SweepConfig) -> dict[str, Any]:
    """What decides which server answers and how: never the simulator's port, which changes
    every run, but for a simulated model what its replies depend on."""
    identity: dict[str, Any] = {"provider": model.provider, "gate": model.gate_key, "base_url": model.base_url,
                                "api_format": model.api_format, "api": model.api, "model": model.model}
    if model.provider == "simulated":
        identity["simulator"] = {"seed": config.simulator.seed, "reasoning": model.reasoning is not None,
                                 "noise": model.noise.model_dump(mode="json") if model.noise else None}
    return identity


def scope_of(spec: EpisodeSpec, config: SweepConfig) -> str:
    """The scope an episode's entries are filed under (the judge's included): what the driver
    looks up to ship a batch its entries."""
    model = config.model(spec.model_id)
    return _digest({"endpoint": endpoint_identity(model, config), "task": spec.task, "dataset": spec.dataset,
                    "example": spec.example_id, "seed": spec.seed, "strategy": spec.strategy})


def request_key(endpoint: Mapping[str, Any], strategy: str, request: CompletionRequest) -> str:
    """The cache key of one call (see the module docstring): every field of the request but its timeout."""
    body = dataclasses.asdict(request)
    del body["timeout_s"]
    return _digest({"endpoint": endpoint, "strategy": strategy, "request": body})


# ---------------------------------------------------------------- completions as text


def encode(completion: Completion) -> str:
    return json.dumps(dataclasses.asdict(completion), sort_keys=True, separators=(",", ":"))


def decode(text: str) -> Completion:
    """The stored completion, equal to the one encoded; ValueError/KeyError/TypeError when damaged."""
    data = json.loads(text)
    data["tool_calls"] = tuple(ToolCall(**call) for call in data["tool_calls"])
    data["replay"] = tuple(data["replay"])
    return Completion(**data)


# ---------------------------------------------------------------- the driver's store


class ResponseStore:
    """The cache file, opened by the driver: ``entries_for`` a batch, ``store`` what came back."""

    def __init__(self, path: Path, *, reads: bool, writes: bool) -> None:
        self.path = path
        self.reads, self.writes = reads, writes
        self.shipped = 0  # entries sent to runners
        self.stored = 0  # entries written
        self.failure: str | None = None  # why the store stopped mid-sweep (the sweep goes on without it)
        self._db: sqlite3.Connection | None = None
        if path.exists() or writes:
            self._db = _open(path, create=writes)

    @classmethod
    def open(cls, config: SweepConfig, mode: str | None = None) -> ResponseStore | None:
        """The store for this sweep (``mode`` overrides ``cache.mode``), validated now; None when off."""
        mode = mode or config.cache.mode
        if mode == "off":
            return None
        directory = config.cache.path
        if directory.exists() and not directory.is_dir():
            raise CacheError(f"cache.path {directory}: is not a directory")
        if mode != "read":
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheError(f"cache.path {directory}: cannot create it ({exc.strerror})") from None
        return cls(directory / FILE_NAME, reads=mode in ("read", "readwrite"), writes=mode != "read")

    def entries_for(self, specs: Sequence[EpisodeSpec], config: SweepConfig) -> Entries:
        """Every stored entry of these episodes' scopes, by scope (empty when the cache is not read)."""
        if not self.reads or self._db is None or not specs:
            return {}
        scopes = list({scope_of(spec, config) for spec in specs})
        found: Entries = {}
        try:
            for start in range(0, len(scopes), _SQL_VARIABLES):
                chunk = scopes[start:start + _SQL_VARIABLES]
                rows = self._db.execute(
                    f"SELECT scope, key, completion FROM responses WHERE scope IN ({','.join('?' * len(chunk))})", chunk)
                for scope, key, completion in rows:
                    found.setdefault(scope, {})[key] = completion
        except sqlite3.DatabaseError as exc:
            self._give_up(exc)
            return {}
        self.shipped += sum(len(entries) for entries in found.values())
        return found

    def store(self, entries: pa.Table | None) -> None:
        """Write the completions a runner stored (``ENTRIES_SCHEMA`` rows); a key already held stays."""
        if entries is None or not self.writes or self._db is None or entries.num_rows == 0:
            return
        rows = zip(*(entries.column(name).to_pylist() for name in ENTRIES_SCHEMA.names), strict=True)
        try:
            with self._db:
                cursor = self._db.executemany(
                    "INSERT OR IGNORE INTO responses (key, scope, model_id, completion, created_at) "
                    "VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.DatabaseError as exc:
            self._give_up(exc)
            return
        self.stored += max(cursor.rowcount, 0)

    def _give_up(self, exc: Exception) -> None:
        """The file broke under the sweep (disk full, damaged by another program): the sweep goes on
        without the cache, as if it were off, and says so at the end; it never stops for it."""
        self.failure = f"{self.path}: {exc}"
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _open(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open (or create) the cache file and check that it is one: SQLite, this format, this version."""
    fresh = not path.exists()
    try:
        db = sqlite3.connect(path, isolation_level="DEFERRED")
    except sqlite3.Error as exc:
        raise CacheError(f"{path}: cannot open the cache file ({exc})") from None
    try:
        _check(db, path, create=fresh and create)
    except BaseException:
        db.close()
        raise
    return db


def _check(db: sqlite3.Connection, path: Path, *, create: bool) -> None:
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if create:
            with db:
                db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("version", FORMAT_VERSION)])
                db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, scope TEXT NOT NULL, model_id TEXT NOT NULL, "
                           "completion TEXT NOT NULL, created_at REAL NOT NULL)")
                db.execute("CREATE INDEX responses_scope ON responses (scope)")
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise CacheError(f"{path}: the cache file is damaged ({check[0] if check else 'no answer'}); "
                             "move it aside to start a new cache")
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise CacheError(f"{path}: not a ToolSweep response cache (format {meta.get('format')!r}); move it "
                             "aside or choose another cache.path")
        if meta.get("version") != FORMAT_VERSION:
            raise CacheError(f"{path}: a response cache of format version {meta.get('version')!r}; this ToolSweep "
                             f"reads version {FORMAT_VERSION}")
        db.execute("SELECT key, scope, model_id, completion, created_at FROM responses LIMIT 0")
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path}: not a ToolSweep response cache ({exc}); move it aside or choose another "
                         "cache.path") from None


# ---------------------------------------------------------------- the runner's side


class RunnerCache:
    """A runner's view of the cache: the entries the driver shipped for the episodes it holds, and
    the completions it stored since its last exchange."""

    def __init__(self, config: SweepConfig) -> None:
        self._config = config
        self.reads = config.cache.mode in ("read", "readwrite")
        self.writes = config.cache.mode in ("write", "readwrite")
        self._shipped: Entries = {}
        self._new: list[dict[str, Any]] = []
        self.hits = self.misses = self.damaged = 0

    def receive(self, entries: Entries) -> None:
        """Keep what the driver shipped with a batch until its episodes start."""
        self._shipped.update(entries)

    def for_episode(self, spec: EpisodeSpec) -> tuple[str, dict[str, str]]:
        """The episode's scope and its shipped entries (handed over once: the runner keeps no copy)."""
        scope = scope_of(spec, self._config)
        return scope, self._shipped.pop(scope, {})

    def wrap(self, call: ModelCall, *, scope: str, entries: Mapping[str, str], strategy: str,
             breaker_state: Callable[[], Any]) -> ModelCall:
        """``call`` answered from ``entries`` when they hold its request, storing what it gets otherwise."""
        model = self._config.model(call.model_id)
        endpoint = endpoint_identity(model, self._config)
        inner = call.complete

        async def complete(request: CompletionRequest, *, model_id: str,
                           on_attempt: Callable[[AttemptRecord], None]) -> Completion:
            started, t0 = time.time(), time.perf_counter()
            key = request_key(endpoint, strategy, request)
            if self.reads and key in entries:
                try:
                    completion = decode(entries[key])
                except (ValueError, KeyError, TypeError):
                    self.damaged += 1  # a damaged entry is a miss: the provider is asked again
                else:
                    self.hits += 1
                    on_attempt(AttemptRecord(
                        provider=model.gate_key, model_id=model_id, attempt=1, outcome="cached", http_status=None,
                        retry_after_s=None, latency_s=time.perf_counter() - t0, breaker_state=breaker_state(),
                        input_tokens=completion.input_tokens, output_tokens=completion.output_tokens,
                        started_at=started, reasoning_tokens=completion.reasoning_tokens,
                        cached_input_tokens=completion.cached_input_tokens, served_model=completion.served_model))
                    return completion
            self.misses += 1
            completion = await inner(request, model_id=model_id, on_attempt=on_attempt)
            if self.writes:
                self._new.append({"key": key, "scope": scope, "model_id": model_id,
                                  "completion": encode(completion), "created_at": time.time()})
            return completion

        return dataclasses.replace(call, complete=complete)

    def drain(self) -> pa.Table | None:
        """The completions stored since the last call, for the driver to write."""
        if not self._new:
            return None
        new, self._new = self._new, []
        return pa.Table.from_pylist(new, schema=ENTRIES_SCHEMA)
