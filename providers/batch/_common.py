"""Reading one batched reply exactly as an online one is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from providers.batch.types import BatchResult, CallFailure
from providers.errors import ProviderError, ServerError
from providers.types import Completion
from providers.wire.translate import checked, redact, server_error_text, status_error, unreadable_reply


def reply_result(provider: str, body: object, parse: Callable[[dict[str, Any]], Completion]) -> BatchResult:
    """A 200 reply body as its Completion, or the CallFailure the online adapter would have raised
    (refusal, malformed tool call, unreadable reply)."""
    try:
        if not isinstance(body, dict):
            raise ServerError(f"{provider}: unreadable reply (not a JSON object)", status=200)
        with unreadable_reply(provider):
            completion = parse(body)
        return checked(provider, completion)
    except ProviderError as exc:
        return CallFailure.of(exc)


def error_result(provider: str, status: int, body: object, api_key: str, *, code: str | None = None) -> CallFailure:
    """A request answered with an error status, as the online adapter would have typed it."""
    return CallFailure.of(status_error(provider, status, redact(server_error_text(body), api_key), code=code))
