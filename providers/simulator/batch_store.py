"""The simulator's batch jobs, whatever the API: their requests, their clock, their results.

A job's requests are answered one by one over its processing time: request ``i`` of ``n`` is due
at ``created + processing_s * (i + 1) / n`` and is then sent, as it came, to the simulator's own
online route for its format (``POST /v1/chat/completions``, ``/v1/messages``,
``…:generateContent``) with the submitter's key, so the policies, the oracle and the faults answer
exactly as online. A request drawn to fail (``failure_rate``) is not sent and comes back as a
server error. A job whose expiry falls before a request is due ends there: that request and the
rest come back expired. A cancelled job stops the same way, the rest canceled.

Each API route module (``batch_openai``, ``batch_anthropic``, ``batch_google``) validates its
protocol and writes its shapes from a ``BatchJob``; the store only runs jobs and counts them, so
``/stats`` can prove that no batch was submitted twice and no request sat in two batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from providers.simulator.config import BatchConfig

ResultKind = Literal["succeeded", "errored", "expired", "canceled"]
# A request that does not answer within this long is recorded as a gateway timeout (a hang fault).
REQUEST_TIMEOUT_S = 30.0
# The message of the error a request drawn by ``failure_rate`` comes back with.
FAILED_MESSAGE = "The server had an error while processing this request."


@dataclass
class Result:
    """One request's fate: ``status`` and ``body`` as the online route answered (or the error it
    would have), none for expired and canceled requests."""

    kind: ResultKind
    status: int | None = None
    body: dict[str, Any] | None = None
    ended_at: float = 0.0


@dataclass
class BatchJob:
    """One batch. ``requests`` are ``(custom_id, target path, body)``; ``info`` is what the API's
    route keeps about it (endpoint, input file, display name, …)."""

    id: str
    api: str
    model: str
    requests: list[tuple[str, str, dict[str, Any]]]
    headers: dict[str, str]
    created_at: float
    processing_s: float
    expires_at: float
    info: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)  # validation errors: the batch failed
    results: dict[str, Result] = field(default_factory=dict)
    cancel_requested_at: float | None = None
    ended_at: float | None = None
    expired: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def count(self, kind: ResultKind) -> int:
        return sum(1 for result in self.results.values() if result.kind == kind)

    def due_at(self, index: int) -> float:
        return self.created_at + self.processing_s * (index + 1) / max(1, len(self.requests))


class BatchStore:
    """Every batch the server was given, by id, and the tasks that run them."""

    def __init__(self, config: BatchConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or BatchConfig()
        self._clock = clock
        self._jobs: dict[str, BatchJob] = {}
        self._numbers = itertools.count(1)
        self._rng = random.Random(self.config.seed)
        self._session: aiohttp.ClientSession | None = None

    def now(self) -> float:
        return self._clock()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._numbers):08d}{self._rng.getrandbits(48):012x}"

    def get(self, batch_id: str, api: str) -> BatchJob | None:
        job = self._jobs.get(batch_id)
        return job if job is not None and job.api == api else None

    def submit(self, *, api: str, prefix: str, model: str, requests: list[tuple[str, str, dict[str, Any]]],
               headers: dict[str, str], origin: str, window_s: float, info: dict[str, Any] | None = None,
               errors: list[dict[str, Any]] | None = None) -> BatchJob:
        """Create a job and start running it (unless ``errors`` failed it at validation).
        ``window_s`` is the API's own completion window, used when no ``expire_after_s`` is set."""
        now = self.now()
        expire_after = self.config.expire_after_s if self.config.expire_after_s is not None else window_s
        job = BatchJob(id=self.new_id(prefix), api=api, model=model, requests=requests, headers=headers,
                       created_at=now, processing_s=self.config.processing_s, expires_at=now + expire_after,
                       info=dict(info or {}), errors=list(errors or ()))
        self._jobs[job.id] = job
        if job.failed:
            job.ended_at = now
        else:
            job.task = asyncio.get_running_loop().create_task(self._run(job, origin))
        return job

    def cancel(self, job: BatchJob) -> None:
        if not job.ended and job.cancel_requested_at is None:
            job.cancel_requested_at = self.now()

    async def _run(self, job: BatchJob, origin: str) -> None:
        draws = random.Random(f"{self.config.seed}:{job.id}")
        for index, (custom_id, path, body) in enumerate(job.requests):
            due = job.due_at(index)
            if due > job.expires_at:
                await self._sleep_until(job, job.expires_at)
                if job.cancel_requested_at is None:
                    job.expired = True
                break
            await self._sleep_until(job, due)
            if job.cancel_requested_at is not None:
                break
            if draws.random() < self.config.failure_rate:
                job.results[custom_id] = Result("errored", 500, None, self.now())
                continue
            status, reply = await self._send(origin, path, body, job.headers)
            job.results[custom_id] = Result("succeeded" if status == 200 else "errored", status, reply, self.now())
        rest: ResultKind = "canceled" if job.cancel_requested_at is not None else "expired"
        for custom_id, _, _ in job.requests:
            job.results.setdefault(custom_id, Result(rest, ended_at=self.now()))
        job.ended_at = self.now()

    async def _sleep_until(self, job: BatchJob, moment: float) -> None:
        """Sleep until ``moment`` or a cancellation, whichever comes first."""
        while job.cancel_requested_at is None and (left := moment - self.now()) > 0:
            await asyncio.sleep(min(left, 0.05))

    async def _send(self, origin: str, path: str, body: dict[str, Any],
                    headers: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
        try:
            async with self._session.post(origin + path, json=body, headers=headers) as response:
                try:
                    reply = await response.json(content_type=None)
                except ValueError:
                    reply = None
                return response.status, reply if isinstance(reply, dict) else None
        except (TimeoutError, aiohttp.ClientError):
            return 504, None

    def snapshot(self) -> dict[str, Any]:
        """``/stats``' ``batches``: how many were submitted (by API), and each one's custom ids."""
        by_api: dict[str, int] = {}
        for job in self._jobs.values():
            by_api[job.api] = by_api.get(job.api, 0) + 1
        return {
            "submitted": len(self._jobs),
            "by_api": by_api,
            "requests": {job.id: [custom_id for custom_id, _, _ in job.requests] for job in self._jobs.values()},
        }

    async def close(self) -> None:
        for job in self._jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task
        if self._session is not None:
            await self._session.close()
            self._session = None


def origin_of(request: web.Request) -> str:
    """Where the server itself is reached (its bound socket): a batch's requests go to its online routes."""
    sockname = request.transport.get_extra_info("sockname") if request.transport is not None else None
    if sockname:
        address, port = sockname[0], sockname[1]
        return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"
    return str(request.url.origin())
