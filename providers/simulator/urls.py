"""The URLs a running simulator is reached at, shared by the in-process server and the child process."""

from __future__ import annotations


class SimulatorUrls:
    """``base_url`` is the root; the SDKs take ``openai_base_url`` and ``anthropic_base_url``."""

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    @property
    def google_base_url(self) -> str:
        """google-genai's ``HttpOptions.base_url``: the root (the SDK adds ``/v1beta/models/…`` or
        ``/v1/models/…``, as its ``api_version`` says; both are served)."""
        return self.base_url
