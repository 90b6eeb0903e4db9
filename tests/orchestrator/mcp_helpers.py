"""MCP servers for the tests: the example notes server over stdio or HTTP, and broken ones."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "tasks"
NOTES_DATASET = EXAMPLES / "notes.jsonl"
BAD_SERVER = Path(__file__).resolve().parent / "mcp_servers" / "bad_notes_server.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def notes_http_server() -> Iterator[str]:
    """The example notes server on streamable HTTP, on a free loopback port; yields its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(EXAMPLES / "notes_server.py"), "--http", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None:
                raise RuntimeError("the notes HTTP server exited")
            time.sleep(0.2)
        else:
            raise RuntimeError("the notes HTTP server did not start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
