"""API keys come from the environment only; this module says which variable and reads it, and
recognises key-shaped text so that a key pasted where it does not belong is never echoed whole."""

from __future__ import annotations

import os
import re

DEFAULT_KEY_ENV: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                                   "google": "GEMINI_API_KEY"}
# Variables read before the default one when set, as the provider's own SDK does: google-genai
# prefers GOOGLE_API_KEY to GEMINI_API_KEY when both are set.
PREFERRED_KEY_ENV: dict[str, tuple[str, ...]] = {"google": ("GOOGLE_API_KEY",)}

# Key shapes. Prefixed: the documented prefixes of the vendors' key formats (OpenAI and DeepSeek
# sk-…, Anthropic sk-ant-…, Groq gsk_…, xAI xai-…, Hugging Face hf_…, GitHub ghp_/gho_/ghs_/
# github_pat_…, Replicate r8_…, NVIDIA nvapi-…, Fireworks fw_…, Together tgp_…, Google AIza…, AWS
# AKIA…). Unprefixed: one run of 24 or more letters and digits mixing upper case, lower case and
# digits (Mistral, Cohere and many self-hosted servers' keys); hex digests and ids (one case) and
# model names (short runs between separators) are not that shape.
_PREFIXED = (r"(?:sk|gsk|xai|hf|ghp|gho|ghs|github_pat|r8|nvapi|fw|tgp)[-_][A-Za-z0-9_\-]{16,}"
             r"|AIza[A-Za-z0-9_\-]{30,}|AKIA[A-Z0-9]{16}")
_UNPREFIXED = r"(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{24,}"
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
PREFIXED_KEY = re.compile(f"{_EDGE_BEFORE}(?:{_PREFIXED})")
KEY_SHAPED = re.compile(f"{_EDGE_BEFORE}(?:(?:{_PREFIXED})|{_UNPREFIXED}{_EDGE_AFTER})")
MASK_KEEP = 4  # characters of a key shown before the ellipsis: enough to tell which key it was


class MissingApiKey(ValueError):
    """A provider that needs a key has none in its environment variable."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_keys(message))


def mask_keys(text: str) -> str:
    """``text`` with every key-shaped run shown as its first four characters and "…"."""
    return KEY_SHAPED.sub(lambda match: match.group()[:MASK_KEEP] + "…", text)


def looks_like_key(text: str) -> bool:
    """Whether ``text`` holds a value in a vendor's key format (the prefixed shapes only: the
    unprefixed shape is masked in output but too broad to refuse a setting for)."""
    return PREFIXED_KEY.search(text) is not None


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
