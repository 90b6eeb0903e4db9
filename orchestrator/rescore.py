"""``python -m orchestrator rescore RUN [--scoring PROFILE] [--judge MODEL_ID]``: score a finished
run again without calling any model under test.

Each episode's final environment is rebuilt by replaying the tool calls its transcript records, in
order, on a fresh environment of the chosen scoring profile (malformed calls included, as the
agent ran them), and the task scores the recorded answer against it. With ``--judge``, that model
(one of the run's config) grades the completed answers through its own gate, every attempt
recorded; without it no provider is called and the simulator is not started.

The new table goes beside the run's own, never over it: ``scores/<profile>-<n>/`` holds
``scores/*.arrow`` (``records.ScoreRow``), the judge's ``calls/*.arrow`` and ``meta.json``, written
last (a directory without it is an interrupted rescoring, and ``report --scores`` refuses it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

import tasks
from orchestrator.agent import ModelCall, call_row
from orchestrator.capacity import gate_shares
from orchestrator.config import DEFAULT_DATASET, ConfigError, SweepConfig, load_config
from orchestrator.endpoints import Endpoints, request_model, simulator_profiles
from orchestrator.judge import judge_answer, judge_decides
from orchestrator.records import SCORED_STATUSES, SCORES_SCHEMA, CallRow, ScoreRow, to_table
from orchestrator.rundir import FROZEN_CONFIG, RunDir, RunDirError, latest_attempts, part_files
from orchestrator.transcripts import messages_of
from orchestrator.writer import write_part
from providers.types import AttemptRecord

EPISODE_COLUMNS = ["episode_id", "model_id", "task", "dataset", "example_id", "seed", "status", "answer",
                   "truncated"]
JUDGE_CONCURRENCY = 16


def rescore(run_path: Path, *, scoring: str | None = None, judge: str | None = None) -> Path:
    """Score every episode of the run again; returns the new ``scores/<name>`` directory."""
    run = RunDir(run_path)
    for needed in (run.manifest_path, run.path / FROZEN_CONFIG):
        if not needed.is_file():
            raise RunDirError(f"{run.path}: not a run directory (no {needed.name})")
    config = load_config(run.path / FROZEN_CONFIG, check_keys=False)
    profile = scoring or config.scoring
    if profile not in tasks.SCORING_PROFILES:
        raise ConfigError(f"--scoring: unknown profile {profile!r} (profiles: {', '.join(tasks.SCORING_PROFILES)})")
    if judge is not None and judge not in {m.id for m in config.models}:
        raise ConfigError(f"--judge: {judge!r} is not a model of this run "
                          f"(models: {', '.join(m.id for m in config.models)})")
    episodes = part_files(run, "episodes")
    missing = [p.name for p in episodes if not (run.transcripts_dir / p.name).exists()]
    if missing:
        raise RunDirError(f"{run.path}: {len(missing)} episodes part(s) have no transcripts (e.g. {missing[0]}; "
                          "recorded before transcripts existed): rescore needs every episode's transcript")
    out = _new_directory(run.path / "scores", profile)
    rows, calls = asyncio.run(_rescore_parts(config, run, episodes, profile, judge, out))
    if calls:
        write_part(out / "calls", to_table("calls", [c.to_dict() for c in calls]), "part")
    (out / "meta.json").write_text(json.dumps({
        "run": run.name, "scoring": profile, "judge": judge, "episodes": rows, "judge_attempts": len(calls),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2, sort_keys=True) + "\n")
    return out


async def _rescore_parts(config: SweepConfig, run: RunDir, episodes: list[Path], profile: str, judge: str | None,
                         out: Path) -> tuple[int, list[CallRow]]:
    """Score part by part (memory bounded by one part), in one event loop: the judge's client and
    gate live in it."""
    calls: list[CallRow] = []
    rows = 0
    latest = latest_attempts(run)  # an episode run again (sweep --retry-errors) is scored by its latest row
    with ExitStack() as stack:
        endpoints, judge_call = _judge(config, judge, stack, out) if judge else (None, None)
        try:
            for part in episodes:
                table = _read(part)
                attempts = table["attempt"].to_pylist() if "attempt" in table.column_names else [1] * table.num_rows
                current = [row for row, attempt in zip(table.select(EPISODE_COLUMNS).to_pylist(), attempts, strict=True)
                           if latest[row["episode_id"]][0] == attempt]
                if not current:
                    continue
                # a part holds one attempt of each of its episodes, and its transcripts the same ones
                transcripts = {row["episode_id"]: row["messages"] for row in _read(run.transcripts_dir / part.name)
                               .select(["episode_id", "messages"]).to_pylist()}
                scored = await _score_part(current, transcripts, run.name, profile, judge_call, calls)
                write_part(out / "scores", pa.Table.from_pylist([s.to_dict() for s in scored], schema=SCORES_SCHEMA),
                           "part")
                rows += len(scored)
        finally:
            if endpoints is not None:
                await endpoints.aclose()
    return rows, calls


def _new_directory(root: Path, profile: str) -> Path:
    for n in range(1, 1_000_000):
        candidate = root / f"{profile}-{n}"
        if not candidate.exists():
            candidate.mkdir(parents=True)
            return candidate
    raise RuntimeError("no free scores directory name")


def _read(path: Path) -> pa.Table:
    try:
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunDirError(f"{path}: unreadable part file ({exc})") from None


def _judge(config: SweepConfig, judge: str, stack: ExitStack, out: Path) -> tuple[Endpoints, ModelCall]:
    """The judge's ModelCall through a gate holding its endpoint's whole budget (the only caller);
    a simulated judge gets a simulator of its own, whose ``/stats`` are kept in ``out/simulator``."""
    model = config.model(judge)
    simulator_url = None
    if model.provider == "simulated":
        from providers.simulator import SimulatorProcess

        named = request_model(model)
        sim = stack.enter_context(SimulatorProcess({named: simulator_profiles(config)[named]},
                                                   seed=config.simulator.seed))
        simulator_url = sim.base_url
        stack.callback(_save_stats, sim, out / "simulator")
    endpoints = Endpoints(config, shares=gate_shares(config, 1, 0), simulator_url=simulator_url)
    return endpoints, endpoints.model_call(judge, "native")


def _save_stats(sim: Any, directory: Path) -> None:
    with contextlib.suppress(Exception):  # a dead simulator has no stats; the scores are what matter
        stats = sim.stats()
        directory.mkdir(exist_ok=True)
        (directory / f"stats-{time.time_ns()}.json").write_text(json.dumps(stats))


async def _score_part(episodes: list[dict[str, Any]], transcripts: dict[str, Any], run: str, profile: str,
                      judge: ModelCall | None, calls: list[CallRow]) -> list[ScoreRow]:
    limit = asyncio.Semaphore(JUDGE_CONCURRENCY)

    async def one(episode: dict[str, Any]) -> ScoreRow:
        row = ScoreRow(run=run, episode_id=episode["episode_id"], correct=None, judge_correct=None,
                       state_correct=None, steps_match=None, step_ratio=None, scoring=profile,
                       judge=judge.model_id if judge else None)
        if episode["status"] not in SCORED_STATUSES:
            return row
        task = tasks.get_task(episode["task"], episode["dataset"] or DEFAULT_DATASET, profile)
        example = task.example(episode["example_id"])
        messages = messages_of(transcripts.get(episode["episode_id"]) or ())
        # a fresh environment as the agent opens it (in-process tools, or an MCP server), the calls
        # replayed in the order the agent ran them, a malformed one with its raw text
        async with task.session(example) as environment:
            for message in messages:
                for call in message.tool_calls:
                    await environment.call(call.name, call.raw_arguments if call.error else call.arguments)
            await environment.settle()
            score = task.score(example, episode["answer"] or "", environment)
        truncated = bool(episode["truncated"])
        row.correct = score.correct and not truncated
        row.state_correct, row.steps_match, row.step_ratio = score.state_correct, score.steps_match, score.step_ratio
        if judge is None or episode["status"] != "completed":
            return row
        if truncated:
            row.judge_correct = False  # a cut answer is not graded, as in the sweep
            return row

        def on_attempt(record: AttemptRecord) -> None:
            # the judge's step follows the episode's model turns, as in the sweep
            calls.append(call_row(run, episode["episode_id"], sum(m.role == "assistant" for m in messages), record))

        async with limit:
            row.judge_correct, row.judge_error = await judge_answer(
                judge, task=task.name, question=example.question, reference=str(example.reference),
                answer=episode["answer"] or "", deterministic=row.correct, seed=episode["seed"],
                on_attempt=on_attempt, scoring=profile)
        if row.judge_correct is not None and judge_decides(task.name, profile):
            row.correct = row.judge_correct
        return row

    return list(await asyncio.gather(*(one(e) for e in episodes)))


def describe(out: Path) -> str:
    meta = json.loads((out / "meta.json").read_text())
    judged = f", {meta['judge_attempts']} judge attempts ({meta['judge']})" if meta["judge"] else ""
    return f"rescored {meta['episodes']} episodes ({meta['scoring']}{judged}) → {out}"
