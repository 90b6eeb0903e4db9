"""What each provider's batch API charges and accepts: the price factor of a batched call and the
limits of one batch. Sources and the day they were checked are docs/batch-apis.md's tables.

A batched call costs ``discount`` times the online price, input and output alike (all three
providers bill batches at half price). ``max_requests`` and ``max_bytes`` bound one batch: a
sweep's batch is cut before it would pass either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchTerms:
    discount: float  # the batch price as a share of the online price
    max_requests: int
    max_bytes: int  # of the request bodies, as JSON
    source: str
    checked: str  # ISO date


MIB = 1024 * 1024
TERMS: dict[str, BatchTerms] = {
    # help.openai.com/en/articles/9197833 (50 %); batches.create docstring: 50,000 requests, 200 MB per file
    "openai": BatchTerms(0.5, 50_000, 200 * MIB, "help.openai.com/en/articles/9197833", "2026-12-04"),
    # platform.claude.com/docs/build-with-claude/batch-processing: 50 %; 100,000 requests or 256 MB
    "anthropic": BatchTerms(0.5, 100_000, 256 * MIB, "platform.claude.com/docs/build-with-claude/batch-processing",
                            "2026-12-04"),
    # ai.google.dev/gemini-api/docs/batch-api: 50 %; inline requests under 20 MB in all (no count limit given)
    "google": BatchTerms(0.5, 100_000, 20 * MIB, "ai.google.dev/gemini-api/docs/batch-api", "2026-12-04"),
}
# the API a wire format's batches go to (a simulated model is billed as the API it speaks)
API_OF_FORMAT = {"openai": "openai", "openai_responses": "openai", "anthropic": "anthropic", "google": "google"}


def terms(api_format: str) -> BatchTerms:
    """The batch terms of the API behind ``api_format``."""
    return TERMS[API_OF_FORMAT[api_format]]
