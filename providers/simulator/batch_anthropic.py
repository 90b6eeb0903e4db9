"""Anthropic's Message Batches API in the simulator: ``POST /v1/messages/batches``,
``GET /v1/messages/batches/{id}``, ``GET …/{id}/results`` (JSONL), ``POST …/{id}/cancel``.

Unlike OpenAI's, a malformed batch is refused at creation with a 400 ``invalid_request_error``
naming the request (``requests.0.custom_id: …``). ``request_counts`` count ``processing`` until
the batch ends, then ``succeeded`` / ``errored`` / ``canceled`` / ``expired``; ``results_url`` is
set once it has ended. Each results line is ``{custom_id, result: {type, message | error}}``.
Sources and unconfirmed texts: docs/batch-apis.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, get_args

from aiohttp import web

from providers.simulator.batch_store import FAILED_MESSAGE, BatchJob, BatchStore, ResultKind, origin_of
from providers.simulator.exchange import INVALID_KEY
from providers.simulator.routes_anthropic import AnthropicFormat
from providers.wire import anthropic_messages

WINDOW_S = 24 * 3600.0
MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
MAX_CUSTOM_ID = 64
RETENTION_S = 29 * 24 * 3600.0  # results stay downloadable this long after creation


def _error(status: int, message: str) -> web.Response:
    return web.json_response(anthropic_messages.error_to_wire(status, message), status=status)


def _time(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def validate(body: object) -> tuple[list[tuple[str, str, dict[str, Any]]], str | None]:
    """The batch's requests, or the API's message for the first problem (in pydantic's words, as
    the API reports them)."""
    if not isinstance(body, dict) or "requests" not in body:
        return [], "requests: Field required"
    items = body["requests"]
    if not isinstance(items, list):
        return [], "requests: Input should be a valid list"
    if not items:
        return [], "requests: List should have at least 1 item after validation, not 0"
    if len(items) > MAX_REQUESTS:
        return [], f"requests: List should have at most {MAX_REQUESTS} items after validation, not {len(items)}"
    requests: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"requests.{index}"
        if not isinstance(item, dict):
            return [], f"{where}: Input should be a valid dictionary"
        custom_id, params = item.get("custom_id"), item.get("params")
        if not isinstance(custom_id, str):
            return [], f"{where}.custom_id: Field required"
        if not custom_id or len(custom_id) > MAX_CUSTOM_ID:
            return [], f"{where}.custom_id: String should have at most {MAX_CUSTOM_ID} characters"
        if not isinstance(params, dict):
            return [], f"{where}.params: Field required"
        for name in ("model", "max_tokens", "messages"):
            if name not in params:
                return [], f"{where}.params.{name}: Field required"
        if params.get("stream"):
            return [], f"{where}.params.stream: streaming is not supported in a message batch"
        if custom_id in seen:
            return [], f"{where}.custom_id: duplicate custom_id {custom_id!r}: each request in a batch needs a " \
                       "unique custom_id"
        seen.add(custom_id)
        requests.append((custom_id, "/v1/messages", params))
    return requests, None


def result_line(job: BatchJob, custom_id: str) -> dict[str, Any]:
    result = job.results[custom_id]
    if result.kind == "succeeded":
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": result.body}}
    if result.kind == "errored":
        error = result.body if result.body is not None else anthropic_messages.error_to_wire(
            result.status or 500, FAILED_MESSAGE)
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
    return {"custom_id": custom_id, "result": {"type": result.kind}}


class AnthropicBatches:
    def __init__(self, store: BatchStore) -> None:
        self.store = store

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages/batches", self.create)
        app.router.add_get("/v1/messages/batches/{batch_id}", self.retrieve)
        app.router.add_get("/v1/messages/batches/{batch_id}/results", self.results)
        app.router.add_post("/v1/messages/batches/{batch_id}/cancel", self.cancel)

    @staticmethod
    def _refused(request: web.Request) -> web.Response | None:
        key = AnthropicFormat().api_key(request)
        if not key or key == INVALID_KEY:
            return _error(401, "invalid x-api-key")
        return None

    def _job(self, request: web.Request) -> BatchJob | None:
        return self.store.get(request.match_info["batch_id"], "anthropic")

    async def create(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        raw = await request.read()
        if len(raw) > MAX_BYTES:
            return _error(413, f"Request exceeds the maximum batch size of {MAX_BYTES} bytes.")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        requests, problem = validate(body)
        if problem is not None:
            return _error(400, problem)
        models = {str(params.get("model")) for _, _, params in requests}
        headers = {name: request.headers[name] for name in ("x-api-key", "Authorization", "anthropic-version")
                   if name in request.headers}
        job = self.store.submit(api="anthropic", prefix="msgbatch_", model=",".join(sorted(models)),
                                requests=requests, headers=headers, origin=origin_of(request), window_s=WINDOW_S)
        job.info["origin"] = origin_of(request)
        return web.json_response(self._batch(job))

    async def retrieve(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return _error(404, f"Message batch {request.match_info['batch_id']} not found.")
        return web.json_response(self._batch(job))

    async def results(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return _error(404, f"Message batch {request.match_info['batch_id']} not found.")
        if not job.ended:
            return _error(400, f"Message batch {job.id} is still in progress: results are available once "
                               "processing has ended.")
        lines = "".join(json.dumps(result_line(job, custom_id)) + "\n" for custom_id, _, _ in job.requests)
        return web.Response(body=lines.encode(), content_type="application/binary")

    async def cancel(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        job = self._job(request)
        if job is None:
            return _error(404, f"Message batch {request.match_info['batch_id']} not found.")
        self.store.cancel(job)
        return web.json_response(self._batch(job))

    def _batch(self, job: BatchJob) -> dict[str, Any]:
        ended = job.ended
        status = "ended" if ended else "canceling" if job.cancel_requested_at is not None else "in_progress"
        counts = {"processing": 0 if ended else len(job.requests), "succeeded": 0, "errored": 0, "canceled": 0,
                  "expired": 0}
        if ended:
            for kind in get_args(ResultKind):
                counts[kind] = job.count(kind)
        results_url = f"{job.info['origin']}/v1/messages/batches/{job.id}/results" if ended else None
        return {
            "id": job.id, "type": "message_batch", "processing_status": status, "request_counts": counts,
            "ended_at": _time(job.ended_at), "created_at": _time(job.created_at),
            "expires_at": _time(job.expires_at), "archived_at": None,
            "cancel_initiated_at": _time(job.cancel_requested_at), "results_url": results_url,
        }
