"""OpenAI's Batch API through the ``openai`` SDK: the requests as a JSONL file
(``files.create(purpose="batch")``), ``batches.create`` for one endpoint with the 24 h window,
``batches.retrieve`` to poll, ``files.content`` for the output and error files.

The bodies are the online adapters' wire bodies (Chat Completions or Responses) and each reply is
read by the same ``providers.wire`` module, so a batched call parses as an online one. A batch
whose input file the API rejects ends ``failed`` (``errors.data``, one line each), not with an
error at creation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import openai

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
from providers.openai_provider import translate_sdk_error
from providers.types import Completion, Outcome
from providers.wire import openai_chat, openai_responses
from providers.wire.translate import aiohttp_client

NAME = "openai"
Endpoint = Literal["/v1/chat/completions", "/v1/responses"]
COMPLETION_WINDOW: Literal["24h"] = "24h"  # the only window the API accepts
STATES: dict[str, BatchState] = {"validating": "pending", "in_progress": "running", "finalizing": "running",
                                 "cancelling": "running", "completed": "ended", "expired": "ended",
                                 "cancelled": "ended", "failed": "failed"}
# error-file codes of requests the batch never ran
NOT_RUN: dict[str, Outcome] = {"batch_expired": "expired", "batch_cancelled": "canceled"}
_PARSERS = {"/v1/chat/completions": openai_chat.completion_from_wire,
            "/v1/responses": openai_responses.completion_from_wire}


def input_file(endpoint: str, model: str, requests: Sequence[tuple[str, WireBody]]) -> bytes:
    """The JSONL input file: one ``{custom_id, method, url, body}`` line per request."""
    lines = (json.dumps({"custom_id": custom_id, "method": "POST", "url": endpoint, "body": {"model": model, **body}})
             for custom_id, body in requests)
    return ("\n".join(lines) + "\n").encode()


class OpenAIBatchClient:
    """``OpenAIBatchClient(api_key=…, base_url=…, endpoint="/v1/chat/completions")``."""

    provider = NAME

    def __init__(self, *, api_key: str, base_url: str | None = None, endpoint: Endpoint = "/v1/chat/completions",
                 timeout_s: float = 60.0) -> None:
        if endpoint not in _PARSERS:
            raise ValueError(f"{NAME}: batch endpoint must be one of {', '.join(_PARSERS)}, not {endpoint!r}")
        self._api_key = api_key
        self._endpoint: Endpoint = endpoint
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                          http_client=aiohttp_client(openai))

    def _parse(self, body: dict[str, Any]) -> Completion:
        return _PARSERS[self._endpoint](body)

    async def submit(self, model: str, requests: Sequence[tuple[str, WireBody]]) -> BatchHandle:
        custom_ids = check_custom_ids(NAME, requests)
        try:
            uploaded = await self._client.files.create(
                file=("batch.jsonl", input_file(self._endpoint, model, requests), "application/jsonl"),
                purpose="batch")
            batch = await self._client.batches.create(input_file_id=uploaded.id, endpoint=self._endpoint,
                                                      completion_window=COMPLETION_WINDOW)
        except openai.APIError as exc:
            raise translate_sdk_error(exc, self._api_key) from None
        return BatchHandle(batch.id, NAME, model, custom_ids, float(batch.created_at))

    async def _retrieve(self, batch_id: str) -> Any:
        try:
            return await self._client.batches.retrieve(batch_id)
        except openai.APIError as exc:
            raise translate_sdk_error(exc, self._api_key) from None

    @staticmethod
    def _status(batch: Any) -> BatchStatus:
        counts = batch.request_counts
        total = counts.total if counts else 0
        completed, failed = (counts.completed, counts.failed) if counts else (0, 0)
        errors = tuple(f"line {e.line}: {e.code}: {e.message}" if e.line else f"{e.code}: {e.message}"
                       for e in (batch.errors.data or [] if batch.errors else []))
        return BatchStatus(STATES.get(batch.status, "running"), batch.status, total, completed, failed,
                           max(0, total - completed - failed), errors)

    async def poll(self, batch_id: str) -> BatchStatus:
        return self._status(await self._retrieve(batch_id))

    async def cancel(self, batch_id: str) -> BatchStatus:
        try:
            return self._status(await self._client.batches.cancel(batch_id))
        except openai.APIError as exc:
            raise translate_sdk_error(exc, self._api_key) from None

    async def _lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if file_id is None:
            return []
        try:
            content = await self._client.files.content(file_id)
        except openai.APIError as exc:
            raise translate_sdk_error(exc, self._api_key) from None
        return [json.loads(line) for line in content.text.splitlines() if line.strip()]

    async def results(self, batch_id: str) -> dict[str, BatchResult]:
        """Each request's result once the batch has ended (partial for an expired or cancelled
        one: the requests it never ran are ``expired`` / ``canceled``)."""
        batch = await self._retrieve(batch_id)
        status = self._status(batch)
        if status.state == "failed":
            raise BadRequest(f"{NAME}: batch {batch_id} failed: " + "; ".join(status.errors or ("no reason given",)))
        if status.state != "ended":
            raise ServerError(f"{NAME}: batch {batch_id} has not ended (status {batch.status})")
        results: dict[str, BatchResult] = {}
        for line in await self._lines(batch.output_file_id) + await self._lines(batch.error_file_id):
            results[line["custom_id"]] = self._line_result(line)
        return results

    def _line_result(self, line: dict[str, Any]) -> BatchResult:
        response, error = line.get("response"), line.get("error")
        if response is None:
            code = (error or {}).get("code") or "batch_error"
            message = f"{NAME}: {code}: {(error or {}).get('message', '')}"
            outcome = NOT_RUN.get(code)
            return CallFailure(outcome, message) if outcome else CallFailure("bad_request", message)
        status, body = response.get("status_code"), response.get("body")
        if status == 200:
            return reply_result(NAME, body, self._parse)
        code = ((body or {}).get("error") or {}).get("code") if isinstance(body, dict) else None
        return error_result(NAME, int(status or 500), body, self._api_key, code=code)

    async def aclose(self) -> None:
        await self._client.close()
