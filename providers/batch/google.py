"""Gemini's batch mode (Gemini Developer API) through the ``google-genai`` SDK's request path,
with inline requests.

The request is what ``client.aio.batches.create(model=…, src=[InlinedRequest…])`` sends
(``POST models/{model}:batchGenerateContent`` with ``{"batch": {"displayName", "inputConfig":
{"requests": {"requests": [{"request", "metadata"}]}}}}``) and the poll what ``batches.get``
sends (``GET batches/{id}``), but each request is the online adapter's REST body as it is and each
inlined response is read as raw JSON by ``providers.wire.google_genai``: the typed path would
re-encode contents (thought signatures included) and parse every response through pydantic, so a
batched call would not parse as an online one. ``custom_id`` travels as the request's
``metadata.key``, which the API returns with its response (responses also come in request order).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from providers.batch._common import error_result, reply_result
from providers.batch.types import (
    BatchHandle,
    BatchResult,
    BatchState,
    BatchStatus,
    CallFailure,
    WireBody,
    check_custom_ids,
)
from providers.errors import BadRequest, ServerError
from providers.google_provider import API_VERSION, completion_of
from providers.types import Completion
from providers.wire import google_genai
from providers.wire.translate import redact, server_error_text, status_error, transport_error

NAME = "google"
STATES: dict[str, BatchState] = {"BATCH_STATE_PENDING": "pending", "BATCH_STATE_RUNNING": "running",
                                 "BATCH_STATE_SUCCEEDED": "ended", "BATCH_STATE_CANCELLED": "ended",
                                 "BATCH_STATE_EXPIRED": "ended", "BATCH_STATE_FAILED": "failed"}


def _parse(body: dict[str, Any]) -> Completion:
    """An inlined response as its Completion, or the error the online adapter raises for it."""
    return completion_of(body)


def _count(stats: dict[str, Any], name: str) -> int:
    value = google_genai.field(stats, name)
    return int(value) if value is not None else 0  # int64 counts come as strings


class GoogleBatchClient:
    """``GoogleBatchClient(api_key=…, base_url=…)``."""

    provider = NAME

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0) -> None:
        self._api_key = api_key
        options = genai_types.HttpOptions(base_url=base_url, api_version=API_VERSION, timeout=round(timeout_s * 1000),
                                          retry_options=genai_types.HttpRetryOptions(attempts=1))
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=options)
        self._api = self._client.aio._api_client

    async def _request(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._api.async_request(method, path, body, None)
        except genai_errors.APIError as exc:
            message = redact(exc.message if isinstance(exc.message, str) else server_error_text(exc.details),
                             self._api_key)
            raise status_error(NAME, exc.code, message, code=exc.status) from None
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise transport_error(NAME, exc, sdk_says_timeout=False) from None
        try:
            reply = json.loads(response.body or "{}")
        except ValueError:
            raise ServerError(f"{NAME}: unreadable reply") from None
        if not isinstance(reply, dict):
            raise ServerError(f"{NAME}: unreadable reply")
        return reply

    async def submit(self, model: str, requests: Sequence[tuple[str, WireBody]]) -> BatchHandle:
        custom_ids = check_custom_ids(NAME, requests)
        name = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        inlined = [{"request": body, "metadata": {"key": custom_id}} for custom_id, body in requests]
        batch = {"displayName": f"batch-{custom_ids[0]}", "inputConfig": {"requests": {"requests": inlined}}}
        operation = await self._request("post", f"{name}:batchGenerateContent", {"batch": batch})
        batch_name = operation.get("name")
        if not isinstance(batch_name, str):
            raise ServerError(f"{NAME}: the batch was created without a name")
        created = (operation.get("metadata") or {}).get("createTime")
        return BatchHandle(batch_name, NAME, model, custom_ids, _unix(created))

    async def _get(self, batch_id: str) -> dict[str, Any]:
        return await self._request("get", batch_id if batch_id.startswith("batches/") else f"batches/{batch_id}", {})

    @staticmethod
    def _status(operation: dict[str, Any]) -> BatchStatus:
        metadata = operation.get("metadata") or {}
        state = str(metadata.get("state", "BATCH_STATE_UNSPECIFIED"))
        stats = google_genai.field(metadata, "batchStats") or {}
        error = operation.get("error")
        errors = (str(error.get("message")),) if isinstance(error, dict) else ()
        return BatchStatus(STATES.get(state, "running"), state, _count(stats, "requestCount"),
                           _count(stats, "successfulRequestCount"), _count(stats, "failedRequestCount"),
                           _count(stats, "pendingRequestCount"), errors)

    async def poll(self, batch_id: str) -> BatchStatus:
        return self._status(await self._get(batch_id))

    async def cancel(self, batch_id: str) -> BatchStatus:
        name = batch_id if batch_id.startswith("batches/") else f"batches/{batch_id}"
        await self._request("post", f"{name}:cancel", {})
        return await self.poll(batch_id)

    async def results(self, batch_id: str) -> dict[str, BatchResult]:
        operation = await self._get(batch_id)
        status = self._status(operation)
        if status.state == "failed":
            raise BadRequest(f"{NAME}: batch {batch_id} failed: " + "; ".join(status.errors or ("no reason given",)))
        if status.state != "ended":
            raise ServerError(f"{NAME}: batch {batch_id} has not ended (state {status.provider_state})")
        output = google_genai.field(operation.get("metadata") or {}, "output") or {}
        responses = (google_genai.field(output, "inlinedResponses") or {}).get("inlinedResponses") or []
        results: dict[str, BatchResult] = {}
        for index, entry in enumerate(responses):
            key = (entry.get("metadata") or {}).get("key", str(index))
            results[str(key)] = self._result(entry, status.provider_state)
        return results

    def _result(self, entry: dict[str, Any], state: str) -> BatchResult:
        if "response" in entry:
            return reply_result(NAME, entry["response"], _parse)
        error = entry.get("error") or {}
        code = int(error.get("code") or 500)
        # the requests an expired or cancelled batch never ran come back as DEADLINE_EXCEEDED / CANCELLED errors
        if state == "BATCH_STATE_EXPIRED" and error.get("status") == "DEADLINE_EXCEEDED":
            return CallFailure("expired", f"{NAME}: {error.get('message', 'the batch expired')}")
        if state == "BATCH_STATE_CANCELLED" and error.get("status") == "CANCELLED":
            return CallFailure("canceled", f"{NAME}: {error.get('message', 'the batch was cancelled')}")
        return error_result(NAME, code, {"error": error}, self._api_key, code=error.get("status"))

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        self._client.close()


def _unix(timestamp: object) -> float:
    if not isinstance(timestamp, str):
        return 0.0
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


