"""API keys come from the environment only; this module says which variable and reads it."""

from __future__ import annotations

import os

DEFAULT_KEY_ENV: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                                   "google": "GEMINI_API_KEY"}
# Variables read before the default one when set, as the provider's own SDK does: google-genai
# prefers GOOGLE_API_KEY to GEMINI_API_KEY when both are set.
PREFERRED_KEY_ENV: dict[str, tuple[str, ...]] = {"google": ("GOOGLE_API_KEY",)}


class MissingApiKey(ValueError):
    """A provider that needs a key has none in its environment variable."""


def key_env_name(provider: str, api_key_env: str | None = None) -> str | None:
    """The variable holding the key for ``provider``; None when the provider needs no key."""
    if api_key_env:
        return api_key_env
    for name in PREFERRED_KEY_ENV.get(provider, ()):
        if os.environ.get(name, "").strip():
            return name
    return DEFAULT_KEY_ENV.get(provider)


def resolve_api_key(provider: str, api_key_env: str | None = None) -> str | None:
    """The key's value, or MissingApiKey naming the variable (never the value)."""
    name = key_env_name(provider, api_key_env)
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        others = PREFERRED_KEY_ENV.get(provider, ()) if name == DEFAULT_KEY_ENV.get(provider) else ()
        where = " or ".join((name, *others))
        raise MissingApiKey(f"provider {provider!r} needs an API key: set the environment variable {where}")
    return value
