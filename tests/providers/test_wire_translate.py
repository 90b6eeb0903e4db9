"""Status codes, transport failures and replies → the typed error tree."""

from __future__ import annotations

from email.utils import formatdate

import aiohttp
import pytest

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    MalformedToolCall,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.types import Completion, ToolCall
from providers.wire.translate import (
    checked,
    outcome_of_status,
    redact,
    retry_after_s,
    server_error_text,
    should_retry,
    status_error,
    transport_error,
)


@pytest.mark.parametrize(("status", "code", "message", "expected", "outcome"), [
    (429, "rate_limit_exceeded", "slow down", RateLimited, "http_429"),
    (429, "insufficient_quota", "You exceeded your current quota", QuotaExhausted, "http_429"),
    (402, None, "billing", QuotaExhausted, "http_429"),
    (500, None, "boom", ServerError, "http_5xx"),
    (529, "overloaded_error", "Overloaded", ServerError, "http_5xx"),
    (401, "invalid_api_key", "bad key", AuthError, "auth"),
    (403, None, "forbidden", AuthError, "auth"),
    (404, "model_not_found", "no such model", BadRequest, "bad_request"),
    (400, "content_policy_violation", "rejected", Refusal, "refusal"),
    (400, "invalid_request_error", "Output blocked by content filtering policy", Refusal, "refusal"),
    (400, None, "messages: field required", BadRequest, "bad_request"),
    (408, None, "request timeout", Timeout, "timeout"),
    # OpenAI's flagged prompt is a refusal, not a bad request
    (400, "invalid_prompt", "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
     Refusal, "refusal"),
    # Anthropic's spend limits: waiting minutes will not lift them
    (429, "rate_limit_error", "You have reached your specified API usage limits. You will regain access on "
     "2026-04-01 at 00:00 UTC.", QuotaExhausted, "http_429"),
    (400, "invalid_request_error", "You have reached your specified workspace API usage limits. You will regain "
     "access on 2026-04-01 at 00:00 UTC.", QuotaExhausted, "http_429"),
    (429, "rate_limit_error", "Extra usage is required for long context requests.", QuotaExhausted, "http_429"),
])
def test_status_error_classes(status, code, message, expected, outcome):
    error = status_error("openai", status, message, code=code, retry_after=2.0)
    assert type(error) is expected and error.outcome == outcome and error.status == status
    assert str(status) in str(error) and message in str(error)
    if expected in (RateLimited, ServerError):  # a 503 or 529 may say when to come back too
        assert error.retry_after == 2.0


@pytest.mark.parametrize(("status", "header", "retryable", "expected"), [
    (429, "false", False, QuotaExhausted), (503, "false", False, ServerError), (529, "false", False, ServerError),
    (409, "true", True, BadRequest), (500, "true", True, ServerError), (429, None, True, RateLimited),
    (400, None, False, BadRequest),
])
def test_x_should_retry_overrides_the_status_rule(status, header, retryable, expected):
    headers = {} if header is None else {"x-should-retry": header}
    error = status_error("anthropic", status, "x", retry=should_retry(headers))
    assert type(error) is expected and error.retryable is retryable


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529])
def test_the_simulator_counts_a_status_as_the_client_records_it(status):
    """The simulator's ``/stats`` outcome of an error reply is the client's ``calls.outcome``."""
    assert outcome_of_status(status) == status_error("openai", status, f"simulated HTTP {status}").outcome


def test_status_outcomes_the_sdks_agree_on():
    assert outcome_of_status(408) == "timeout"  # both SDKs retry 408 as a timeout
    assert outcome_of_status(402) == "http_429"  # Anthropic's billing_error: the quota is spent
    assert outcome_of_status(422) == "bad_request"


def test_retry_after_forms():
    assert retry_after_s({"retry-after": "7"}) == 7.0
    assert retry_after_s({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_s({"retry-after": formatdate(1000.0 + 30, usegmt=True)}, now=1000.0) == pytest.approx(30.0)
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None


def test_redact_removes_the_key_and_masked_keys():
    key = "sk-proj-ABCDEFGHIJKLMNOP"
    text = f"Incorrect API key provided: sk-pr***********MNOP. You sent {key}; also sk-other-12345678901"
    clean = redact(text, key)
    assert key not in clean and "MNOP" not in clean and "12345678901" not in clean
    assert clean.startswith("Incorrect API key provided: [redacted]")


def test_server_error_text_reads_both_body_shapes():
    assert server_error_text({"error": {"message": "m1", "type": "t"}}) == "m1"
    assert server_error_text({"type": "error", "error": {"type": "x", "message": "m2"}}) == "m2"
    assert server_error_text({"message": "m3"}) == "m3"
    assert server_error_text(None) == ""


def _chained(outer: Exception, *causes: BaseException) -> Exception:
    current = outer
    for cause in causes:
        current.__cause__ = cause
        current = cause
    return outer


def test_transport_errors_are_judged_by_their_root_cause():
    # the SDKs' aiohttp transport reports a dropped connection as a (connect) timeout
    reset = _chained(RuntimeError("timed out"), RuntimeError("connect timeout"), aiohttp.ServerDisconnectedError())
    assert isinstance(transport_error("openai", reset, sdk_says_timeout=True), ConnectionFailed)
    slow = _chained(RuntimeError("timed out"), aiohttp.SocketTimeoutError("read"))
    assert isinstance(transport_error("openai", slow, sdk_says_timeout=True), Timeout)
    assert isinstance(transport_error("openai", RuntimeError("x"), sdk_says_timeout=True), Timeout)
    assert isinstance(transport_error("openai", RuntimeError("x"), sdk_says_timeout=False), ConnectionFailed)
    refused = _chained(RuntimeError("conn"), ConnectionRefusedError(111, "refused"))
    assert isinstance(transport_error("anthropic", refused, sdk_says_timeout=False), ConnectionFailed)


def test_checked_raises_refusal_and_malformed_with_the_completion():
    ok = Completion(text="done")
    assert checked("openai", ok) is ok
    refusal = Completion(text="no", refusal=True, finish_reason="content_filter", input_tokens=12, output_tokens=3)
    with pytest.raises(Refusal) as refused:
        checked("openai", refusal)
    assert refused.value.completion is refusal  # its tokens were billed: the gate records them
    broken = Completion(text="", tool_calls=(ToolCall(id="1", name="f", raw_arguments="{", error="not JSON"),))
    with pytest.raises(MalformedToolCall) as caught:
        checked("anthropic", broken)
    assert caught.value.completion is broken
