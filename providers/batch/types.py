"""What every batch client offers, whatever the provider.

``submit`` sends one batch and returns its handle (the id to record before anything else, so a
restarted sweep polls instead of resubmitting); ``poll`` says how far it is; ``results`` gives,
once it has ended, each request's Completion or CallFailure by ``custom_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from providers.types import Completion, Outcome

if TYPE_CHECKING:
    from providers.errors import ProviderError

# Where a batch is, in one vocabulary for the three APIs: ``pending`` (accepted, not yet
# running), ``running``, ``ended`` (results readable: completed, expired or cancelled — partial
# results included), ``failed`` (rejected as a whole: no results; ``errors`` says why).
BatchState = Literal["pending", "running", "ended", "failed"]

WireBody = dict[str, Any]


@dataclass(frozen=True)
class BatchHandle:
    """A submitted batch: ``id`` is what ``poll`` and ``results`` take; ``custom_ids`` in order."""

    id: str
    provider: str
    model: str
    custom_ids: tuple[str, ...]
    created_at: float  # unix seconds


@dataclass(frozen=True)
class BatchStatus:
    """``state`` in the shared vocabulary, ``provider_state`` as the API says it, request counts
    as far as the API tells them before the end (``total`` always)."""

    state: BatchState
    provider_state: str
    total: int
    succeeded: int = 0
    failed: int = 0
    pending: int = 0
    errors: tuple[str, ...] = ()  # why the batch failed as a whole (validation), one line each

    @property
    def done(self) -> bool:
        return self.state in ("ended", "failed")


@dataclass(frozen=True)
class CallFailure:
    """A request of a batch that got no usable reply: ``outcome`` in the calls vocabulary
    (``expired`` / ``canceled`` for a request the batch never ran), ``status`` the HTTP status it was answered with, if any."""

    outcome: Outcome
    message: str
    status: int | None = None
    completion: Completion | None = field(default=None, compare=False)  # what a malformed reply said

    @classmethod
    def of(cls, error: ProviderError) -> CallFailure:
        completion = getattr(error, "completion", None)
        return cls(error.outcome, error.message, error.status, completion)


BatchResult = Completion | CallFailure


class BatchClient(Protocol):
    """One provider's batch API. Raises ``providers.errors.ProviderError`` when a call to the API
    itself fails (a batch refused at submission: ``BadRequest`` with the API's message)."""

    provider: str

    async def submit(self, model: str, requests: Sequence[tuple[str, WireBody]]) -> BatchHandle: ...

    async def poll(self, batch_id: str) -> BatchStatus: ...

    async def results(self, batch_id: str) -> dict[str, BatchResult]: ...

    async def cancel(self, batch_id: str) -> BatchStatus: ...

    async def aclose(self) -> None: ...


def check_custom_ids(provider: str, requests: Sequence[tuple[str, WireBody]]) -> tuple[str, ...]:
    """The custom ids in order; a duplicate or an empty batch is refused before any call (every
    API refuses them, some only after hours)."""
    from providers.errors import BadRequest

    ids = tuple(custom_id for custom_id, _ in requests)
    if not ids:
        raise BadRequest(f"{provider}: a batch needs at least one request")
    seen: set[str] = set()
    for custom_id in ids:
        if custom_id in seen:
            raise BadRequest(f"{provider}: custom_id {custom_id!r} appears twice in one batch")
        seen.add(custom_id)
    return ids
