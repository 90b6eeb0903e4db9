"""Default prices from genai-prices: read from its bundled data, offline, checked against that data."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal
from importlib.metadata import version
from typing import Any

import pytest
from genai_prices import data_snapshot
from genai_prices.data import providers
from genai_prices.types import TieredPrices

from providers.catalog.prices import default_price

ON = dt.date(2026, 12, 4)


def raw_prices(provider_id: str, model_id: str) -> dict[str, Any]:
    """The library's own record for a model, found by its id without the library's matching."""
    provider = next(p for p in providers if p.id == provider_id)
    model = next(m for m in provider.models if m.id == model_id)
    return dict(model.get_prices(dt.datetime.combine(ON, dt.time(), tzinfo=dt.UTC)).__dict__)


def base(value: Decimal | TieredPrices | None) -> float | None:
    if value is None:
        return None
    return float(value.base if isinstance(value, TieredPrices) else value)


@pytest.mark.parametrize(("provider", "model", "model_id"), [
    ("anthropic", "claude-haiku-4-5", "claude-haiku-4-5"),
    ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("openai", "gpt-5.4-mini", "gpt-5.4-mini"),
    ("google", "gemini-2.5-flash", "gemini-2.5-flash"),
])
def test_prices_are_the_librarys_own_for_the_model(provider: str, model: str, model_id: str) -> None:
    price = default_price(provider, model, on=ON)
    assert price is not None
    raw = raw_prices(provider, model_id)
    assert price.input == base(raw["input_mtok"]) and price.output == base(raw["output_mtok"])
    assert price.cached_input == base(raw.get("cache_read_mtok"))
    assert price.cache_write == base(raw.get("cache_write_mtok"))
    assert price.cache_write_1h == base(raw.get("cache_write_1h_mtok"))
    assert price.source.startswith(f"genai-prices {version('genai-prices')} bundled data: {provider} model {model_id}")


def test_long_context_tiers_are_the_librarys_thresholds_and_prices() -> None:
    price = default_price("openai", "gpt-5.5", on=ON)
    raw = raw_prices("openai", "gpt-5.5")
    assert price is not None and isinstance(raw["input_mtok"], TieredPrices)
    starts = sorted({tier.start for value in raw.values() if isinstance(value, TieredPrices) for tier in value.tiers})
    assert [tier.above_input_tokens for tier in price.long_context] == starts
    first = price.long_context[0]
    assert first.input == float(raw["input_mtok"].tiers[0].price) > price.input
    assert first.output == float(raw["output_mtok"].tiers[0].price)


def test_a_model_the_library_does_not_know_has_no_default_price() -> None:
    assert default_price("openai", "gpt-99-ultra") is None
    assert default_price("simulated", "oracle") is None
    assert default_price("local", "smollm2-135m") is None


def test_prices_come_from_the_bundled_data_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("prices must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    # Prices fetched in the background (UpdatePrices) would replace the library's data process-wide;
    # stand in for them with a snapshot that knows no model: the bundled prices must still be used.
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", data_snapshot.DataSnapshot(providers=[], from_auto_update=True))
    price = default_price("anthropic", "claude-haiku-4-5", on=ON)
    assert price is not None and price.input == base(raw_prices("anthropic", "claude-haiku-4-5")["input_mtok"])
