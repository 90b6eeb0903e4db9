"""RaySession's background start: Ray usable once waited for, a failed start raised to the waiter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator.raylocal import RaySession

ROOT = Path(__file__).resolve().parents[2]


def test_a_ray_started_in_the_background_outlives_the_start_and_stops_on_exit() -> None:
    # in a fresh process: this one may already hold the tests' shared Ray
    script = textwrap.dedent("""
        import threading
        from orchestrator.raylocal import RaySession

        session = RaySession(num_cpus=1).start_in_background()
        with session:
            import ray

            assert threading.current_thread() is threading.main_thread()

            @ray.remote(num_cpus=0)
            def answer():
                return 42

            # the processes Ray started from the start thread are still alive and serving
            assert ray.get(answer.remote(), timeout=120) == 42
        assert not ray.is_initialized()
        assert [t.name for t in threading.enumerate() if t.name == "ray-start"] == []
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_a_failed_background_start_is_raised_to_the_waiter(monkeypatch) -> None:
    import ray

    def refuse(*args, **kwargs):
        raise ConnectionError("no cluster at that address")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    session = RaySession(address="127.0.0.1:1").start_in_background()
    with pytest.raises(ConnectionError, match="no cluster"):
        session.wait()
    session.__exit__(None, None, None)  # nothing was started: nothing to stop, and the thread ends
    assert session._starting is None
