"""Default prices per model from genai-prices (Pydantic's maintained price database).

Only the data bundled with the installed package is read: genai-prices can fetch newer prices in
the background (``UpdatePrices``) and then serves them process-wide, which would make a sweep's
costs depend on the network and on the hour. The bundled providers list is read directly, so a
run is priced the same offline and online. A sweep's ``price_per_mtok`` still overrides these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.metadata import version

from genai_prices.data import providers as _bundled_providers
from genai_prices.data_snapshot import DataSnapshot
from genai_prices.types import ModelPrice, TieredPrices

PACKAGE = "genai-prices"
# ToolSweep provider -> genai-prices provider id
_PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic", "google": "google"}
# ModelPrice keys, per million tokens, by the name ToolSweep's price_per_mtok uses
_KEYS = {"input": "input_mtok", "output": "output_mtok", "cached_input": "cache_read_mtok",
         "cache_write": "cache_write_mtok", "cache_write_1h": "cache_write_1h_mtok"}


@dataclass(frozen=True)
class LongContextTier:
    """Prices per million tokens once a prompt's input tokens exceed ``above_input_tokens`` (the
    whole request is then billed at them); None where the tier does not change that price."""

    above_input_tokens: int
    input: float | None
    output: float | None
    cached_input: float | None
    cache_write: float | None


@dataclass(frozen=True)
class DefaultPrice:
    """US dollars per million tokens: ``cached_input`` is a cache read, ``cache_write`` a 5-minute
    cache write and ``cache_write_1h`` a 1-hour one (None where the provider charges none or the
    data has none). ``source`` says where the figures came from."""

    input: float
    output: float
    cached_input: float | None
    cache_write: float | None
    cache_write_1h: float | None
    long_context: tuple[LongContextTier, ...]
    source: str


@cache
def _snapshot() -> DataSnapshot:
    return DataSnapshot(providers=_bundled_providers, from_auto_update=False)


def default_price(provider: str, model: str, *, on: dt.date | None = None) -> DefaultPrice | None:
    """Standard (not batch, not priority) prices of ``model`` at ``provider`` (openai, anthropic,
    google) on ``on`` (default: today, UTC), or None if genai-prices does not know the model."""
    provider_id = _PROVIDER_IDS.get(provider)
    if provider_id is None:
        return None
    try:
        found_provider, info = _snapshot().find_provider_model(model, None, provider_id, None)
    except LookupError:
        return None
    when = dt.datetime.combine(on, dt.time(), tzinfo=dt.UTC) if on is not None else dt.datetime.now(dt.UTC)
    prices = info.get_prices(when)
    values = {name: _price(prices, key) for name, key in _KEYS.items()}
    base = {name: (value.base if isinstance(value, TieredPrices) else value) for name, value in values.items()}
    if base["input"] is None or base["output"] is None:
        return None  # priced per request or per second, not per token
    pricing_url = (found_provider.pricing_urls or [""])[0]
    source = (f"{PACKAGE} {version(PACKAGE)} bundled data: {found_provider.id} model {info.id}"
              f"{f' ({pricing_url})' if pricing_url else ''}")
    return DefaultPrice(input=float(base["input"]), output=float(base["output"]),
                        cached_input=_float(base["cached_input"]), cache_write=_float(base["cache_write"]),
                        cache_write_1h=_float(base["cache_write_1h"]), long_context=_tiers(values), source=source)


def _price(prices: ModelPrice, key: str) -> Decimal | TieredPrices | None:
    value = prices.__dict__.get(key)
    return value if isinstance(value, Decimal | TieredPrices) else None


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _tiers(values: dict[str, Decimal | TieredPrices | None]) -> tuple[LongContextTier, ...]:
    """One tier per threshold any price has, with each price in force above it."""
    tiered = {name: value for name, value in values.items() if isinstance(value, TieredPrices)}
    starts = sorted({tier.start for value in tiered.values() for tier in value.tiers})

    def at(name: str, start: int) -> float | None:
        value = tiered.get(name)
        if value is None:
            return None
        applying = [tier.price for tier in value.tiers if tier.start <= start]
        return float(applying[-1]) if applying else float(value.base)

    return tuple(LongContextTier(above_input_tokens=start, input=at("input", start), output=at("output", start),
                                 cached_input=at("cached_input", start), cache_write=at("cache_write", start))
                 for start in starts)
