"""The price of each model: its ``price_per_mtok`` when the sweep gives one, else genai-prices'
for a real provider's model (``providers.catalog.prices``). Every reader of a price (records'
``cost_usd``, ``--estimate``, budgets, the manifest) asks :func:`model_price`, so they agree."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from orchestrator.config.schema import ModelConfig, PricePerMTok, catalog_target
from providers.catalog.prices import default_price

CONFIG_SOURCE = "config"


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per million tokens (None: no price known) and where they came from:
    ``"config"`` (the sweep's ``price_per_mtok``) or genai-prices' source line."""

    per_mtok: PricePerMTok | None
    source: str | None


def model_price(model: ModelConfig) -> ModelPrice:
    if model.price_per_mtok is not None:
        return ModelPrice(model.price_per_mtok, CONFIG_SOURCE)
    target = catalog_target(model)
    if target is None:
        return ModelPrice(None, None)
    return _default(model.provider, target[0])


@cache  # one lookup per model and process: the bundled data does not change under a run
def _default(provider: str, name: str) -> ModelPrice:
    found = default_price(provider, name)
    if found is None:
        return ModelPrice(None, None)
    return ModelPrice(PricePerMTok(input=found.input, output=found.output, cached_input=found.cached_input),
                      found.source)


def manifest_prices(models: list[ModelConfig]) -> dict[str, dict[str, float | str | None]]:
    """Per model id, the price used and its source (``price_source``), for the run's manifest."""
    prices: dict[str, dict[str, float | str | None]] = {}
    for model in models:
        price = model_price(model)
        if price.per_mtok is None:
            prices[model.id] = {"price_source": None}
        else:
            prices[model.id] = {**price.per_mtok.model_dump(), "price_source": price.source}
    return prices
