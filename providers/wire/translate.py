"""From what came over the wire to the typed errors of ``providers.errors``.

HTTP semantics both adapters share: an error status and its body, a transport failure, a reply
that is a refusal or carries a broken tool call. Messages are built from status codes and server
text with keys redacted, never from the SDK's own exception text.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    MalformedToolCall,
    OutcomeError,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.types import Completion, Outcome
from providers.wire.streamed import IncompleteStream, StreamAccumulator, StreamError

# Providers echo keys masked as "sk-ab****wxyz": neither the key nor its masked form may reach a message.
_MASKED_KEY = re.compile(r"[A-Za-z0-9_\-]{2,}\*{3,}[A-Za-z0-9_\-]*")
_KEY_LIKE = re.compile(r"\b(?:sk|sk-ant|sk-proj)-[A-Za-z0-9_\-]{8,}")
# ``invalid_prompt``: OpenAI's 400 for a prompt "flagged as potentially violating our usage policy"
# (alan-turing-institute/t0-1#69, BeehiveInnovations/pal-mcp-server#178): a safety refusal.
_SAFETY_CODES = {"content_policy_violation", "content_filter", "safety", "invalid_prompt"}
_SAFETY_WORDS = re.compile(r"content (?:management )?policy|safety system|content filter", re.IGNORECASE)
# Limits that waiting minutes will not lift, as the error text says them. Anthropic's spend limits:
# "You have reached your specified API usage limits. You will regain access on 2025-07-01 at
# 00:00 UTC." (a 400 or 429; anthropics/claude-code#2127, #38035), the workspace's alike; and its
# 429 "Extra usage is required for long context requests." / "Usage credits are required …"
# (anthropics/claude-code#33514, #64982). Checked December 2026.
_SPENT_WORDS = re.compile(r"reached your specified (?:workspace )?API usage limit|regain access on"
                          r"|(?:extra usage|usage credits) (?:is|are) required", re.IGNORECASE)


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


def should_retry(headers: Mapping[str, str]) -> bool | None:
    """The server's own verdict, ``x-should-retry: true|false`` (sent by OpenAI and Anthropic; both
    SDKs obey it before their status rules, ``_should_retry`` in their ``_base_client``), or None."""
    value = (headers.get("x-should-retry") or "").strip().lower()
    return True if value == "true" else False if value == "false" else None


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
                 retry_after: float | None = None, retry: bool | None = None) -> ProviderError:
    """The typed error for an HTTP error status (message already redacted). ``retry_after`` is kept
    on a 429 and a 5xx (a 503 or 529 may send one); ``retry`` is the server's ``x-should-retry``,
    which overrides the status's rule either way."""
    text = f"{provider}: HTTP {status}" + (f" ({code})" if code else "") + (f": {message}" if message else "")
    error = _status_error(text, status, message, code=code, retry_after=retry_after)
    if retry is False and isinstance(error, RateLimited):
        return QuotaExhausted(text, status=status)
    if retry is not None and not isinstance(error, OutcomeError):
        error.retryable = retry
    return error


def _status_error(text: str, status: int, message: str, *, code: str | None,
                  retry_after: float | None) -> ProviderError:
    error_class = status_error_class(status)
    if status in (400, 429) and (code == "insufficient_quota" or _SPENT_WORDS.search(message)):
        return QuotaExhausted(text, status=status)
    if error_class is RateLimited:
        return RateLimited(text, status=status, retry_after=retry_after)
    if error_class is ServerError:
        return ServerError(text, status=status, retry_after=retry_after)
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



# -- streamed replies ---------------------------------------------------------------------------

async def accumulate(events: AsyncIterable[dict[str, Any]], accumulator: StreamAccumulator, started: float) -> float | None:
    """Feed a stream's events to ``accumulator``; the seconds from ``started`` (a ``perf_counter``
    reading) to the first event carrying content: the reply's ``ttft_s`` (None when none did)."""
    ttft_s: float | None = None
    async for event in events:
        if accumulator.add(event) and ttft_s is None:
            ttft_s = time.perf_counter() - started
    return ttft_s


@contextlib.contextmanager
def stream_failures(provider: str, api_key: str) -> Iterator[None]:
    """What can end a stream besides its SDK's own errors, as the plain request's errors: an error
    event (its status), a transport failure or a stall past the timeout mid-stream."""
    try:
        yield
    except StreamError as exc:
        raise status_error(provider, exc.status, redact(str(exc), api_key), code=exc.code) from None
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
        raise transport_error(provider, exc, sdk_says_timeout=False) from None


@contextlib.contextmanager
def unreadable_reply(provider: str, status: int = 200) -> Iterator[None]:
    """A reply body that does not read as its wire format (bad JSON, a missing or mistyped field)
    is the server's fault: a retryable ServerError naming what broke, with the reply's status."""
    try:
        yield
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ServerError(f"{provider}: unreadable reply ({type(exc).__name__})", status=status) from None


def streamed_reply(provider: str, accumulator: StreamAccumulator) -> dict[str, Any]:
    """The reply body the events built; a stream that ended before its finish is a dropped connection."""
    try:
        return accumulator.reply()
    except IncompleteStream as exc:
        raise ConnectionFailed(f"{provider}: the stream ended early ({exc})") from None
