"""Lazy Polars scans over the Arrow part files of one or more run directories.

A run directory holds ``manifest.json`` and three table directories (``episodes/``, ``calls/``,
``events/``) of Arrow IPC part files. A table directory may be missing or empty (nothing finished
yet): its scan is then an empty frame with the expected columns, so every table downstream is
simply empty rather than an error.

The columns checked here are the ones the analysis reads; the rest of a part file (the
``tool_calls`` lists, answers, messages) is left to projection pushdown and never read. Columns
the analysis can do without (``difficulty``, ``judge_correct``, ``breaker_state``, …) are
optional: a part file without them reads them as null, so older parts load beside newer ones.
The ``run`` column is set from the manifest's name, so two directories always stay apart (two
runs of the same name, such as ``x`` and its ``--fresh`` copy ``x-2``, by their directories' names).
An episode run again by ``sweep --retry-errors`` has several rows; every episodes scan here keeps
only its latest attempt (``latest_attempts``), while the calls of every attempt stay (they were
real HTTP attempts).
Part files whose name starts with a dot are skipped (a writer's temporary files).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

TABLES = ("episodes", "calls", "events")

REQUIRED_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "episodes": {
        "run": pl.String(),
        "episode_id": pl.String(),
        "model_id": pl.String(),
        "provider": pl.String(),
        "task": pl.String(),
        "example_id": pl.String(),
        "seed": pl.Int64(),
        "strategy": pl.String(),
        "status": pl.String(),
        "correct": pl.Boolean(),
        "state_correct": pl.Boolean(),
        "steps_match": pl.Boolean(),
        "step_ratio": pl.Float64(),
        "n_steps": pl.Int64(),
        "expected_steps": pl.Int64(),
        "n_attempts": pl.Int64(),
        "input_tokens": pl.Int64(),
        "output_tokens": pl.Int64(),
        "cost_usd": pl.Float64(),
        "started_at": pl.Float64(),
        "duration_s": pl.Float64(),
    },
    "calls": {
        "run": pl.String(),
        "episode_id": pl.String(),
        "provider": pl.String(),
        "model_id": pl.String(),
        "step": pl.Int64(),
        "attempt": pl.Int64(),
        "outcome": pl.String(),
        "http_status": pl.Int64(),
        "latency_s": pl.Float64(),
        "input_tokens": pl.Int64(),
        "output_tokens": pl.Int64(),
        "started_at": pl.Float64(),
    },
    "events": {
        "run": pl.String(),
        "provider": pl.String(),
        "runner": pl.String(),
        "kind": pl.String(),
        "at": pl.Float64(),
        "from_state": pl.String(),
        "to_state": pl.String(),
    },
}

OPTIONAL_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "episodes": {"judge_correct": pl.Boolean(), "difficulty": pl.Int64(), "model": pl.String(),
                 "reasoning_tokens": pl.Int64(), "cached_input_tokens": pl.Int64(), "truncated": pl.Boolean(),
                 "reasoning": pl.String(), "dataset": pl.String(), "scoring": pl.String(), "attempt": pl.Int64(),
                 "judge_error": pl.String()},
    "calls": {"retry_after_s": pl.Float64(), "breaker_state": pl.String(), "reasoning_tokens": pl.Int64(),
              "cached_input_tokens": pl.Int64(), "served_model": pl.String(), "batch_id": pl.String(),
              "ttft_s": pl.Float64(), "output_tokens_per_s": pl.Float64()},
    "events": {"value": pl.Float64(), "detail": pl.String()},
}


# A rescoring's table (``scores/<name>/scores/*.arrow``): these replace the episodes' columns of
# the same names when a report selects it.
SCORE_COLUMNS: dict[str, pl.DataType] = {
    "episode_id": pl.String(),
    "correct": pl.Boolean(),
    "judge_correct": pl.Boolean(),
    "state_correct": pl.Boolean(),
    "steps_match": pl.Boolean(),
    "step_ratio": pl.Float64(),
    "scoring": pl.String(),
}


class AnalysisError(Exception):
    """A user mistake the analysis cannot work around (bad directory, missing columns)."""


@dataclass(frozen=True)
class RunInfo:
    name: str
    path: Path
    episodes_planned: int | None
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RunData:
    """The three tables of every loaded run, concatenated (the ``run`` column tells them apart)."""

    runs: list[RunInfo]
    episodes: pl.LazyFrame
    calls: pl.LazyFrame
    events: pl.LazyFrame

    def collect(self) -> RunData:
        """Read the columns the analysis needs into memory once, so tables do not rescan files."""
        frames = pl.collect_all([self.episodes, self.calls, self.events])
        return RunData(self.runs, *(frame.lazy() for frame in frames))


def _empty(table: str) -> pl.LazyFrame:
    return pl.LazyFrame(schema={**REQUIRED_COLUMNS[table], **OPTIONAL_COLUMNS[table]})


def _compatible(actual: pl.DataType, expected: pl.DataType) -> bool:
    if actual == expected or actual == pl.Null():
        return True
    return (actual.is_integer() and expected.is_integer()) or (actual.is_float() and expected.is_float())


def _read_manifest(run_dir: Path) -> RunInfo:
    if not run_dir.is_dir():
        raise AnalysisError(f"not a directory: {run_dir}")
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise AnalysisError(f"not a run directory (no manifest.json): {run_dir}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnalysisError(f"unreadable manifest {manifest_path}: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("name"), str):
        raise AnalysisError(f"manifest without a 'name': {manifest_path}")
    planned = manifest.get("episodes_planned")
    return RunInfo(
        name=manifest["name"],
        path=run_dir,
        episodes_planned=planned if isinstance(planned, int) else None,
        manifest=manifest,
    )


def _part_schema(part: Path) -> dict[str, pl.DataType]:
    try:
        return pl.read_ipc_schema(part)
    except (pl.exceptions.PolarsError, OSError) as exc:  # garbage → ComputeError, empty file → OSError
        raise AnalysisError(f"not an Arrow IPC file: {part} ({type(exc).__name__})") from None


def _normalize(
    scan: pl.LazyFrame, schema: dict[str, pl.DataType], table: str, where: Path, run_name: str
) -> pl.LazyFrame:
    """Check one schema's columns and bring the scan to the expected columns and types."""
    required = REQUIRED_COLUMNS[table]
    missing = [name for name in required if name not in schema]
    if missing:
        raise AnalysisError(f"{table} part {where} is missing columns: {', '.join(missing)}")
    columns: list[pl.Expr] = [pl.lit(run_name).alias("run")]  # the directory names the run
    for name, dtype in {**required, **OPTIONAL_COLUMNS[table]}.items():
        if name == "run":
            continue
        if name not in schema:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        if not _compatible(schema[name], dtype):
            raise AnalysisError(
                f"{table} column '{name}' in {where} has type {schema[name]}, expected {dtype}"
            )
        columns.append(pl.col(name).cast(dtype))
    return scan.select(columns)


def scan_table(run: RunInfo, table: str) -> pl.LazyFrame:
    """One table of one run as a lazy scan over its part files (grouped by schema)."""
    parts = sorted(p for p in (run.path / table).glob("*.arrow") if not p.name.startswith("."))
    if not parts:
        return _empty(table)
    by_schema: dict[tuple[tuple[str, str], ...], tuple[dict[str, pl.DataType], list[Path]]] = {}
    for part in parts:
        schema = _part_schema(part)
        key = tuple((name, str(dtype)) for name, dtype in schema.items())
        by_schema.setdefault(key, (schema, []))[1].append(part)
    scans = [
        _normalize(pl.scan_ipc(files), schema, table, files[0], run.name)
        for schema, files in by_schema.values()
    ]
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="vertical")


def scan_scores(run: RunInfo, name: str) -> pl.LazyFrame:
    """The scores of the rescoring ``scores/<name>`` of one run (``meta.json`` marks it finished)."""
    directory = run.path / "scores" / name
    if not (directory / "meta.json").is_file():
        found = sorted(p.parent.name for p in (run.path / "scores").glob("*/meta.json"))
        raise AnalysisError(f"run '{run.name}' has no scores '{name}' "
                            f"({'its rescorings: ' + ', '.join(found) if found else 'it was never rescored'})")
    parts = sorted(p for p in (directory / "scores").glob("*.arrow") if not p.name.startswith("."))
    if not parts:
        return pl.LazyFrame(schema=SCORE_COLUMNS)
    for part in parts:
        schema = _part_schema(part)
        missing = [column for column in SCORE_COLUMNS if column not in schema]
        if missing:
            raise AnalysisError(f"scores part {part} is missing columns: {', '.join(missing)}")
    return pl.scan_ipc(parts).select([pl.col(c).cast(t) for c, t in SCORE_COLUMNS.items()])


def latest_attempts(episodes: pl.LazyFrame) -> pl.LazyFrame:
    """Each episode's row of its latest attempt (``attempt`` null in runs written before it
    existed: a first attempt)."""
    attempt = pl.col("attempt").fill_null(1)
    return episodes.filter(attempt == attempt.max().over("run", "episode_id"))


def _with_scores(episodes: pl.LazyFrame, scores: pl.LazyFrame) -> pl.LazyFrame:
    """The episodes with their score columns taken from ``scores`` (null where it has no row)."""
    replaced = [c for c in SCORE_COLUMNS if c != "episode_id"]
    order = episodes.collect_schema().names()
    return episodes.drop(replaced).join(scores, on="episode_id", how="left").select(order)


def load_runs(run_dirs: Sequence[Path | str], scores: str | None = None) -> RunData:
    """Scan every table of the given run directories; raise :class:`AnalysisError` on a bad one.
    ``scores``: the rescoring (``scores/<name>``) whose scores replace each run's own."""
    if not run_dirs:
        raise AnalysisError("no run directory given")
    runs = _distinct_names([_read_manifest(Path(d)) for d in run_dirs])
    scans = {table: [scan_table(run, table) for run in runs] for table in TABLES}
    scans["episodes"] = [latest_attempts(frame) for frame in scans["episodes"]]
    if scores is not None:
        scans["episodes"] = [_with_scores(frame, scan_scores(run, scores))
                             for frame, run in zip(scans["episodes"], runs, strict=True)]
    tables = {table: pl.concat(frames, how="vertical") for table, frames in scans.items()}
    return RunData(runs=runs, **tables)


def _distinct_names(runs: list[RunInfo]) -> list[RunInfo]:
    """The runs, each named apart: by its manifest's name, else (two runs of one name, e.g. a run
    and its ``--fresh`` copy) by its directory's name, else by its path."""
    def shared(names: list[str]) -> set[str]:
        return {name for name in names if names.count(name) > 1}

    by_name = shared([run.name for run in runs])
    by_dir = shared([run.path.name for run in runs if run.name in by_name])
    if len({run.path.resolve() for run in runs}) < len(runs):
        twice = next(run.path for run in runs if [r.path.resolve() for r in runs].count(run.path.resolve()) > 1)
        raise AnalysisError(f"run directory given twice: {twice}")
    return [
        run if run.name not in by_name
        else replace(run, name=run.path.name if run.path.name not in by_dir else str(run.path))
        for run in runs
    ]


def scan_columns(run: RunInfo, table: str, columns: dict[str, pl.DataType]) -> pl.LazyFrame:
    """Chosen columns of one table of one run, ``run`` first, whatever each part holds.

    For the columns the tables above never read (the episodes' ``tool_calls``, ``answer``,
    ``error_message``): a column a part file lacks reads as null, so old parts load beside new.
    Episodes: each episode's latest attempt only.
    """
    if table == "episodes":
        return latest_attempts(_scan_columns(run, table, {**columns, **_ATTEMPT_KEYS})).select("run", *columns)
    return _scan_columns(run, table, columns)


_ATTEMPT_KEYS: dict[str, pl.DataType] = {"episode_id": pl.String(), "attempt": pl.Int64()}


def _parts(run: RunInfo, table: str) -> list[Path]:
    return sorted(p for p in (run.path / table).glob("*.arrow") if not p.name.startswith("."))


def _scan_columns(run: RunInfo, table: str, columns: dict[str, pl.DataType],
                  parts: Sequence[Path] | None = None) -> pl.LazyFrame:
    """Chosen columns of ``parts`` (default: every part file of the table), ``run`` first."""
    parts = _parts(run, table) if parts is None else parts
    schema = {"run": pl.String(), **columns}
    if not parts:
        return pl.LazyFrame(schema=schema)
    by_schema: dict[tuple[tuple[str, str], ...], tuple[dict[str, pl.DataType], list[Path]]] = {}
    for part in parts:
        present = {name: dtype for name, dtype in _part_schema(part).items() if name in columns}
        key = tuple((name, str(dtype)) for name, dtype in present.items())
        by_schema.setdefault(key, (present, []))[1].append(part)
    scans = [
        pl.scan_ipc(files).select(
            pl.lit(run.name).alias("run"),
            *[
                _as_read(name, present[name], dtype) if name in present else pl.lit(None, dtype=dtype).alias(name)
                for name, dtype in columns.items()
            ],
        )
        for present, files in by_schema.values()
    ]
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="vertical")


def _as_read(name: str, written: pl.DataType, wanted: pl.DataType) -> pl.Expr:
    """A column as the reader asked for it. A list of structs (``episodes.tool_calls``) gains fields
    over time (``kind``): each part's is brought to the fields asked for, one it lacks read as null,
    so parts written before and after a field was added load together."""
    if written == wanted or not (isinstance(written, pl.List) and isinstance(wanted, pl.List)
                                 and isinstance(written.inner, pl.Struct) and isinstance(wanted.inner, pl.Struct)):
        return pl.col(name)
    has = {field.name for field in written.inner.fields}
    fields = [pl.element().struct.field(f.name).cast(f.dtype) if f.name in has else pl.lit(None, dtype=f.dtype).alias(f.name)
              for f in wanted.inner.fields]
    return pl.col(name).list.eval(pl.struct(fields)).alias(name)


def latest_episode_parts(run: RunInfo, columns: dict[str, pl.DataType]) -> Iterator[pl.DataFrame]:
    """Chosen columns of a run's episodes (``run`` first), one part file at a time, each episode's
    latest attempt only: a run of any size read in memory bounded by its largest part, where
    :func:`scan_columns` holds every row at once (the ``over`` window of :func:`latest_attempts`).

    The attempts a retry superseded are found first from the rows with ``attempt`` > 1, few in any
    run; a part's rows of an episode retried later are then left out of that part."""
    parts = _parts(run, "episodes")
    attempt = pl.col("attempt").fill_null(1)
    retried = [_scan_columns(run, "episodes", _ATTEMPT_KEYS, [part]).filter(attempt > 1).collect() for part in parts]
    latest = (pl.concat(retried).group_by("episode_id").agg(attempt.max().alias("_latest"))
              if any(frame.height for frame in retried) else None)
    for part in parts:
        frame = _scan_columns(run, "episodes", {**columns, **_ATTEMPT_KEYS}, [part])
        if latest is not None:
            frame = frame.join(latest.lazy(), on="episode_id", how="left").filter(
                pl.col("_latest").is_null() | (attempt == pl.col("_latest")))
        yield frame.select("run", *columns).collect()
