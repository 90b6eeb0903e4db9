"""The provider gate: rate limits, adaptive concurrency, circuit breaker and retries per endpoint."""

from providers.gate.breaker import BreakerOpenError, CircuitBreaker
from providers.gate.concurrency import AdaptiveConcurrency
from providers.gate.config import BreakerConfig, GateConfig
from providers.gate.gate import GateCounters, ProviderGate
from providers.gate.limiter import RateLimiter, estimate_tokens
from providers.gate.retry import RetryPolicy

__all__ = [
    "AdaptiveConcurrency", "BreakerConfig", "BreakerOpenError", "CircuitBreaker", "GateConfig",
    "GateCounters", "ProviderGate", "RateLimiter", "RetryPolicy", "estimate_tokens",
]
