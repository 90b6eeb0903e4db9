"""The batch client for an endpoint: the same provider, key and base URL as its online adapter."""

from __future__ import annotations

from providers.batch.types import BatchClient
from providers.errors import ProviderConfigError
from providers.registry import SIMULATED_KEY, EndpointSpec, provider_key, simulator_root


def make_batch_client(spec: EndpointSpec) -> BatchClient:
    """The batch client of ``spec``'s API (a simulated endpoint: the simulator's batch routes for
    its ``api_format``); ProviderConfigError when the endpoint has no batch API."""
    if spec.kind == "simulated":
        if not spec.base_url:
            raise ProviderConfigError("a simulated endpoint needs the base_url of a running simulator")
        key, root = SIMULATED_KEY, simulator_root(spec.base_url)
        openai_url: str | None = root + "/v1"
        base_url: str | None = root
    elif spec.kind in ("openai", "anthropic", "google"):
        key, openai_url, base_url = provider_key(spec.kind, spec), spec.base_url, spec.base_url
    else:
        raise ProviderConfigError(f"provider {spec.kind!r} has no batch API")
    if spec.api_format in ("openai", "openai_responses"):
        from providers.batch.openai import Endpoint, OpenAIBatchClient

        endpoint: Endpoint = "/v1/responses" if spec.api_format == "openai_responses" else "/v1/chat/completions"
        return OpenAIBatchClient(api_key=key, base_url=openai_url, endpoint=endpoint, timeout_s=spec.timeout_s)
    if spec.api_format == "anthropic":
        from providers.batch.anthropic import AnthropicBatchClient

        return AnthropicBatchClient(api_key=key, base_url=base_url, timeout_s=spec.timeout_s)
    from providers.batch.google import GoogleBatchClient

    return GoogleBatchClient(api_key=key, base_url=base_url, timeout_s=spec.timeout_s)
