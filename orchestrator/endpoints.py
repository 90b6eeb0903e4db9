"""Wiring from sweep config to live endpoints: one provider client and one gate per endpoint.

A runner builds its own ``Endpoints`` once and reuses every client for every call (the SDK
clients cost CPU to create and keep connection pools). Gates get the runner's share of each
endpoint's budget, handed over by the driver (``orchestrator.capacity.gate_shares``), so the runners
together never exceed it; a runner with no share of an endpoint (its ``max_in_flight`` is below the
number of runners) never calls it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Hashable
from typing import Any

from orchestrator.agent import Complete, ModelCall
from orchestrator.config import ConfigError, ModelConfig, SweepConfig
from orchestrator.config.prices import model_price
from providers.batch.caller import BatchCaller, BatchJournal, BatchSettings
from providers.batch.clients import make_batch_client
from providers.catalog.batch import terms as batch_terms
from providers.catalog.models import Catalog, effective_reasoning, load_catalog
from providers.errors import ProviderConfigError
from providers.gate import ProviderGate
from providers.gate.config import GateConfig
from providers.registry import EndpointSpec, make_provider
from providers.simulator.config import ModelProfile
from providers.text_tools import TextToolsProvider
from providers.types import Provider


def request_model(m: ModelConfig) -> str:
    """What a request names: the provider's model; for a simulated model, the real model it
    impersonates, else its id (the simulator's profiles are keyed by it, not by the policy)."""
    if m.provider != "simulated":
        return m.model
    return m.impersonates or m.id


def simulator_profiles(config: SweepConfig) -> dict[str, ModelProfile]:
    """The simulator's profiles, keyed by what requests name (``request_model``). Simulated models
    impersonating the same real model share its profile, so they must agree on it."""
    profiles: dict[str, ModelProfile] = {}
    for m in config.models:
        if m.provider != "simulated":
            continue
        fields: dict[str, Any] = {"policy": m.model}
        if m.latency_ms is not None:
            fields["latency_ms"] = m.latency_ms
        if m.faults is not None:
            fields["faults"] = m.faults
        if m.noise is not None:
            fields["noise"] = m.noise
        if m.reasoning is not None:  # a reasoning model of its api_format's API, with that API's rules
            fields["reasoning"] = True
        if m.impersonates is not None:
            fields["impersonates"] = m.impersonates
        profile, key = ModelProfile(**fields), request_model(m)
        known = profiles.setdefault(key, profile)
        if known.model_copy(update={"reasoning": False}) != profile.model_copy(update={"reasoning": False}):
            raise ConfigError(f"models {m.id!r} and another simulated model both answer as {key!r} with different "
                              "policies, latency, faults or noise: give them the same, or impersonate one only")
        if profile.reasoning:  # a reasoning variant makes the shared profile a reasoning one
            profiles[key] = known.model_copy(update={"reasoning": True})
    return profiles


def uses_simulator(config: SweepConfig) -> bool:
    return any(m.provider == "simulated" for m in config.models)


class Endpoints:
    """Providers and gates of one runner, and the ``ModelCall`` each (model, strategy) uses."""

    def __init__(self, config: SweepConfig, *, shares: dict[str, GateConfig], simulator_url: str | None,
                 on_event: Callable[..., None] | None = None, journal: BatchJournal | None = None) -> None:
        self._config = config
        self._journal = journal
        self._batch_callers: dict[str, BatchCaller] = {}
        self._shares = shares
        self._simulator_url = simulator_url
        self._on_event = on_event
        self._providers: dict[tuple[Hashable, ...], Provider] = {}
        self._gates: dict[str, ProviderGate] = {}
        self._calls: dict[tuple[str, str], ModelCall] = {}
        self._catalog: Catalog | None = None  # read when a model first needs it
        self._models = {m.id: m for m in config.models}

    def gate(self, key: str) -> ProviderGate:
        if key not in self._gates:
            share = self._shares.get(key)
            if share is None:
                raise RuntimeError(f"this runner has no share of gate {key!r}; the driver must not send it "
                                   "that gate's episodes")
            on_event = functools.partial(self._on_event, key) if self._on_event else None
            self._gates[key] = ProviderGate(key, share, on_event=on_event)
        return self._gates[key]

    def _endpoint(self, m: ModelConfig) -> EndpointSpec:
        base_url = m.base_url
        if m.provider == "simulated":
            if self._simulator_url is None:
                raise RuntimeError("a simulated model needs the simulator, which is not running")
            base_url = self._simulator_url
        options: dict[str, Any] = m.local.as_options() if m.local else {}
        if m.max_tokens_param is not None:  # else the adapter's default for its base_url
            options["token_param"] = m.max_tokens_param
        if m.reasoning_summary is not None:
            options["reasoning_summary"] = m.reasoning_summary
        if m.stream:
            options["stream"] = True
        return EndpointSpec(kind=m.provider, base_url=base_url, api_key_env=m.key_env,
                            api_format=m.api_format, timeout_s=self._config.gate_config(m.gate_key).timeout_s,
                            model_path=m.model_path, options=options)

    def provider(self, m: ModelConfig, strategy: str) -> Provider:
        spec = self._endpoint(m)
        endpoint = (spec.kind, spec.base_url, spec.api_format, spec.api_key_env, spec.model_path,
                    tuple(sorted(spec.options.items())))
        key = (*endpoint, strategy)
        if key not in self._providers:
            base = self._providers.get((*endpoint, "native"))
            if base is None:
                base = self._providers[(*endpoint, "native")] = make_provider(spec)
            self._providers[key] = base if strategy == "native" else TextToolsProvider(base)
        return self._providers[key]

    def model_call(self, model_id: str, strategy: str) -> ModelCall:
        key = (model_id, strategy)
        if key not in self._calls:
            m = self._models[model_id]
            gate = self.gate(m.gate_key)
            provider = self.provider(m, strategy)
            price = model_price(m).per_mtok
            # every adapter here reports its wire parameters; a Provider from elsewhere may not
            base = self.provider(m, "native")
            complete: Complete = functools.partial(gate.complete, provider)
            factor = 1.0
            if m.batch_options is not None:
                if strategy != "native":
                    raise ProviderConfigError(f"model {m.id!r}: batch runs the native strategy only "
                                              f"(the {strategy} strategy's calls are not batched)")
                complete = self._batch_caller(m).complete
                factor = batch_terms(m.api_format).discount
            self._calls[key] = ModelCall(
                model_id=m.id, provider_name=m.provider,
                model=m.model, request_model=request_model(m),
                complete=complete,
                temperature=m.temperature, max_tokens=m.max_tokens,
                timeout_s=gate.config.timeout_s, send_script=m.provider == "simulated",
                price_in_per_mtok=price.input * factor if price else None,
                price_out_per_mtok=price.output * factor if price else None,
                price_cached_in_per_mtok=(price.cached_input * factor if price and price.cached_input is not None
                                          else None),
                reasoning=m.thinking, reasoning_label=self._reasoning_label(m),
                wire_params=provider.wire_params if hasattr(base, "wire_params") else None,
            )
        return self._calls[key]

    def _reasoning_label(self, m: ModelConfig) -> str | None:
        """The reasoning an episode records: the variant's setting, or, when none is set and the
        catalog says the model thinks anyway, that default marked as such ("adaptive (default)")."""
        if m.reasoning_label is not None or m.provider == "simulated":
            return m.reasoning_label
        if self._catalog is None:
            self._catalog = load_catalog()
        default = effective_reasoning(self._catalog.lookup(m.model, m.api_format), None)
        return f"{default} (default)" if default is not None else None

    def _batch_caller(self, m: ModelConfig) -> BatchCaller:
        """The model's batch caller (``providers.batch.caller``): one per model, so its calls share batches."""
        if m.id not in self._batch_callers:
            options = m.batch_options
            assert options is not None
            if self._journal is None:
                raise ProviderConfigError(f"model {m.id!r}: batch needs the sweep's batch journal")
            base = self.provider(m, "native")
            if not hasattr(base, "wire_body"):
                raise ProviderConfigError(f"model {m.id!r}: its adapter cannot build a batch body")
            terms = batch_terms(m.api_format)
            settings = BatchSettings(flush_s=options.flush_s,
                                     max_requests=min(options.max_requests or terms.max_requests, terms.max_requests),
                                     max_bytes=terms.max_bytes, poll_s=options.poll_s)
            self._batch_callers[m.id] = BatchCaller(
                make_batch_client(self._endpoint(m)), base.wire_body, name=m.gate_key, model=request_model(m),
                model_id=m.id, journal=self._journal, settings=settings,
                max_attempts=self._config.gate_config(m.gate_key).max_attempts)
        return self._batch_callers[m.id]

    def counters(self) -> dict[str, dict[str, Any]]:
        return {key: dataclasses.asdict(gate.counters) for key, gate in self._gates.items()}

    async def aclose(self) -> None:
        for caller in self._batch_callers.values():
            await caller.aclose()
        seen: set[int] = set()
        for provider in self._providers.values():
            if id(provider) not in seen:
                seen.add(id(provider))
                await provider.aclose()
