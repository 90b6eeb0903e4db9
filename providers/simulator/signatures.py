"""Signatures the simulator puts on what a reasoning model returns, so it can tell when a client
sends that content back altered or not at all — as the real APIs do.

OpenAI's ``encrypted_content``, Anthropic's thinking ``signature`` and Gemini's
``thought_signature`` are opaque to clients; here each is an HMAC (keyed by the server's seed, so
one seed gives the same replies on every run) over the content it vouches for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json


class Signer:
    """``sign``/``verify`` a text; ``seal``/``unseal`` a text into an opaque blob that carries it."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"toolsweep-simulator-{seed}".encode()).digest()

    def sign(self, text: str) -> str:
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def verify(self, text: str, signature: object) -> bool:
        return isinstance(signature, str) and hmac.compare_digest(self.sign(text), signature)

    def seal(self, text: str) -> str:
        payload = json.dumps({"t": text, "s": self.sign(text)}, separators=(",", ":"))
        return base64.b64encode(payload.encode()).decode()

    def unseal(self, blob: object) -> str | None:
        """The sealed text, or None when ``blob`` is not one this signer sealed (or was altered)."""
        if not isinstance(blob, str):
            return None
        try:
            payload = json.loads(base64.b64decode(blob, validate=True))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("t"), str):
            return None
        return payload["t"] if self.verify(payload["t"], payload.get("s")) else None
