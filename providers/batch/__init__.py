"""Batch APIs (half-price, results within hours) through each provider's official SDK: submit a
batch of wire bodies keyed by ``custom_id``, poll it, read each request's reply as a Completion
parsed by the same ``providers.wire`` code as online calls, or as a ``CallFailure``."""

from providers.batch.types import BatchClient, BatchHandle, BatchStatus, CallFailure

__all__ = ["BatchClient", "BatchHandle", "BatchStatus", "CallFailure"]
