"""Anthropic's Message Batches through the ``anthropic`` SDK: ``messages.batches.create`` with
``{custom_id, params}`` requests, ``retrieve`` to poll, ``results`` for the JSONL of
``succeeded`` / ``errored`` / ``canceled`` / ``expired`` results.

``params`` are the online adapter's Messages body; a succeeded result's message is read by
``providers.wire.anthropic_messages`` as an online reply is. A malformed batch (duplicate or
over-long ``custom_id``, a request without ``max_tokens`` …) is refused at creation: BadRequest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anthropic

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
from providers.errors import ProviderError, ServerError
from providers.types import Completion
from providers.wire import anthropic_messages
from providers.wire.translate import aiohttp_client, redact, server_error_text, status_error, transport_error

NAME = "anthropic"
# the status an errored result's error type stands for (the result carries no HTTP status)
ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
                "overloaded_error": 529}


def _parse(body: dict[str, Any]) -> Completion:
    return anthropic_messages.completion_from_wire(body)


class AnthropicBatchClient:
    """``AnthropicBatchClient(api_key=…, base_url=…)``."""

    provider = NAME

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0) -> None:
        self._api_key = api_key
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                                http_client=aiohttp_client(anthropic))

    def _translate(self, exc: anthropic.APIError) -> ProviderError:
        if isinstance(exc, anthropic.APIStatusError):
            return status_error(NAME, exc.status_code, redact(server_error_text(exc.body), self._api_key),
                                code=exc.type)
        if isinstance(exc, anthropic.APIConnectionError):
            return transport_error(NAME, exc, sdk_says_timeout=isinstance(exc, anthropic.APITimeoutError))
        return ServerError(f"{NAME}: reply does not match the API schema")

    async def submit(self, model: str, requests: Sequence[tuple[str, WireBody]]) -> BatchHandle:
        custom_ids = check_custom_ids(NAME, requests)
        items: list[Any] = [{"custom_id": custom_id, "params": {"model": model, **body}}
                            for custom_id, body in requests]
        try:
            batch = await self._client.messages.batches.create(requests=items)
        except anthropic.APIError as exc:
            raise self._translate(exc) from None
        return BatchHandle(batch.id, NAME, model, custom_ids, batch.created_at.timestamp())

    @staticmethod
    def _status(batch: Any) -> BatchStatus:
        counts = batch.request_counts
        total = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
        state: BatchState = "ended" if batch.processing_status == "ended" else "running"
        return BatchStatus(state, batch.processing_status, total, counts.succeeded,
                           counts.errored + counts.canceled + counts.expired, counts.processing)

    async def poll(self, batch_id: str) -> BatchStatus:
        try:
            return self._status(await self._client.messages.batches.retrieve(batch_id))
        except anthropic.APIError as exc:
            raise self._translate(exc) from None

    async def cancel(self, batch_id: str) -> BatchStatus:
        try:
            return self._status(await self._client.messages.batches.cancel(batch_id))
        except anthropic.APIError as exc:
            raise self._translate(exc) from None

    async def results(self, batch_id: str) -> dict[str, BatchResult]:
        results: dict[str, BatchResult] = {}
        try:
            decoder = await self._client.messages.batches.results(batch_id)
            async for item in decoder:
                results[item.custom_id] = self._result(item.result)
        except anthropic.AnthropicError as exc:
            if isinstance(exc, anthropic.APIError):
                raise self._translate(exc) from None
            raise ServerError(f"{NAME}: batch {batch_id} has no results yet") from None
        return results

    def _result(self, result: Any) -> BatchResult:
        if result.type == "succeeded":
            # the message as it came over the wire (names and fields as sent), read as online
            return reply_result(NAME, result.message.to_dict(), _parse)
        if result.type == "errored":
            body = result.error.to_dict()
            error_type = (body.get("error") or {}).get("type")
            return error_result(NAME, ERROR_STATUS.get(str(error_type), 500), body, self._api_key, code=error_type)
        if result.type == "expired":
            return CallFailure("expired", f"{NAME}: the batch expired before this request ran")
        return CallFailure("canceled", f"{NAME}: the batch was canceled before this request ran")

    async def aclose(self) -> None:
        await self._client.close()
