"""OpenAI's Batch API in the simulator: ``POST /v1/files`` (multipart, ``purpose=batch``),
``GET /v1/files/{id}`` and ``…/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``,
``POST /v1/batches/{id}/cancel``.

The input file is validated as the API does once the batch is created: the batch is created
(``validating``) and then reports ``failed`` with ``errors.data`` entries carrying ``code``,
``line``, ``message`` and ``param`` (``invalid_json_line``, ``duplicate_custom_id``,
``url_mismatch``, ``model_mismatch``, ``empty_file``, ``too_many_tasks``). The output file holds
the requests answered 200, the error file the others (expired and cancelled requests included),
one line each: ``{id, custom_id, response: {status_code, request_id, body}, error}``.
Sources and unconfirmed texts: docs/batch-apis.md.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from providers.simulator.batch_store import FAILED_MESSAGE, BatchJob, BatchStore, origin_of
from providers.simulator.exchange import INVALID_KEY
from providers.simulator.routes_openai import OpenAIFormat
from providers.wire import openai_chat

ENDPOINTS = ("/v1/chat/completions", "/v1/responses")  # the batchable endpoints the simulator serves
COMPLETION_WINDOW_S = {"24h": 24 * 3600.0}
MAX_REQUESTS = 50_000
MAX_FILE_BYTES = 200 * 1024 * 1024
LINE_ERRORS = {
    "invalid_json_line": "This line is not parseable as valid JSON.",
    "duplicate_custom_id": "The custom_id for this request is a duplicate of another request. "
                           "The custom_id parameter must be unique for each request in a batch.",
    "url_mismatch": "The provided URL for this request does not match the endpoint of the batch.",
    "model_mismatch": "The provided model for this request does not match the model of the other requests "
                      "in the batch. Each batch must only contain requests for a single model.",
    "missing_required_parameter": "This line is missing a required parameter.",
}
EXPIRED = ("batch_expired", "This request could not be executed before the completion window expired.")
CANCELLED = ("batch_cancelled", "This request could not be executed before the batch was cancelled.")


def _error(status: int, message: str, *, code: str | None = None, param: str | None = None) -> web.Response:
    return web.json_response(openai_chat.error_to_wire(status, message, code=code, param=param), status=status)


def _authorized(request: web.Request) -> web.Response | None:
    key = OpenAIFormat().api_key(request)
    if not key or key == INVALID_KEY:
        return _error(401, "Incorrect API key provided.", code="invalid_api_key")
    return None


def validate_lines(content: bytes, endpoint: str) -> tuple[list[tuple[str, str, dict[str, Any]]], list[dict[str, Any]]]:
    """The requests of a batch input file, or the errors that fail the batch (1-based lines)."""
    requests: list[tuple[str, str, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    model: str | None = None
    lines = content.decode("utf-8", errors="replace").splitlines()
    if not any(line.strip() for line in lines):
        return [], [{"code": "empty_file", "line": None, "message": "The batch input file is empty.", "param": None}]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            errors.append(_line_error("invalid_json_line", number))
            continue
        custom_id, url, body = item.get("custom_id"), item.get("url"), item.get("body")
        if not isinstance(custom_id, str) or item.get("method") != "POST" or not isinstance(body, dict):
            param = ("custom_id" if not isinstance(custom_id, str) else "method" if item.get("method") != "POST"
                     else "body")
            errors.append(_line_error("missing_required_parameter", number, param))
            continue
        if custom_id in seen:
            errors.append(_line_error("duplicate_custom_id", number, "custom_id"))
            continue
        seen.add(custom_id)
        if url != endpoint:
            errors.append(_line_error("url_mismatch", number, "url"))
            continue
        if model is not None and body.get("model") != model:
            errors.append(_line_error("model_mismatch", number, "body.model"))
            continue
        model = body.get("model") if isinstance(body.get("model"), str) else model
        requests.append((custom_id, endpoint, body))
    if len(requests) > MAX_REQUESTS:
        errors.append({"code": "too_many_tasks", "line": None, "param": None,
                       "message": f"The batch input file has more than the {MAX_REQUESTS} requests allowed."})
    return requests, errors


def _line_error(code: str, line: int, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "line": line, "message": LINE_ERRORS[code], "param": param}


def status_of(job: BatchJob, now: float) -> str:
    if job.failed:
        return "failed"
    if job.ended:
        return "cancelled" if job.cancel_requested_at is not None else "expired" if job.expired else "completed"
    if job.cancel_requested_at is not None:
        return "cancelling"
    return "validating" if now <= job.created_at else "in_progress"


def output_line(job: BatchJob, custom_id: str, index: int) -> dict[str, Any]:
    """One line of the output or error file for a request that has ended."""
    result = job.results[custom_id]
    line: dict[str, Any] = {"id": f"batch_req_{job.id[6:]}{index:06d}", "custom_id": custom_id}
    if result.kind in ("expired", "canceled"):
        code, message = EXPIRED if result.kind == "expired" else CANCELLED
        return line | {"response": None, "error": {"code": code, "message": message}}
    body = result.body if result.body is not None else openai_chat.error_to_wire(result.status or 500, FAILED_MESSAGE)
    response = {"status_code": result.status, "request_id": f"req_{job.id[6:]}{index:06d}", "body": body}
    return line | {"response": response, "error": None}


class OpenAIBatches:
    """The routes, over the shared store; uploaded files live here."""

    def __init__(self, store: BatchStore) -> None:
        self.store = store
        self.files: dict[str, dict[str, Any]] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/files", self.upload)
        app.router.add_get("/v1/files/{file_id}", self.file_info)
        app.router.add_get("/v1/files/{file_id}/content", self.file_content)
        app.router.add_post("/v1/batches", self.create)
        app.router.add_get("/v1/batches/{batch_id}", self.retrieve)
        app.router.add_post("/v1/batches/{batch_id}/cancel", self.cancel)

    def _file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = self.store.new_id("file-")
        now = int(self.store.now())
        info = {"id": file_id, "object": "file", "bytes": len(content), "created_at": now, "filename": filename,
                "purpose": purpose, "status": "processed", "expires_at": None, "status_details": None}
        self.files[file_id] = {"info": info, "content": content}
        return info

    async def upload(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        if not request.content_type.startswith("multipart/"):
            return _error(400, "The request must be multipart/form-data with 'file' and 'purpose'.")
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, web.FileField):
            return _error(400, "Missing required parameter: 'file'.", param="file")
        if not isinstance(purpose, str):
            return _error(400, "Missing required parameter: 'purpose'.", param="purpose")
        content = upload.file.read()
        if purpose == "batch":
            if not upload.filename.endswith(".jsonl"):
                return _error(400, "Invalid file format for Batch API. Must be .jsonl")
            if len(content) > MAX_FILE_BYTES:
                return _error(400, f"File is too large: batch input files may be at most {MAX_FILE_BYTES} bytes.")
        return web.json_response(self._file(content, upload.filename, purpose))

    async def file_info(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        file_id = request.match_info["file_id"]
        stored = self.files.get(file_id)
        if stored is None:
            return _error(404, f"No such File object: {file_id}", param="id")
        return web.json_response(stored["info"])

    async def file_content(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        file_id = request.match_info["file_id"]
        stored = self.files.get(file_id)
        if stored is None:
            return _error(404, f"No such File object: {file_id}", param="id")
        return web.Response(body=stored["content"], content_type="application/octet-stream")

    async def create(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "The request body is not a JSON object.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                return _error(400, f"Missing required parameter: '{name}'.", code="missing_required_parameter",
                              param=name)
        window, endpoint = body["completion_window"], body["endpoint"]
        if window not in COMPLETION_WINDOW_S:
            return _error(400, f"Invalid value: '{window}'. Supported values are: '24h'.", code="invalid_value",
                          param="completion_window")
        if endpoint not in ENDPOINTS:
            return _error(400, f"Invalid value: '{endpoint}'. Supported values are: {', '.join(ENDPOINTS)}.",
                          code="invalid_value", param="endpoint")
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return _error(404, f"No such File object: {body['input_file_id']}", param="input_file_id")
        if stored["info"]["purpose"] != "batch":
            return _error(400, "The input file must be uploaded with purpose 'batch'.", param="input_file_id")
        requests, errors = validate_lines(stored["content"], endpoint)
        model = str(requests[0][2].get("model", "")) if requests else ""
        headers = {"Authorization": request.headers.get("Authorization", "")}
        info = {"endpoint": endpoint, "input_file_id": body["input_file_id"], "completion_window": window,
                "metadata": body.get("metadata")}
        job = self.store.submit(api="openai", prefix="batch_", model=model, requests=[] if errors else requests,
                                headers=headers, origin=origin_of(request), window_s=COMPLETION_WINDOW_S[window],
                                info=info, errors=errors)
        return web.json_response(self._batch(job, created=True))

    async def retrieve(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        job = self.store.get(request.match_info["batch_id"], "openai")
        if job is None:
            return _error(404, f"No batch found with id '{request.match_info['batch_id']}'.")
        return web.json_response(self._batch(job))

    async def cancel(self, request: web.Request) -> web.Response:
        if (refused := _authorized(request)) is not None:
            return refused
        job = self.store.get(request.match_info["batch_id"], "openai")
        if job is None:
            return _error(404, f"No batch found with id '{request.match_info['batch_id']}'.")
        if job.ended:
            return _error(409, f"Cannot cancel a batch with status '{status_of(job, self.store.now())}'.")
        self.store.cancel(job)
        return web.json_response(self._batch(job))

    def _files_of(self, job: BatchJob) -> tuple[str | None, str | None]:
        """The output and error files, written once when the batch ends."""
        if "output_file_id" not in job.info:
            ok: list[str] = []
            failed: list[str] = []
            for index, (custom_id, _, _) in enumerate(job.requests):
                line = output_line(job, custom_id, index)
                status = (line["response"] or {}).get("status_code")
                (ok if status == 200 else failed).append(json.dumps(line))
            job.info["output_file_id"] = self._file(
                ("\n".join(ok) + "\n").encode(), "batch_output.jsonl", "batch_output")["id"] if ok else None
            job.info["error_file_id"] = self._file(
                ("\n".join(failed) + "\n").encode(), "batch_errors.jsonl", "batch_output")["id"] if failed else None
        return job.info["output_file_id"], job.info["error_file_id"]

    def _batch(self, job: BatchJob, *, created: bool = False) -> dict[str, Any]:
        now = self.store.now()
        status = "validating" if created else status_of(job, now)
        ended = job.ended and not created
        output_file_id, error_file_id = self._files_of(job) if ended and not job.failed else (None, None)
        completed = sum(1 for r in job.results.values() if r.status == 200) if ended else 0
        total = len(job.requests)
        ended_at = int(job.ended_at) if job.ended_at is not None else None
        return {
            "id": job.id, "object": "batch", "endpoint": job.info["endpoint"], "model": job.model or None,
            "errors": {"object": "list", "data": job.errors} if job.errors and not created else None,
            "input_file_id": job.info["input_file_id"], "completion_window": job.info["completion_window"],
            "status": status, "output_file_id": output_file_id, "error_file_id": error_file_id,
            "created_at": int(job.created_at),
            "in_progress_at": int(job.created_at) if status not in ("validating", "failed") else None,
            "expires_at": int(job.expires_at),
            "finalizing_at": ended_at if ended and status in ("completed", "expired") else None,
            "completed_at": ended_at if ended and status == "completed" else None,
            "failed_at": ended_at if ended and status == "failed" else None,
            "expired_at": ended_at if ended and status == "expired" else None,
            "cancelling_at": int(job.cancel_requested_at) if job.cancel_requested_at is not None else None,
            "cancelled_at": ended_at if ended and status == "cancelled" else None,
            "request_counts": {"total": total, "completed": completed,
                               "failed": (total - completed) if ended else 0},
            "metadata": job.info.get("metadata"),
        }

