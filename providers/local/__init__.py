"""The local provider: a small GGUF model run in-process by llama.cpp (the ``[local]`` extra).

Importing this package needs nothing optional; constructing ``LocalProvider`` without
llama-cpp-python raises ``ProviderConfigError`` naming the install command.
"""

from providers.local.model_files import packaged_model_file, resolve_model_file
from providers.local.provider import LocalProvider

__all__ = ["LocalProvider", "packaged_model_file", "resolve_model_file"]
