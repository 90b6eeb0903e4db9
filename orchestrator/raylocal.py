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
import threading
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
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()

    def __enter__(self) -> RaySession:
        self._start()
        return self

    def start_in_background(self) -> RaySession:
        """Begin starting (or joining) Ray on a thread and return at once; ``wait`` (or
        ``__enter__``) then waits for it and raises what it raised. A local Ray's start is seconds
        spent waiting for its own processes, which the caller spends on its own start-up meanwhile.
        ``__exit__`` stops what was started, whether or not it was waited for.

        The thread lives until ``__exit__``: Ray starts its processes set to die with the thread
        that started them (Linux's parent-death signal is per thread). Ray installs its SIGTERM
        handler only from the main thread, so the caller's own handler stays in place."""
        set_local_env()
        self._starting = threading.Thread(target=self._start_on_thread, name="ray-start", daemon=True)
        self._starting.start()
        return self

    def wait(self) -> None:
        """Wait for a background start (or start now, without one); raise what the start raised."""
        self._start()

    def _start_on_thread(self) -> None:
        try:
            self._start()
        except BaseException as error:  # handed to the thread that waits for the session
            self._start_error = error
        self._started.set()
        self._stopped.wait()  # see start_in_background: Ray's processes live as long as this thread

    def _start(self) -> None:
        if self._starting is not None and threading.current_thread() is not self._starting:
            self._started.wait()
            if self._start_error is not None:
                raise self._start_error
            return
        set_local_env()
        import ray

        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False, "include_dashboard": False}
        if self.runtime_env:
            kwargs["runtime_env"] = self.runtime_env
        # the warning Ray logs when started off the main thread: the sweep keeps its own handler on purpose
        logging.getLogger("ray._private.worker").addFilter(_NO_SIGTERM_WARNING)  # once: same object
        if self.address:
            ray.init(address=self.address, **kwargs)
        else:
            self._temp_dir = tempfile.mkdtemp(prefix="tsray-")
            ray.init(num_cpus=self.num_cpus or os.cpu_count() or 2, _temp_dir=self._temp_dir,
                     _node_ip_address="127.0.0.1", **kwargs)
        self._owned = True

    def __exit__(self, *exc: object) -> None:
        if self._starting is not None:
            self._started.wait()  # waited for or not, what was started is stopped
        import ray

        if self._owned:
            ray.shutdown()
        if self._starting is not None:
            self._stopped.set()
            self._starting.join()
            self._starting = None
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


class _NoSigtermWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


_NO_SIGTERM_WARNING = _NoSigtermWarning()
