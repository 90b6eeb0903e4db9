"""Loading llama-cpp-python lazily, so ``import providers.local`` works without the [local] extra."""

from __future__ import annotations

import os
from types import ModuleType

from providers.errors import ProviderConfigError

INSTALL_EXTRA = "pip install 'toolsweep[local]'"


def import_llama_cpp() -> ModuleType:
    """The ``llama_cpp`` module, or ProviderConfigError naming the install command."""
    # llama.cpp's OpenMP threads spin while waiting for work by default; on a machine shared with
    # the sweep's other processes, that made 2 threads ~5x slower than 1. The runtime reads the
    # variable when the library loads, hence before the import; a user's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise ProviderConfigError(f"the local provider needs the [local] extra: {INSTALL_EXTRA}") from exc
    module: ModuleType = llama_cpp  # the library has no type information
    return module


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
