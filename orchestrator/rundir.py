"""The run directory (docs/design.md, "The run directory"): creating, resuming and closing it, and what it already holds.

``<output>/<name>/`` holds the frozen ``sweep.yaml``, ``manifest.json`` and one folder per Arrow
table. Opening an existing directory resumes it when the config defines the same episodes (same
episode hash: operational settings such as gate limits, retries, runners or timeouts may differ)
and refuses otherwise, naming the settings that changed; ``fresh`` opens ``<name>-2``, ``<name>-3``, … instead, so no data is ever
deleted. One sweep at a time may hold a directory (an advisory lock on ``.lock``).
``read_table``, ``iter_parts`` and ``done_episode_ids`` read what the Arrow part files hold.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
from pydantic import ValidationError

from orchestrator.config import (
    ConfigError,
    SweepConfig,
    changed_settings,
    config_hash,
    episode_hash,
    episode_settings,
    settings_hash,
)
from orchestrator.config.prices import manifest_prices
from orchestrator.config.yaml_reader import read_yaml
from orchestrator.plan import EpisodeSpec, plan_hash
from orchestrator.records import RETRYABLE_STATUSES, SCHEMAS
from providers.keys import mask_keys

RunStatus = Literal["running", "completed", "incomplete", "interrupted", "failed", "budget_reached"]
MANIFEST = "manifest.json"
FROZEN_CONFIG = "sweep.yaml"
_VERSIONED = ("toolsweep", "ray", "pyarrow", "polars", "openai", "anthropic")


class RunDirError(ValueError):
    """What a run directory holds is damaged (an unreadable part file or manifest): not a mistake
    in the config, but one the user fixes (move the file aside), so the CLI reports it in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_keys(message))


class RunDir:
    """Paths of one run directory, and its manifest."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_file: IO[str] | None = None

    @property
    def name(self) -> str:
        """The run's name, as recorded in every row's ``run`` column."""
        return self.path.name

    @property
    def episodes_dir(self) -> Path:
        return self.path / "episodes"

    @property
    def calls_dir(self) -> Path:
        return self.path / "calls"

    @property
    def events_dir(self) -> Path:
        return self.path / "events"

    @property
    def transcripts_dir(self) -> Path:
        return self.path / "transcripts"

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{self.manifest_path}: unreadable manifest ({exc})") from None
        if not isinstance(manifest, dict):
            raise RunDirError(f"{self.manifest_path}: unreadable manifest (not a JSON object)")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        # Temp file + rename: a crash leaves the old manifest or the new one, never half of one.
        tmp = self.manifest_path.with_name(MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.manifest_path)

    @classmethod
    def prepare(cls, config: SweepConfig, config_path: str | os.PathLike[str], plan: list[EpisodeSpec],
                *, fresh: bool = False, out: str | os.PathLike[str] | None = None,
                dry_run: bool = False) -> RunDir:
        """Open the run directory of this sweep under ``out`` (default ``config.output``).

        Without ``fresh``: resume ``<name>`` or the ``<name>-N`` that holds the same config (same
        config hash); else create ``<name>``; a ``<name>`` holding another config is a ConfigError
        telling the user what to do. With ``fresh``: create the first unused of ``<name>``,
        ``<name>-2``, ``<name>-3``, … With ``dry_run``: the same choice and checks, but nothing is
        created, written or locked.
        """
        root = Path(out) if out is not None else config.output
        base = cls(root / config.name)
        chash = config_hash(config)
        settings = episode_settings(config)
        if not fresh:
            for run in [base, *cls._numbered(root, config.name)]:
                if run.manifest_path.exists() and run._same_episodes(chash, settings):
                    run._check_task_sources(config)
                    if not dry_run:
                        run._lock()
                        run._resume(plan, chash, settings)
                    return run
            if base.manifest_path.exists():
                before = base._episode_settings()
                changed = changed_settings(before, settings) if before is not None else []
                what = (f"its episodes were defined otherwise (changed: {', '.join(changed)})" if changed else
                        f"it holds a run of a different config (hash {base.read_manifest().get('config_hash')}, "
                        f"this config {chash})")
                raise ConfigError(f"{base.path}: {what}; use --fresh to start a new run directory, or change `name`")
            if base._is_used():
                raise ConfigError(f"{base.path}: exists and is not a run directory (no {MANIFEST}); "
                                  "choose another name or output")
            run = base
        else:
            run = base if not base._is_used() else next(
                candidate for n in range(2, 1_000_000)
                if not (candidate := cls(root / f"{config.name}-{n}"))._is_used())
        if dry_run:
            return run
        run._lock()
        run._create(config, Path(config_path), chash, plan, fresh_of=base.name if run is not base else None)
        return run

    def _same_episodes(self, chash: str, settings: dict[str, Any]) -> bool:
        """Whether this run's episodes are those ``settings`` define, whatever its operational
        settings (a run from before the episode hash existed: the same config hash, or a frozen
        config with the same episode settings)."""
        manifest = self.read_manifest()
        if "episode_hash" in manifest:
            return bool(manifest["episode_hash"] == settings_hash(settings))
        return manifest.get("config_hash") == chash or self._episode_settings() == settings

    def _episode_settings(self) -> dict[str, Any] | None:
        """The episode settings this run was made with: from its manifest, else from its frozen
        config (read by the schema alone: its relative paths point nowhere from here); None when
        neither tells."""
        recorded = self.read_manifest().get("episode_settings")
        if isinstance(recorded, dict):
            return recorded
        try:
            data, _ = read_yaml(self.path / FROZEN_CONFIG, str(self.path / FROZEN_CONFIG))
            return episode_settings(SweepConfig.model_validate(data))
        except (ConfigError, ValidationError, OSError):
            return None

    @classmethod
    def _numbered(cls, root: Path, name: str) -> list[RunDir]:
        """The existing ``<name>-N`` directories (N ≥ 2), by N."""
        numbered = []
        for path in root.glob(f"{name}-*"):
            suffix = path.name[len(name) + 1:]
            if suffix.isdigit() and int(suffix) >= 2 and path.is_dir():
                numbered.append((int(suffix), cls(path)))
        return [run for _, run in sorted(numbered, key=lambda pair: pair[0])]

    def _is_used(self) -> bool:
        return self.path.exists() and any(p.name != ".lock" for p in self.path.iterdir())

    def _create(self, config: SweepConfig, config_path: Path, chash: str, plan: list[EpisodeSpec],
                *, fresh_of: str | None) -> None:
        for folder in (self.episodes_dir, self.calls_dir, self.events_dir, self.transcripts_dir):
            folder.mkdir(parents=True, exist_ok=True)
        (self.path / FROZEN_CONFIG).write_text(config_path.read_text(encoding="utf-8"), encoding="utf-8")
        now = _now()
        self.write_manifest({
            "name": config.name, "run": self.name, "fresh_of": fresh_of,
            "config_hash": chash, "plan_hash": plan_hash(plan), "episodes_planned": len(plan),
            "episode_hash": episode_hash(config), "episode_settings": episode_settings(config),
            "scoring": config.scoring, "datasets": {t.name: t.dataset for t in config.tasks},
            "task_sources": task_source_hashes(config),
            "versions": versions(), "created_at": now, "started_at": now, "finished_at": None,
            "resumes": 0, "status": "running", "counts": None,
            # per model id: the price its costs use and where it came from (price_source)
            "prices": manifest_prices(config.models),
        })

    def _resume(self, plan: list[EpisodeSpec], chash: str, settings: dict[str, Any]) -> None:
        manifest = self.read_manifest()
        for folder in (self.episodes_dir, self.calls_dir, self.events_dir, self.transcripts_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # The same config can plan differently when the task datasets changed; record what runs now.
        # config_hash is the whole config's (as it always was), of this session: its operational
        # settings may differ from the last one's; the episode settings may not.
        manifest.update({
            "config_hash": chash, "episode_hash": settings_hash(settings), "episode_settings": settings,
            "plan_hash": plan_hash(plan), "episodes_planned": len(plan), "versions": versions(),
            "started_at": _now(), "finished_at": None, "resumes": manifest.get("resumes", 0) + 1,
            "status": "running",
        })
        self.write_manifest(manifest)

    def _check_task_sources(self, config: SweepConfig) -> None:
        """A resumed run must run the same code and data for the sweep's own tasks as it started
        with: refuse when a plugin's source hash changed (the built-ins change with ToolSweep's
        version, recorded in ``versions``)."""
        recorded = self.read_manifest().get("task_sources") or {}
        for name, digest in task_source_hashes(config).items():
            if recorded.get(name) != digest:
                raise ConfigError(
                    f"{self.path}: task {name!r} changed since this run started (source hash "
                    f"{recorded.get(name)}, now {digest}); use --fresh to start a new run directory")

    def finish(self, status: RunStatus, counts: dict[str, int], **more: Any) -> None:
        """Record how the sweep ended: its status and counts (e.g. episodes per status), and any
        ``more`` (the budget and what was spent); releases the directory."""
        manifest = self.read_manifest()
        manifest.update({"finished_at": _now(), "status": status, "counts": counts, **more})
        self.write_manifest(manifest)
        self.close()

    def _lock(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        # A file object, so the lock also goes when this RunDir is garbage collected.
        lock_file = open(self.path / ".lock", "a")  # noqa: SIM115 - held for the RunDir's lifetime
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise ConfigError(f"{self.path}: another sweep is running in this directory") from None
        self._lock_file = lock_file

    def close(self) -> None:
        """Let another sweep open this directory (``finish`` does this too; so does the end of the
        process, or of this object)."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def task_source_hashes(config: SweepConfig) -> dict[str, str]:
    """Task name → source hash of the sweep's own tasks (plugins and MCP servers)."""
    return {source.name: source.digest for source in config.task_sources if source.digest}


def read_table(run_dir: RunDir | str | os.PathLike[str], table: str,
               columns: Sequence[str] | None = None) -> pa.Table:
    """Every row of one table (``episodes``, ``calls``, ``events`` or ``transcripts``) of a run directory, only
    ``columns`` (default: all); an empty table when nothing is written yet.

    Parts appear by atomic rename, so temp files (``*.tmp``, dot-files) are skipped and an
    unreadable part means outside damage: a RunDirError naming the file, rather than silently
    leaving its rows out (or, on resume, running its episodes twice).
    """
    parts = list(iter_parts(run_dir, table, columns))
    if not parts:
        return SCHEMAS[table].empty_table().select(list(columns) if columns is not None else SCHEMAS[table].names)
    return pa.concat_tables(parts)


def iter_parts(run_dir: RunDir | str | os.PathLike[str], table: str,
               columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
    """What :func:`read_table` returns, one part file at a time: for aggregates whose memory must
    not grow with the run."""
    names = list(columns) if columns is not None else SCHEMAS[table].names
    for part in part_files(run_dir, table):
        yield _read_part(part, names)


def part_files(run_dir: RunDir | str | os.PathLike[str], table: str) -> list[Path]:
    """The whole part files of one table, in the order they were written (temp files skipped).

    A transcripts part counts only beside the episodes part of its flush (same name): one left
    alone by a crash between the two renames belongs to episodes that resume runs again."""
    root = run_dir.path if isinstance(run_dir, RunDir) else Path(run_dir)
    folder = root / table
    if not folder.is_dir():
        return []
    parts = sorted(p for p in folder.glob("*.arrow") if not p.name.startswith("."))
    if table == "transcripts":
        parts = [p for p in parts if (root / "episodes" / p.name).exists()]
    return parts


def _read_part(part: Path, columns: list[str], optional: Sequence[str] = ()) -> pa.Table:
    try:
        # Memory-mapped and (but for transcripts) uncompressed: only the selected columns' pages are read.
        with pa.memory_map(str(part)) as source:
            whole = pa.ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunDirError(f"{part}: unreadable part file ({exc}); move it aside to re-run its episodes") from None
    missing = [name for name in columns if name not in whole.schema.names]
    if missing:
        raise RunDirError(f"{part}: part file without column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    # ``optional``: columns added since a part may have been written, selected when it has them
    return whole.select([*columns, *(name for name in optional if name in whole.schema.names)])


def done_episode_ids(run_dir: RunDir | str | os.PathLike[str]) -> set[str]:
    """The ``episode_id`` of every row in ``episodes/*.arrow`` (what resume skips)."""
    return set(read_table(run_dir, "episodes", ["episode_id"])["episode_id"].to_pylist())


def latest_attempts(run_dir: RunDir | str | os.PathLike[str]) -> dict[str, tuple[int, str]]:
    """Episode id → (attempt, status) of each episode's latest row: a row of ``sweep --retry-errors``
    supersedes the earlier ones, which stay on disk. Parts written before the ``attempt`` column
    hold first attempts."""
    latest: dict[str, tuple[int, str]] = {}
    for part in part_files(run_dir, "episodes"):
        table = _read_part(part, ["episode_id", "status"], optional=["attempt"])
        attempts = table["attempt"].to_pylist() if "attempt" in table.column_names else [1] * table.num_rows
        for eid, status, attempt in zip(table["episode_id"].to_pylist(), table["status"].to_pylist(), attempts,
                                        strict=True):
            if eid not in latest or attempt > latest[eid][0]:
                latest[eid] = (attempt, status)
    return latest


def failed_attempts(run_dir: RunDir | str | os.PathLike[str]) -> dict[str, int]:
    """Episode id → attempt of every episode whose latest attempt ended in a retryable status
    (``records.RETRYABLE_STATUSES``): what ``sweep --retry-errors`` runs again, as attempt + 1."""
    return {eid: attempt for eid, (attempt, status) in latest_attempts(run_dir).items()
            if status in RETRYABLE_STATUSES}


def versions() -> dict[str, str | None]:
    """Versions of Python and the libraries that shape results (None when not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
