"""From what came over the wire to the typed errors of ``providers.errors``.

HTTP semantics both adapters share: an error status and its body, a transport failure, a reply
that is a refusal or carries a broken tool call. Messages are built from status codes and server
text with keys redacted, never from the SDK's own exception text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    MalformedToolCall,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.types import Completion, Outcome

# Providers echo keys masked as "sk-ab****wxyz": neither the key nor its masked form may reach a message.
_MASKED_KEY = re.compile(r"[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]*")
_KEY_LIKE = re.compile(r"\b(?:sk|sk-ant|sk-proj)-[A-Za-z0-9_\-]{8,}")
_SAFETY_CODES = {"content_policy_violation", "content_filter", "safety"}
_SAFETY_WORDS = re.compile(r"content (?:management )?policy|safety system|content filter", re.IGNORECASE)


def aiohttp_client(sdk: Any) -> Any | None:
    """The SDK's aiohttp-based HTTP client, or None (the SDK's default transport) when not installed.

    ``sdk`` is the ``openai`` or ``anthropic`` module; both name the class ``DefaultAioHttpClient``.
    """
    factory = getattr(sdk, "DefaultAioHttpClient", None)
    if factory is None:
        return None
    try:
        return factory()
    except RuntimeError:  # the SDK was installed without its [aiohttp] extra
        return None


def redact(text: str, api_key: str | None) -> str:
    """``text`` with the key, masked keys and anything shaped like a key replaced by ``[redacted]``."""
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", _MASKED_KEY.sub("[redacted]", text))


def server_error_text(body: object) -> str:
    """The human-readable message of an error body in either format (``{"error": {"message"}}``
    or the already unwrapped ``{"message"}``); the body's text when it has no such field."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else None
        if isinstance(message, str):
            return message
        if isinstance(inner, str):
            return inner
    return "" if body is None else str(body)[:300]


def retry_after_s(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def is_safety_block(code: str | None, message: str) -> bool:
    return (code or "") in _SAFETY_CODES or bool(_SAFETY_WORDS.search(message))


# An HTTP error status → the typed error (and so the ``calls.outcome``) of a reply whose body says no
# more: 5xx is a ServerError, a status not listed a BadRequest. 408 is a timeout: both SDKs retry it as
# one (``_should_retry`` in openai/anthropic ``_base_client``). 402 is a spent quota: Anthropic's
# ``billing_error`` (its SDK's 402 class), OpenAI-compatible routers' "insufficient credits". The
# simulator counts its error replies by this table too.
_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    401: AuthError,
    402: QuotaExhausted,
    403: AuthError,
    408: Timeout,
    429: RateLimited,
}


def status_error_class(status: int) -> type[ProviderError]:
    """The error class of an HTTP error status, before its body is read (``status_error`` refines
    a 429 that says the quota is spent, and a 400 that is a safety block)."""
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, BadRequest)


def outcome_of_status(status: int) -> Outcome:
    """The ``calls.outcome`` of an HTTP error status whose body is no refusal."""
    return status_error_class(status).outcome


def status_error(provider: str, status: int, message: str, *, code: str | None = None,
                 retry_after: float | None = None) -> ProviderError:
    """The typed error for an HTTP error status (message already redacted)."""
    text = f"{provider}: HTTP {status}" + (f" ({code})" if code else "") + (f": {message}" if message else "")
    error_class = status_error_class(status)
    if error_class is RateLimited:
        if code == "insufficient_quota":
            return QuotaExhausted(text, status=status)
        return RateLimited(text, status=status, retry_after=retry_after)
    if status == 400 and is_safety_block(code, message):
        return Refusal(text, status=status)
    return error_class(text, status=status)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def transport_error(provider: str, exc: BaseException, *, sdk_says_timeout: bool) -> ProviderError:
    """Timeout or ConnectionFailed for a failure below HTTP, judged by the root causes: the SDKs'
    aiohttp transport reports a dropped connection as a timeout, so their class alone misleads."""
    causes = _chain(exc)
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return Timeout(f"{provider}: no reply within the timeout")
    dropped = next((cause for cause in causes
                    if isinstance(cause, ConnectionError | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)), None)
    if dropped is not None:
        return ConnectionFailed(f"{provider}: connection failed: {type(dropped).__name__}")
    if sdk_says_timeout:
        return Timeout(f"{provider}: no reply within the timeout")
    return ConnectionFailed(f"{provider}: connection failed: {type(causes[-1]).__name__}")


def checked(provider: str, completion: Completion) -> Completion:
    """The completion, unless it is a refusal (Refusal) or has a call whose arguments did not
    parse (MalformedToolCall carrying the completion)."""
    if completion.refusal:
        raise Refusal(f"{provider}: the model refused (finish_reason {completion.finish_reason})",
                      completion=completion)
    broken = next((call for call in completion.tool_calls if call.error), None)
    if broken is not None:
        raise MalformedToolCall(f"{provider}: {broken.error}", completion=completion)
    return completion

