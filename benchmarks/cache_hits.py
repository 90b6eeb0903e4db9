"""What a response-cache hit costs, per call, in each place it is paid.

The driver owns the cache file and ships each runner batch the entries of its episodes, so a hit
costs: the driver's write when the answer was first stored, the driver's SQLite lookup by the
batch's scopes, the bytes shipped to the runner, and on the runner the key (a hash of the whole
request), the decode of the stored completion and the ``calls`` record. Workload: 2,280 episodes
(the four tasks × 20 seeds, one simulated model) of five calls each, over a conversation growing by
a tool call and its result per call; batches of 80 episodes, as a runner at 64 slots gets them.

    python benchmarks/cache_hits.py [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.agent import ModelCall  # noqa: E402 - after the path setup
from orchestrator.cache import (  # noqa: E402
    ENTRIES_SCHEMA,
    ResponseStore,
    RunnerCache,
    encode,
    endpoint_identity,
    request_key,
    scope_of,
)
from orchestrator.config import load_config  # noqa: E402
from orchestrator.plan import build_plan  # noqa: E402
from providers.types import Completion, CompletionRequest, Message, ToolCall  # noqa: E402

CALLS_PER_EPISODE = 5
BATCH = 80


def measure(directory: Path) -> str:
    sweep = {"name": "hits", "tasks": ["typewriter_single", "multiverse_math", "relational_data", "typewriter_26"],
             "seeds": 20, "models": [{"id": "m", "provider": "simulated", "model": "oracle"}],
             "cache": {"mode": "readwrite", "path": str(directory / "cache")}}
    (directory / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    config = load_config(directory / "sweep.yaml")
    plan = build_plan(config)
    store, runner = ResponseStore.open(config), RunnerCache(config)
    assert store is not None
    endpoint = endpoint_identity(config.model("m"), config)
    rows, requests = [], {}
    for spec in plan:
        messages = [Message("system", "x" * 600), Message("user", f"{spec.task} {spec.example_id} " + "y" * 100)]
        for step in range(CALLS_PER_EPISODE):
            request = CompletionRequest(model="m", messages=tuple(messages), seed=spec.seed,
                                        extra_body={"script": {"step": step}, "seed": spec.seed})
            reply = Completion(text="", tool_calls=(ToolCall(f"c{step}", "add", {"a": step}, "{}"),), input_tokens=400)
            rows.append({"key": request_key(endpoint, spec.strategy, request), "scope": scope_of(spec, config),
                         "model_id": "m", "completion": encode(reply), "created_at": 0.0})
            requests.setdefault(spec.episode_id, []).append(request)
            messages += [reply.as_message(), Message("tool", "OK " * 20, tool_call_id=f"c{step}", name="add")]
    calls = len(rows)
    t0 = time.perf_counter()
    store.store(pa.Table.from_pylist(rows, schema=ENTRIES_SCHEMA))
    stored_s = time.perf_counter() - t0
    batches = [plan[i:i + BATCH] for i in range(0, len(plan), BATCH)]
    t0 = time.perf_counter()
    shipped = [store.entries_for(batch, config) for batch in batches]
    lookup_s = time.perf_counter() - t0
    shipped_bytes = sum(len(pickle.dumps(entries)) for entries in shipped)

    async def never(*args: object, **kwargs: object) -> Completion:
        raise AssertionError("a hit must not reach the gate")

    async def hits() -> None:
        for entries, batch in zip(shipped, batches, strict=True):
            runner.receive(entries)
            for spec in batch:
                scope, mine = runner.for_episode(spec)
                call = runner.wrap(ModelCall("m", "simulated", "oracle", "m", never), scope=scope, entries=mine,
                                   strategy=spec.strategy, breaker_state=lambda: "closed")
                for request in requests[spec.episode_id]:
                    await call.complete(request, model_id="m", on_attempt=lambda record: None)

    t0 = time.perf_counter()
    asyncio.run(hits())
    hit_s = time.perf_counter() - t0
    assert runner.hits == calls
    store.close()
    return (f"{len(plan):,} episodes, {calls:,} cached calls; per call:\n"
            f"  driver, storing the answer (SQLite insert)     {stored_s / calls * 1e6:7.1f} µs\n"
            f"  driver, lookup by the batch's scopes           {lookup_s / calls * 1e6:7.1f} µs\n"
            f"  shipped to the runner with its batch           {shipped_bytes / calls:7.0f} bytes\n"
            f"  runner, key + decode + calls record (the hit)  {hit_s / calls * 1e6:7.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="where to keep the cache (default: a temp dir, removed)")
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        print(measure(args.dir))
    else:
        with tempfile.TemporaryDirectory() as directory:
            print(measure(Path(directory)))


if __name__ == "__main__":
    main()
