"""Starting and joining Ray the way this project needs it (docs/design.md, "Ray").

Local mode stays on loopback and quiet: every Ray address bound to 127.0.0.1, no usage stats, no
auth token, and a short temp dir (Ray's unix sockets fail on long paths). Ray reads these variables
when it is first imported, so ``set_local_env`` must run before any ``import ray``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

LOCAL_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
}


def set_local_env() -> None:
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)


class RaySession:
    """Context manager: use the Ray already initialized in this process, or start/join one.

    ``address=None`` starts a private local instance (and shuts it down on exit); an address
    ("auto", "ray://host:10001", "127.0.0.1:6379") joins that cluster.
    """

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 runtime_env: dict[str, Any] | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.runtime_env = runtime_env  # the job's (e.g. py_modules: plugin folders for the nodes)
        self._owned = False
        self._temp_dir: str | None = None

    def __enter__(self) -> RaySession:
        set_local_env()
        import ray

        if ray.is_initialized():
            return self
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False, "include_dashboard": False}
        if self.runtime_env:
            kwargs["runtime_env"] = self.runtime_env
        if self.address:
            ray.init(address=self.address, **kwargs)
        else:
            self._temp_dir = tempfile.mkdtemp(prefix="tsray-")
            ray.init(num_cpus=self.num_cpus or os.cpu_count() or 2, _temp_dir=self._temp_dir,
                     _node_ip_address="127.0.0.1", **kwargs)
        self._owned = True
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        if self._owned:
            ray.shutdown()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
