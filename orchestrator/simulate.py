"""``sweep --simulate``: a sweep written for real providers, run entirely offline.

Every model of a real provider (openai, anthropic, google) becomes a simulated oracle that
impersonates it (``ModelConfig.impersonates``) and speaks its API (``api_format``), keeping every
other setting — id, reasoning variant, temperature, max_tokens, the token parameter, price, gate
— so the same adapters build the same request bodies as the real run would, naming the real
model; the simulator then holds each request to that model's rules from the model catalog (a
request the real API would reject is rejected, with its error) and thinks where it would. Local
models stay as they are. The run directory is ``<name>-simulated``, so a rehearsal never mixes
with the real run, and no API key is needed.
"""

from __future__ import annotations

from orchestrator.config import ModelConfig, SweepConfig

REAL_PROVIDERS = ("openai", "anthropic", "google")
SIMULATED_SUFFIX = "-simulated"
ORACLE = "oracle"


def stand_in(m: ModelConfig) -> ModelConfig:
    """The simulated oracle impersonating ``m`` (``m`` itself when it is not a real provider's)."""
    if m.provider not in REAL_PROVIDERS:
        return m
    token_param = m.max_tokens_param
    if token_param is None and m.api_format == "openai" and m.base_url is not None:
        # the OpenAI adapter's own default for a server of one's own; the simulated one would
        # send max_completion_tokens, as to OpenAI itself
        token_param = "max_tokens"
    # model_copy keeps the variant's place in the file (its private ``_entry``) and skips the
    # validators that settled api_format from provider and api: the stand-in speaks the same API
    return m.model_copy(update={
        "provider": "simulated", "model": ORACLE, "impersonates": m.model, "api": None,
        "max_tokens_param": token_param, "base_url": None, "api_key_env": None, "gate": m.gate_key,
    })


def simulated(config: SweepConfig) -> SweepConfig:
    """``config`` with every real provider's model replaced by its stand-in, named ``<name>-simulated``."""
    return config.model_copy(update={"name": config.name + SIMULATED_SUFFIX,
                                     "models": [stand_in(m) for m in config.models]})
