"""Building a provider from an endpoint description: a dict of lazy factories.

Each factory imports its adapter when called, so a missing optional SDK (or the ``[local]``
extra) only breaks the endpoints that need it. Configuration problems raise
``ProviderConfigError`` with one line naming the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from providers.errors import ProviderConfigError
from providers.keys import MissingApiKey, resolve_api_key
from providers.types import Provider

# The provider vocabulary: the ``provider`` of a sweep's models and of the episodes they ran.
ProviderName = Literal["simulated", "openai", "anthropic", "google", "local"]
PROVIDER_NAMES: tuple[ProviderName, ...] = get_args(ProviderName)
# The wire formats: a simulated endpoint speaks any; ``openai`` speaks openai or openai_responses.
ApiFormat = Literal["openai", "openai_responses", "anthropic", "google"]
API_FORMATS: tuple[ApiFormat, ...] = get_args(ApiFormat)
SIMULATED_KEY = "sim-key"  # the simulator accepts any key but "invalid-key"


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint to talk to.

    - ``kind``: which adapter; ``simulated`` speaks ``api_format`` to a running simulator at
      ``base_url`` (its root URL, e.g. ``SimulatorServer.base_url``).
    - ``base_url``: for ``openai``, any OpenAI-compatible server (``…/v1``); None = the vendor's.
    - ``api_key_env``: the variable holding the key (default OPENAI_API_KEY / ANTHROPIC_API_KEY /
      GOOGLE_API_KEY or GEMINI_API_KEY, see ``providers.keys``).
    - ``model_path``: for ``local``, the model file (None = the extra's default model).
    - ``options``: extra keyword arguments for the adapter (e.g. ``default_headers``).
    """

    kind: ProviderName
    base_url: str | None = None
    api_key_env: str | None = None
    api_format: ApiFormat = "openai"
    timeout_s: float = 60.0
    model_path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _key(provider: str, spec: EndpointSpec) -> str:
    try:
        key = resolve_api_key(provider, spec.api_key_env)
    except MissingApiKey as exc:
        raise ProviderConfigError(str(exc)) from None
    if key is None:
        raise ProviderConfigError(f"provider {provider!r} has no API key variable: set api_key_env")
    return key


def provider_key(provider: str, spec: EndpointSpec) -> str:
    """The API key ``spec`` names for ``provider`` (the batch clients' too); ProviderConfigError when unset."""
    return _key(provider, spec)


def _openai(spec: EndpointSpec) -> Provider:
    if spec.api_format == "openai_responses":
        from providers.openai_responses_provider import OpenAIResponsesProvider

        return OpenAIResponsesProvider(api_key=_key("openai", spec), base_url=spec.base_url,
                                       timeout_s=spec.timeout_s, **spec.options)
    from providers.openai_provider import OpenAIProvider

    return OpenAIProvider(api_key=_key("openai", spec), base_url=spec.base_url, timeout_s=spec.timeout_s,
                          **spec.options)


def _anthropic(spec: EndpointSpec) -> Provider:
    from providers.anthropic_provider import AnthropicProvider

    return AnthropicProvider(api_key=_key("anthropic", spec), base_url=spec.base_url, timeout_s=spec.timeout_s,
                             **spec.options)


def _google(spec: EndpointSpec) -> Provider:
    from providers.google_provider import GoogleProvider

    return GoogleProvider(api_key=_key("google", spec), base_url=spec.base_url, timeout_s=spec.timeout_s,
                          **spec.options)


def simulator_root(base_url: str) -> str:
    """The simulator's root URL, accepting it with or without a trailing ``/v1``."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


def _simulated(spec: EndpointSpec) -> Provider:
    if not spec.base_url:
        raise ProviderConfigError("a simulated endpoint needs the base_url of a running simulator")
    root = simulator_root(spec.base_url)
    if spec.api_format == "anthropic":
        from providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(api_key=SIMULATED_KEY, base_url=root, timeout_s=spec.timeout_s, **spec.options)
    if spec.api_format == "openai_responses":
        from providers.openai_responses_provider import OpenAIResponsesProvider

        return OpenAIResponsesProvider(api_key=SIMULATED_KEY, base_url=root + "/v1", timeout_s=spec.timeout_s,
                                       **spec.options)
    if spec.api_format == "google":
        from providers.google_provider import GoogleProvider

        return GoogleProvider(api_key=SIMULATED_KEY, base_url=root, timeout_s=spec.timeout_s, **spec.options)
    from providers.openai_provider import OpenAIProvider

    # The simulator enacts OpenAI itself, whose reasoning models take only max_completion_tokens.
    options = {"token_param": "max_completion_tokens", **spec.options}
    return OpenAIProvider(api_key=SIMULATED_KEY, base_url=root + "/v1", timeout_s=spec.timeout_s, **options)


def _local(spec: EndpointSpec) -> Provider:
    try:
        from providers.local import LocalProvider
    except ImportError:
        raise ProviderConfigError(
            "the local provider needs the [local] extra: pip install 'toolsweep[local]'") from None
    return LocalProvider(model_path=spec.model_path, **spec.options)


FACTORIES: dict[ProviderName, Callable[[EndpointSpec], Provider]] = {
    "openai": _openai, "anthropic": _anthropic, "google": _google, "simulated": _simulated, "local": _local,
}


def make_provider(spec: EndpointSpec) -> Provider:
    """A ready provider for ``spec``; ProviderConfigError when it cannot be built as configured."""
    factory = FACTORIES.get(spec.kind)
    if factory is None:
        raise ProviderConfigError(f"unknown provider kind {spec.kind!r}: choose one of {', '.join(FACTORIES)}")
    try:
        return factory(spec)
    except TypeError as exc:
        if "keyword argument" not in str(exc):
            raise
        raise ProviderConfigError(f"provider {spec.kind!r} does not take that option: {exc}") from None
