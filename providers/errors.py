"""Typed provider errors: the only exceptions that leave ``providers/``.

Every adapter translates its SDK's exceptions into this tree at one boundary, so the gate,
the orchestrator and the reliability report see one vocabulary whatever the provider::

    ProviderError
    ├── RetryableError            retried by the gate (backoff + jitter, Retry-After honoured)
    │                             unless the server said ``x-should-retry: false``
    │   ├── RateLimited           HTTP 429                          outcome "http_429"
    │   ├── ServerError           HTTP 5xx, 529 overloaded          outcome "http_5xx"
    │   ├── Timeout               read / connect timeout, HTTP 408  outcome "timeout"
    │   ├── ConnectionFailed      reset, refused, broken stream     outcome "connection"
    │   └── BatchNotRun           a batched request its batch never ran (retried in a later batch)
    │       ├── BatchExpired      the batch expired first            outcome "expired"
    │       └── BatchCanceled     the batch was cancelled first      outcome "canceled"
    ├── FatalError                never retried: fail fast with a clear message
    │   ├── BadRequest            any other 4xx (400, 404, 422, …)  outcome "bad_request"
    │   ├── AuthError             401, 403, missing key             outcome "auth"
    │   ├── QuotaExhausted        402; 429 whose body says the quota is spent   outcome "http_429"
    │   └── ProviderUnavailable   breaker stayed open / retry budget spent  (no attempt of its own)
    └── OutcomeError              a reply that is an outcome, not a fault
        ├── Refusal               safety filter                     outcome "refusal"
        └── MalformedToolCall     tool-call arguments not JSON      outcome "malformed"

The status → class table is ``providers.wire.translate.status_error_class``.

Messages never contain API keys: adapters build them from status codes and server text only.
"""

from __future__ import annotations

from providers.types import Completion, Outcome


class ProviderError(Exception):
    """Base of every provider failure. ``outcome`` is the ``calls.outcome`` value of the attempt."""

    outcome: Outcome = "bad_request"
    retryable: bool = False
    # seconds the server asked to wait before asking again (Retry-After, RetryInfo): on a 429, and
    # on a 503/529 that sends one
    retry_after: float | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RetryableError(ProviderError):
    retryable = True


class RateLimited(RetryableError):
    outcome: Outcome = "http_429"

    def __init__(self, message: str = "rate limited", *, status: int | None = 429,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(RetryableError):
    outcome: Outcome = "http_5xx"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Timeout(RetryableError):
    outcome: Outcome = "timeout"


class ConnectionFailed(RetryableError):
    outcome: Outcome = "connection"


class BatchNotRun(RetryableError):
    """A request of a batch that ended before running it: nothing was billed, so it goes into the next batch."""


class BatchExpired(BatchNotRun):
    outcome: Outcome = "expired"


class BatchCanceled(BatchNotRun):
    outcome: Outcome = "canceled"


class FatalError(ProviderError):
    retryable = False


class BadRequest(FatalError):
    outcome: Outcome = "bad_request"


class AuthError(FatalError):
    outcome: Outcome = "auth"


class QuotaExhausted(FatalError):
    """A 429 that waiting will not fix (billing quota or spend limit reached, or the server said
    ``x-should-retry: false``): retrying only burns time."""

    outcome: Outcome = "http_429"


class ProviderUnavailable(FatalError):
    """The gate gave up before or between attempts: breaker open too long, retry budget spent.

    ``cause`` is the last underlying error, if any, so the episode records why.
    """

    outcome: Outcome = "connection"

    def __init__(self, message: str, *, cause: ProviderError | None = None) -> None:
        super().__init__(message, status=cause.status if cause else None)
        self.cause = cause


class OutcomeError(ProviderError):
    """A reply the model did give: ``completion`` is it as far as it could be read (None when
    nothing could be), so its usage is recorded — the provider bills it like any other reply."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, completion: Completion | None = None) -> None:
        super().__init__(message, status=status)
        self.completion = completion


class Refusal(OutcomeError):
    outcome: Outcome = "refusal"


class MalformedToolCall(OutcomeError):
    """The model produced a tool call that cannot be parsed.

    ``completion`` is the reply as far as it could be read: its tool calls carry ``error`` set on
    the broken ones, so the agent loop can feed the error back to the model as a tool result. A
    reply whose broken call could not be read at all (Gemini's ``MALFORMED_FUNCTION_CALL``) has no
    tool calls: the agent loop tells the model in a user turn instead.
    """

    outcome: Outcome = "malformed"


class ProviderConfigError(ValueError):
    """A provider cannot be built as configured (missing optional extra, bad base_url, …).

    Not an attempt outcome: raised before any call, reported to the user as a config error.
    """
