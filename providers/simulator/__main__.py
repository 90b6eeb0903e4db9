"""``python -m providers.simulator``: serve the simulator on loopback until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from providers.simulator.config import BatchConfig, ModelProfile, profiles_from_json
from providers.simulator.server import SimulatorServer, require_loopback

PARENT_POLL_S = 0.5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m providers.simulator",
        description="Simulated model provider speaking the OpenAI Chat Completions (/v1/chat/completions) "
                    "and Anthropic Messages (/v1/messages) wire formats, with /stats and /health.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to bind; 0 picks a free one (default 8787)")
    parser.add_argument("--config", type=Path, help="JSON file: {model name: profile} (policy, latency_ms, faults, noise, seed)")
    parser.add_argument("--seed", type=int, default=0, help="server seed for faults and policies (default 0)")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file once serving")
    parser.add_argument("--batch", help="JSON: how the batch API behaves (processing_s, failure_rate, "
                        "expire_after_s, seed)")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one exits")
    return parser


def _load_profiles(parser: argparse.ArgumentParser, path: Path | None) -> dict[str, ModelProfile]:
    if path is None:
        return {}
    try:
        return profiles_from_json(path.read_bytes())
    except OSError as exc:
        parser.error(f"cannot read --config {path}: {exc.strerror}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        parser.error(f"invalid --config {path}: {first['msg']}" + (f" (at {where})" if where else ""))


def _write_port(path: Path, port: int) -> None:
    """Atomically, so a reader never sees a half-written number."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(str(port))
    os.replace(temporary, path)


async def _watch_parent(stop: asyncio.Event) -> None:
    parent = os.getppid()
    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
        await asyncio.sleep(PARENT_POLL_S)


async def _serve(args: argparse.Namespace, profiles: dict[str, ModelProfile]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(signum, stop.set)
    async with SimulatorServer(profiles, seed=args.seed, host=args.host, port=args.port, batch=args.batch) as server:
        if args.port_file:
            _write_port(args.port_file, server.port)
        print(f"simulator listening on {server.base_url}", flush=True)
        watcher = asyncio.create_task(_watch_parent(stop)) if args.exit_with_parent else None
        await stop.wait()
        if watcher:
            watcher.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.host = require_loopback(args.host)
    except ValueError as exc:
        parser.error(str(exc))
    profiles = _load_profiles(parser, args.config)
    try:
        args.batch = BatchConfig.model_validate_json(args.batch) if args.batch else None
    except ValidationError as exc:
        parser.error(f"invalid --batch: {exc.errors()[0]['msg']}")
    try:
        asyncio.run(_serve(args, profiles))
    except OSError as exc:
        print(f"simulator: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
