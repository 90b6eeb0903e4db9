"""Gemini's batch mode in the simulator: ``POST /{v1beta,v1}/models/{model}:batchGenerateContent``
with inline requests, ``GET /{version}/batches/{id}``, ``POST /{version}/batches/{id}:cancel``.

What google-genai 3.6 sends (``batches._create`` with ``_CreateBatchJobParameters_to_mldev``):
``{"batch": {"displayName"?, "inputConfig": {"requests": {"requests": [{"request":
GenerateContentRequest, "metadata"?}]}}}}``; what it reads back (``_BatchJob_from_mldev``): an
operation ``{name: "batches/…", metadata: {state, createTime, updateTime, endTime, model,
displayName, output: {inlinedResponses: {inlinedResponses: [{response | error, metadata}]}}}}``.
Responses come in request order, each with the request's metadata. States are
``BATCH_STATE_PENDING`` / ``RUNNING`` / ``SUCCEEDED`` / ``FAILED`` / ``CANCELLED`` / ``EXPIRED``.
An input file (``fileName``) is not simulated. Sources: docs/batch-apis.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from providers.simulator.batch_store import FAILED_MESSAGE, BatchJob, BatchStore, origin_of
from providers.simulator.exchange import INVALID_KEY
from providers.simulator.routes_google import STATUS_MESSAGES
from providers.wire import google_genai

VERSIONS = ("v1beta", "v1")
WINDOW_S = 48 * 3600.0  # a job pending or running this long expires
MAX_INLINE_BYTES = 20 * 1024 * 1024
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
EXPIRED_MESSAGE = "The batch expired before this request was processed."
CANCELLED_MESSAGE = "The batch was cancelled before this request was processed."


def _error(status: int, message: str) -> web.Response:
    return web.json_response(google_genai.error_to_wire(status, message), status=status)


def _time(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def validate(model: str, body: object) -> tuple[list[tuple[str, str, dict[str, Any]]], str | None]:
    """The batch's requests (keyed by position: the API answers in order), or the API's message."""
    batch = body.get("batch") if isinstance(body, dict) else None
    if not isinstance(batch, dict):
        return [], "* BatchGenerateContentRequest.batch: batch is not specified"
    config = batch.get("inputConfig") or batch.get("input_config")
    if not isinstance(config, dict):
        return [], "* BatchGenerateContentRequest.batch.input_config: input_config is not specified"
    if config.get("fileName") or config.get("file_name"):
        return [], "input files are not simulated: send inline requests"
    items = ((config.get("requests") or {}).get("requests")) if isinstance(config.get("requests"), dict) else None
    if not isinstance(items, list) or not items:
        return [], "* BatchGenerateContentRequest.batch.input_config.requests: requests is not specified"
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        inner = item.get("request") if isinstance(item, dict) else None
        if not isinstance(inner, dict) or not inner.get("contents"):
            return [], (f"* BatchGenerateContentRequest.batch.input_config.requests.requests[{index}].request."
                        "contents: contents is not specified")
        named = inner.get("model")
        if named is not None and str(named).removeprefix("models/") != model:
            return [], (f"* BatchGenerateContentRequest.batch.input_config.requests.requests[{index}].request.model: "
                        f"the request's model {named} is not the batch's model models/{model}")
        request = {key: value for key, value in inner.items() if key != "model"}
        requests.append((str(index), f"/v1beta/models/{model}:generateContent", request))  # the online route
    return requests, None


def _state(job: BatchJob, now: float) -> str:
    if job.failed:
        return "BATCH_STATE_FAILED"
    if job.ended:
        return ("BATCH_STATE_CANCELLED" if job.cancel_requested_at is not None else
                "BATCH_STATE_EXPIRED" if job.expired else "BATCH_STATE_SUCCEEDED")
    return "BATCH_STATE_RUNNING" if job.results else "BATCH_STATE_PENDING"


def inlined_response(job: BatchJob, key: str, metadata: Any) -> dict[str, Any]:
    result = job.results[key]
    entry: dict[str, Any] = {} if metadata is None else {"metadata": metadata}
    if result.kind == "succeeded":
        return entry | {"response": result.body}
    if result.kind == "errored":
        status = result.status or 500
        error = (result.body or {}).get("error") or google_genai.error_to_wire(
            status, STATUS_MESSAGES.get(status, FAILED_MESSAGE))["error"]
        return entry | {"error": error}
    status, message = (504, EXPIRED_MESSAGE) if result.kind == "expired" else (499, CANCELLED_MESSAGE)
    return entry | {"error": google_genai.error_to_wire(status, message)["error"]}


class GoogleBatches:
    def __init__(self, store: BatchStore) -> None:
        self.store = store

    def add_routes(self, app: web.Application) -> None:
        for version in VERSIONS:
            app.router.add_post(f"/{version}/models/{{model}}:batchGenerateContent", self.create)
            app.router.add_get(f"/{version}/batches/{{batch_id}}", self.get)
            app.router.add_post(f"/{version}/batches/{{batch_id}}:cancel", self.cancel)

    @staticmethod
    def _refused(request: web.Request) -> web.Response | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key or key == INVALID_KEY:
            return _error(400, "API key not valid. Please pass a valid API key.")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        raw = await request.read()
        if len(raw) > MAX_INLINE_BYTES:
            return _error(400, f"Request payload size exceeds the limit: {MAX_INLINE_BYTES} bytes.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Invalid JSON payload received.")
        model = request.match_info["model"]
        requests, problem = validate(model, body)
        if problem is not None:
            return _error(400, problem)
        items = body["batch"].get("inputConfig", body["batch"].get("input_config"))["requests"]["requests"]
        headers = {"x-goog-api-key": request.headers.get("x-goog-api-key") or request.query.get("key", "")}
        job = self.store.submit(api="google", prefix="", model=model, requests=requests, headers=headers,
                                origin=origin_of(request), window_s=WINDOW_S,
                                info={"displayName": body["batch"].get("displayName"),
                                      "metadata": [item.get("metadata") for item in items]})
        return web.json_response(self._operation(job))

    async def get(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        job = self.store.get(request.match_info["batch_id"], "google")
        if job is None:
            return _error(404, f"Batch batches/{request.match_info['batch_id']} not found.")
        return web.json_response(self._operation(job))

    async def cancel(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        job = self.store.get(request.match_info["batch_id"], "google")
        if job is None:
            return _error(404, f"Batch batches/{request.match_info['batch_id']} not found.")
        self.store.cancel(job)
        return web.json_response({})

    def _operation(self, job: BatchJob) -> dict[str, Any]:
        now = self.store.now()
        name = f"batches/{job.id}"
        total = len(job.requests)
        succeeded = job.count("succeeded")
        metadata: dict[str, Any] = {
            "@type": BATCH_TYPE, "name": name, "model": f"models/{job.model}", "state": _state(job, now),
            "createTime": _time(job.created_at), "updateTime": _time(job.ended_at or now),
            "batchStats": {"requestCount": str(total), "successfulRequestCount": str(succeeded),
                           "failedRequestCount": str(len(job.results) - succeeded),
                           "pendingRequestCount": str(total - len(job.results))},
        }
        if job.info.get("displayName") is not None:
            metadata["displayName"] = job.info["displayName"]
        operation: dict[str, Any] = {"name": name, "metadata": metadata}
        if job.ended:
            metadata["endTime"] = _time(job.ended_at)
            responses = [inlined_response(job, key, job.info["metadata"][index])
                         for index, (key, _, _) in enumerate(job.requests)]
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": responses}}
            operation["done"] = True
        return operation
