"""The three batch APIs on one app, over one store (so ``/stats`` counts every batch)."""

from __future__ import annotations

from aiohttp import web

from providers.simulator.batch_anthropic import AnthropicBatches
from providers.simulator.batch_google import GoogleBatches
from providers.simulator.batch_openai import OpenAIBatches
from providers.simulator.batch_store import BatchStore
from providers.simulator.config import BatchConfig


def add_batch_routes(app: web.Application, config: BatchConfig | None = None) -> BatchStore:
    """Register OpenAI's, Anthropic's and Gemini's batch routes; the store's jobs stop with the app."""
    store = BatchStore(config)
    for routes in (OpenAIBatches(store), AnthropicBatches(store), GoogleBatches(store)):
        routes.add_routes(app)

    async def close(_: web.Application) -> None:
        await store.close()

    app.on_shutdown.append(close)
    return store
