"""A model's calls through its provider's batch API, one agent turn at a time.

``BatchCaller.complete`` has the gate's signature (``providers.gate.ProviderGate.complete`` bound
to a provider), so the agent loop does not know whether its model is batched. Each call's wire body
(the online adapter's own ``wire_body``) is queued; a flusher submits what is queued as one batch
every ``flush_s`` (sooner when the batch is full: ``max_requests`` or ``max_bytes``), polls it with
backoff and hands each call its result by ``custom_id``. Every episode's next turn then goes into
a later batch. The gate's breaker, slots and rate limiter are not used: a batch API queues the
work itself, and a call waits hours, not seconds.

Attempts: a request that comes back failed is one ``AttemptRecord`` with its outcome and the
batch id; a retryable one (5xx, 429, timeout, a batch that expired or was cancelled first) goes
into the next batch as the next attempt, up to the gate's ``max_attempts``, then the call ends as
``ProviderUnavailable``.

Restarts: ``custom_id`` is a hash of the call's scope (``CALL_SCOPE``, the episode, set by the
orchestrator), its wire body and its attempt number, so an episode run again after a restart
asks for the same ids, turn by turn, as long as its earlier turns got the same replies — which
they do, from the same batches. Before a batch is submitted its ids go to the ``BatchJournal``
(which returns once they are durable); after, its id. A call whose id the journal already maps to
a batch waits for that batch's results instead of being submitted again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from providers.batch.types import BatchClient, BatchResult, BatchStatus, CallFailure, WireBody
from providers.errors import (
    AuthError,
    BadRequest,
    BatchCanceled,
    BatchExpired,
    ConnectionFailed,
    MalformedToolCall,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Refusal,
    RetryableError,
    ServerError,
    Timeout,
)
from providers.types import AttemptRecord, Completion, CompletionRequest

# Which episode (or other unit of work) a call belongs to: part of its custom_id, so two episodes
# that send the same body (same question, a model without a seed) are still two requests.
CALL_SCOPE: ContextVar[str] = ContextVar("toolsweep_batch_scope", default="")
ERROR_MESSAGE_CHARS = 500
RESULT_RETRIES = 5  # reading the results of an ended batch: transient failures before giving up

_ERRORS: dict[str, type[ProviderError]] = {
    "http_5xx": ServerError, "timeout": Timeout, "connection": ConnectionFailed, "refusal": Refusal,
    "bad_request": BadRequest, "auth": AuthError, "expired": BatchExpired, "canceled": BatchCanceled,
}


class BatchJournal(Protocol):
    """Where a sweep records its batches (the run directory's ``batches.jsonl``, through the driver)."""

    async def before_submit(self, key: str, model_id: str, custom_ids: Sequence[str]) -> None:
        """Record that batch ``key`` is about to carry ``custom_ids``; returns once that is durable."""

    def submitted(self, key: str, batch_id: str) -> None:
        """Record the id the API gave batch ``key``."""

    def lookup(self, custom_id: str) -> str | None:
        """The batch an earlier session submitted this call in, if any."""


@dataclass(frozen=True)
class BatchSettings:
    """``flush_s``: how long the first queued call waits for others; ``max_requests`` and
    ``max_bytes``: one batch's bounds (``providers.catalog.batch``); ``poll_s``: the first wait
    between polls, growing by half each time up to ``max_poll_s``."""

    flush_s: float = 10.0
    max_requests: int = 50_000
    max_bytes: int = 20 * 1024 * 1024
    poll_s: float = 5.0
    max_poll_s: float = 60.0


@dataclass
class _Queued:
    custom_id: str
    body: WireBody
    size: int
    future: asyncio.Future[tuple[str | None, BatchResult]]


def custom_id(scope: str, body_json: str, attempt: int) -> str:
    """At most 64 characters of ``[0-9a-f-]``: within every API's rules for ids."""
    digest = hashlib.sha256(f"{scope}\0{body_json}".encode()).hexdigest()[:48]
    return f"{digest}-{attempt}"


def as_error(failure: CallFailure) -> ProviderError:
    """A failed request as the error its online attempt would have raised."""
    if failure.outcome == "malformed":
        return MalformedToolCall(failure.message, completion=failure.completion)
    if failure.outcome == "http_429":
        return RateLimited(failure.message, status=failure.status)
    return _ERRORS.get(failure.outcome, ServerError)(failure.message, status=failure.status)


class BatchCaller:
    """One batched model of one runner: ``await caller.complete(request, model_id=…, on_attempt=…)``."""

    def __init__(self, client: BatchClient, body: Callable[[CompletionRequest], WireBody], *, name: str,
                 model: str, model_id: str, journal: BatchJournal, settings: BatchSettings,
                 max_attempts: int) -> None:
        self.name = name  # the gate key, as the calls rows name the endpoint
        self._client = client
        self._body = body
        self._model = model
        self._model_id = model_id
        self._journal = journal
        self.settings = settings
        self._max_attempts = max_attempts
        self._queue: list[_Queued] = []
        self._queued_bytes = 0
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._fetches: dict[str, asyncio.Task[dict[str, BatchResult]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.submitted = 0  # batches this caller submitted

    async def complete(self, request: CompletionRequest, *, model_id: str,
                       on_attempt: Callable[[AttemptRecord], None]) -> Completion:
        body = self._body(request)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        scope = CALL_SCOPE.get()
        last: ProviderError | None = None
        for attempt in range(1, self._max_attempts + 1):
            started_at, started = time.time(), time.monotonic()
            batch_id, result = await self._result(custom_id(scope, text, attempt), body, len(text))
            latency_s = time.monotonic() - started
            if isinstance(result, Completion):
                on_attempt(self._record(model_id, attempt, started_at, latency_s, batch_id, result, None))
                return result
            error = as_error(result)
            on_attempt(self._record(model_id, attempt, started_at, latency_s, batch_id, result.completion, error))
            if not isinstance(error, RetryableError):
                raise error
            last = error
        raise ProviderUnavailable(f"{self.name}: {self._max_attempts} batched attempts failed; last: {last}",
                                  cause=last)

    def _record(self, model_id: str, attempt: int, started_at: float, latency_s: float, batch_id: str | None,
                completion: Completion | None, error: ProviderError | None) -> AttemptRecord:
        return AttemptRecord(
            provider=self.name, model_id=model_id, attempt=attempt,
            outcome=error.outcome if error is not None else "ok",
            http_status=error.status if error is not None else 200, retry_after_s=None, latency_s=latency_s,
            breaker_state="closed", input_tokens=completion.input_tokens if completion else 0,
            output_tokens=completion.output_tokens if completion else 0, started_at=started_at,
            error_message=str(error)[:ERROR_MESSAGE_CHARS] if error is not None else None,
            reasoning_tokens=completion.reasoning_tokens if completion else 0,
            cached_input_tokens=completion.cached_input_tokens if completion else 0, batch_id=batch_id)

    async def _result(self, cid: str, body: WireBody, size: int) -> tuple[str | None, BatchResult]:
        known = self._journal.lookup(cid)
        if known is not None:  # submitted by an earlier session: its results, not a second batch
            return known, await self._result_of(known, cid)
        future: asyncio.Future[tuple[str | None, BatchResult]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(cid, body, size, future))
        self._queued_bytes += size
        self._arrived.set()
        if len(self._queue) >= self.settings.max_requests or self._queued_bytes >= self.settings.max_bytes:
            self._full.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        return await future

    async def _flush_loop(self) -> None:
        while True:
            await self._arrived.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), timeout=self.settings.flush_s)
            taken = self._take()
            if not self._queue:
                self._arrived.clear()
            if len(self._queue) < self.settings.max_requests and self._queued_bytes < self.settings.max_bytes:
                self._full.clear()
            if taken:
                await self._submit(taken)

    def _take(self) -> list[_Queued]:
        """The oldest queued calls that fit in one batch (always at least one)."""
        count, size = 0, 0
        for item in self._queue:
            if count and (count >= self.settings.max_requests or size + item.size > self.settings.max_bytes):
                break
            count, size = count + 1, size + item.size
        taken, self._queue = self._queue[:count], self._queue[count:]
        self._queued_bytes -= size
        return taken

    async def _submit(self, taken: list[_Queued]) -> None:
        key = f"{self._model_id}-{uuid.uuid4().hex[:16]}"
        try:
            await self._journal.before_submit(key, self._model_id, [item.custom_id for item in taken])
            handle = await self._client.submit(self._model, [(item.custom_id, item.body) for item in taken])
        except ProviderError as exc:
            for item in taken:
                if not item.future.done():
                    item.future.set_result((None, CallFailure.of(exc)))
            return
        except Exception as exc:  # the journal could not record it: nothing was submitted
            for item in taken:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.submitted += 1
        self._journal.submitted(key, handle.id)
        task = asyncio.create_task(self._deliver(handle.id, taken))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, batch_id: str, taken: list[_Queued]) -> None:
        for item in taken:
            result = await self._result_of(batch_id, item.custom_id)
            if not item.future.done():
                item.future.set_result((batch_id, result))

    async def _result_of(self, batch_id: str, cid: str) -> BatchResult:
        """This call's result in batch ``batch_id``: the batch is polled and its results read once
        per session, whoever asks first."""
        fetch = self._fetches.get(batch_id)
        if fetch is None:
            fetch = self._fetches[batch_id] = asyncio.create_task(self._fetch(batch_id))
        try:
            results = await asyncio.shield(fetch)
        except ProviderError as exc:
            return CallFailure.of(exc)
        result = results.pop(cid, None)
        if not results:
            self._fetches.pop(batch_id, None)
        return result or CallFailure("http_5xx", f"{self.name}: batch {batch_id} has no result for this request")

    async def _fetch(self, batch_id: str) -> dict[str, BatchResult]:
        delay = self.settings.poll_s
        while True:
            status: BatchStatus | None = None
            with contextlib.suppress(RetryableError):  # a poll that failed is tried again later
                status = await self._client.poll(batch_id)
            if status is not None and status.done:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, self.settings.max_poll_s)
        for tries in range(RESULT_RETRIES):
            try:
                return await self._client.results(batch_id)
            except RetryableError:
                if tries == RESULT_RETRIES - 1:
                    raise
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        tasks = [t for t in (self._flusher, *self._tasks, *self._fetches.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._client.aclose()
