"""The response cache: keys that keep seeds apart, exact replay, hits that never reach the gate,
errors never stored, a foreign file refused at start."""

from __future__ import annotations

import asyncio
import sqlite3

import polars as pl
import pytest

from orchestrator.agent import ModelCall
from orchestrator.cache import FILE_NAME, CacheError, ResponseStore, RunnerCache, decode, encode, request_key
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.plan import build_plan
from orchestrator.sweep import run_sweep
from providers.errors import Refusal
from providers.types import Completion, CompletionRequest, Message, Reasoning, ToolCall, ToolSpec
from tests.orchestrator.sweep_helpers import calls, episodes, simulator_stats, write_config

# what two runs of the same episodes may differ in: where and when they ran, and how they were served
VOLATILE = ["run", "started_at", "duration_s", "node_id", "n_attempts", "n_retries", "cached_calls"]


def reasoning_completion() -> Completion:
    return Completion(
        text="", tool_calls=(ToolCall("call_1", "add", {"a": 1.5, "b": [2, {"c": None}]}, '{"a": 1.5}'),),
        finish_reason="tool_calls", input_tokens=120, output_tokens=300, latency_s=0.25, reasoning_tokens=250,
        cached_input_tokens=64, truncated=False, reasoning="adding first",
        replay=({"type": "reasoning", "id": "rs_9", "encrypted_content": "gAAA==", "summary": []},
                {"type": "function_call", "call_id": "call_1", "name": "add", "arguments": '{"a": 1.5}'}))


def request(seed: int = 0, **changes) -> CompletionRequest:
    fields = dict(model="m", messages=(Message("system", "s"), Message("user", "q")),
                  tools=(ToolSpec("add", "adds", {"type": "object"}),), temperature=0.0, seed=seed, max_tokens=64,
                  reasoning=Reasoning(effort="low"))
    fields.update(changes)
    return CompletionRequest(**fields)


def test_a_stored_completion_comes_back_equal_replay_and_all():
    completion = reasoning_completion()
    assert decode(encode(completion)) == completion
    assert decode(encode(completion)).as_message() == completion.as_message()


def test_the_key_covers_the_request_and_the_seed_but_not_the_timeout():
    endpoint = {"provider": "openai", "model": "gpt"}
    key = request_key(endpoint, "native", request())
    assert request_key(endpoint, "native", request(timeout_s=5.0)) == key
    different = [
        request_key(endpoint, "native", request(seed=1)),  # promptfoo#360: never collapse seeds
        request_key(endpoint, "text", request()),
        request_key({**endpoint, "model": "gpt-2"}, "native", request()),
        request_key(endpoint, "native", request(temperature=0.5)),
        request_key(endpoint, "native", request(reasoning=Reasoning(effort="high"))),
        request_key(endpoint, "native", request(tools=())),
        request_key(endpoint, "native", request(messages=(
            Message("system", "s"), Message("user", "q"), Message("assistant", "", replay=({"id": "rs_1"},))))),
        request_key(endpoint, "native", request(messages=(
            Message("system", "s"), Message("user", "q"), Message("assistant", "", replay=({"id": "rs_2"},))))),
    ]
    assert len({key, *different}) == len(different) + 1


def runner_cache(tmp_path, mode: str):
    path = write_config(tmp_path, tasks=["typewriter_single"], cache={"mode": mode, "path": str(tmp_path / "c")},
                        models=[{"id": "m", "provider": "simulated", "model": "oracle"}])
    config = load_config(path)
    return config, RunnerCache(config), build_plan(config)[0]


def test_a_hit_never_reaches_the_gate_and_is_a_cached_row(tmp_path):
    config, cache, spec = runner_cache(tmp_path, "readwrite")
    sent: list[CompletionRequest] = []
    answers = iter([reasoning_completion(), Refusal("no")])

    async def gate(req, *, model_id, on_attempt):
        sent.append(req)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    call = ModelCall("m", "simulated", "oracle", "m", gate)
    scope, entries = cache.for_episode(spec)
    records: list = []
    wrapped = cache.wrap(call, scope=scope, entries=entries, strategy="native", breaker_state=lambda: "closed")
    first = asyncio.run(wrapped.complete(request(), model_id="m", on_attempt=records.append))
    with pytest.raises(Refusal):
        asyncio.run(wrapped.complete(request(seed=1), model_id="m", on_attempt=records.append))
    stored = cache.drain()
    assert stored is not None and stored.num_rows == 1, "only the success is stored, never the refusal"

    # the driver ships the entry back with the episode's next batch
    cache.receive({scope: dict(zip(stored["key"].to_pylist(), stored["completion"].to_pylist(), strict=True))})
    scope, entries = cache.for_episode(spec)
    wrapped = cache.wrap(call, scope=scope, entries=entries, strategy="native", breaker_state=lambda: "open")
    again = asyncio.run(wrapped.complete(request(timeout_s=1.0), model_id="m", on_attempt=records.append))
    assert again == first and len(sent) == 2, "a hit makes no call"
    (hit,) = records
    assert (hit.outcome, hit.http_status, hit.input_tokens, hit.reasoning_tokens, hit.breaker_state) == (
        "cached", None, 120, 250, "open")


def test_a_foreign_or_damaged_cache_file_is_refused_in_one_line(tmp_path, capsys):
    config, _, _ = runner_cache(tmp_path, "readwrite")
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / FILE_NAME).write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CacheError, match="not a ToolSweep response cache"):
        ResponseStore.open(config)
    (directory / FILE_NAME).unlink()
    with sqlite3.connect(directory / FILE_NAME) as other:
        other.execute("CREATE TABLE meta (name TEXT, value TEXT)")
        other.execute("INSERT INTO meta VALUES ('format', 'someone-else')")
    with pytest.raises(CacheError, match="format 'someone-else'"):
        ResponseStore.open(config)
    # from the command line: exit 2, one line, before any runner starts
    assert main(["sweep", str(tmp_path / "sweep.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and FILE_NAME in err


def test_read_on_a_missing_cache_creates_nothing_and_finds_nothing(tmp_path):
    config, _, spec = runner_cache(tmp_path, "read")
    store = ResponseStore.open(config)
    assert store is not None and store.entries_for([spec], config) == {}
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- through real sweeps

def sweep(path, **kwargs) -> int:
    return run_sweep(load_config(path), config_path=path, **kwargs)


def requests_served(run) -> int:
    return sum(s["requests"] for s in simulator_stats(run))


def same_episodes(a: pl.DataFrame, b: pl.DataFrame) -> None:
    a, b = (frame.drop(VOLATILE).sort("episode_id") for frame in (a, b))
    assert a.to_dicts() == b.to_dicts()


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_a_second_readwrite_run_makes_no_http_attempt_and_records_the_same_episodes(tmp_path):
    cache = {"mode": "readwrite", "path": str(tmp_path / "cache")}
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 3}, {"name": "multiverse_math",
                                                                                  "limit": 3}],
                        strategies=["native", "text"], cache=cache,
                        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"},
                                {"id": "think", "provider": "simulated", "model": "oracle",
                                 "api_format": "openai_responses", "reasoning": {"effort": "low"}}])
    assert sweep(path) == 0
    first = tmp_path / "runs" / "e2e"
    assert requests_served(first) > 0
    assert sweep(path, fresh=True) == 0
    second = tmp_path / "runs" / "e2e-2"
    assert requests_served(second) == 0, "a hit makes no HTTP attempt"
    same_episodes(episodes(first), episodes(second))
    replayed = calls(second)
    assert set(replayed["outcome"]) == {"cached"}
    assert replayed.height == calls(first).height
    assert (episodes(second)["n_attempts"] == 0).all()
    a, b = episodes(first).sort("episode_id"), episodes(second).sort("episode_id")
    assert a["n_attempts"].to_list() == b["cached_calls"].to_list()


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_seeds_are_never_collapsed_into_one_cached_answer(tmp_path):
    cache = tmp_path / "cache"
    path = write_config(tmp_path, tasks=[{"name": "multiverse_math", "limit": 4}], seeds=3,
                        cache={"mode": "readwrite", "path": str(cache)},
                        models=[{"id": "noisy", "provider": "simulated", "model": "noisy",
                                 "noise": {"wrong_tool": 0.3, "wrong_argument": 0.3, "stop_early": 0.2}}])
    assert sweep(path) == 0
    first = tmp_path / "runs" / "e2e"
    ok = calls(first).filter(pl.col("outcome") == "ok")
    with sqlite3.connect(cache / FILE_NAME) as db:
        keys, scopes = db.execute("SELECT COUNT(DISTINCT key), COUNT(DISTINCT scope) FROM responses").fetchone()
    assert keys == ok.height == requests_served(first), "every request distinct, every answer stored"
    assert scopes == 4 * 3
    # at step 0 the three seeds' requests differ only by their seed: three entries, not one
    assert ok.filter(pl.col("step") == 0).height == 4 * 3
    df = episodes(first)
    per_example = df.group_by("example_id").agg(pl.col("answer").n_unique().alias("answers"),
                                                pl.col("n_steps").n_unique().alias("steps"))
    assert (per_example["answers"] + per_example["steps"] > 2).any(), "the seeds' answers differ"

    assert sweep(path, fresh=True) == 0
    second = tmp_path / "runs" / "e2e-2"
    assert requests_served(second) == 0
    same_episodes(df, episodes(second))  # each seed gets its own answer back


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_read_with_an_empty_cache_behaves_like_off(tmp_path):
    models = [{"id": "noisy", "provider": "simulated", "model": "noisy"}]
    tasks = [{"name": "typewriter_single", "limit": 4}]
    off = write_config(tmp_path, name="off", tasks=tasks, seeds=2, models=models)
    assert sweep(off) == 0
    read = write_config(tmp_path, name="read", tasks=tasks, seeds=2, models=models,
                        cache={"mode": "read", "path": str(tmp_path / "empty")})
    assert sweep(read) == 0
    a, b = tmp_path / "runs" / "off", tmp_path / "runs" / "read"
    assert requests_served(a) == requests_served(b) > 0
    same_episodes(episodes(a), episodes(b))
    assert "cached" not in set(calls(b)["outcome"])
    assert not (tmp_path / "empty").exists()


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_errors_are_never_cached(tmp_path):
    cache = tmp_path / "cache"
    path = write_config(tmp_path, tasks=[{"name": "multiverse_math", "limit": 6}], seeds=2,
                        cache={"mode": "readwrite", "path": str(cache)},
                        providers={"simulated": {"max_attempts": 4, "breaker": {"failures": 100}}},
                        models=[{"id": "flaky", "provider": "simulated", "model": "oracle",
                                 "faults": {"http_5xx": 0.2, "refusal": 0.15}}])
    assert sweep(path) == 0
    first = tmp_path / "runs" / "e2e"
    c = calls(first)
    assert c.filter(pl.col("outcome") != "ok").height > 0
    with sqlite3.connect(cache / FILE_NAME) as db:
        (stored,) = db.execute("SELECT COUNT(*) FROM responses").fetchone()
    assert stored == c.filter(pl.col("outcome") == "ok").height
    refused = episodes(first).filter(pl.col("status") == "refused").height
    assert refused > 0

    assert sweep(path, fresh=True) == 0
    second = tmp_path / "runs" / "e2e-2"
    again = calls(second)
    # what was refused before is asked again; what succeeded is answered from the cache
    assert requests_served(second) == again.filter(pl.col("outcome") != "cached").height > 0
    assert again.filter(pl.col("outcome") == "cached").height >= stored * 0.5
