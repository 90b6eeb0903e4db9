"""The run directory: create, resume, refuse a changed config, --fresh, dry runs, done episodes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from orchestrator.config import ConfigError, SweepConfig, config_hash, episode_hash
from orchestrator.plan import EpisodeSpec, build_plan, plan_hash
from orchestrator.records import EPISODES_SCHEMA, to_table
from orchestrator.rundir import (
    RunDir,
    RunDirError,
    done_episode_ids,
    failed_attempts,
    latest_attempts,
    read_table,
)
from tests.orchestrator.sweep_helpers import episode_row

CONFIG_TEXT = """\
name: rd
tasks: [alpha]
seeds: 2
models:
  - {id: m1, provider: simulated, model: oracle}
  - {id: m2, provider: simulated, model: noisy}
"""


def make_config(text: str = CONFIG_TEXT) -> SweepConfig:
    return SweepConfig.model_validate(yaml.safe_load(text))


def plan_for(config: SweepConfig) -> list[EpisodeSpec]:
    return build_plan(config, examples={"alpha": ["a0", "a1", "a2"]})


@pytest.fixture
def setup(tmp_path: Path):
    config_path = tmp_path / "sweep.yaml"
    config_path.write_text(CONFIG_TEXT)
    config = make_config()
    return config, config_path, plan_for(config), tmp_path / "runs"


def open_run(config, config_path, plan, out, **kwargs) -> RunDir:
    run = RunDir.prepare(config, config_path, plan, out=out, **kwargs)
    run.close()
    return run


def write_part(folder: Path, name: str, specs: list[EpisodeSpec]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    table = to_table("episodes", [episode_row(s) for s in specs])
    path = folder / name
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=2):
            writer.write_batch(batch)
    return path


def test_a_new_run_directory(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    assert run.path == out / "rd" and run.name == "rd"
    assert (run.path / "sweep.yaml").read_text() == CONFIG_TEXT
    for folder in (run.episodes_dir, run.calls_dir, run.events_dir):
        assert folder.is_dir()
    assert sorted(p.name for p in run.path.iterdir()) == [".lock", "calls", "episodes", "events", "manifest.json",
                                                          "sweep.yaml", "transcripts"], "nothing is created that stays empty"
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["config_hash"] == config_hash(config) and manifest["plan_hash"] == plan_hash(plan)
    assert manifest["episodes_planned"] == len(plan) == 12
    assert manifest["status"] == "running" and manifest["finished_at"] is None and manifest["resumes"] == 0
    assert manifest["versions"]["pyarrow"] == pa.__version__ and manifest["versions"]["python"]
    assert manifest["created_at"] == manifest["started_at"]


def test_same_config_resumes(setup):
    config, config_path, plan, out = setup
    first = open_run(config, config_path, plan, out)
    first.finish("interrupted", {"episodes": 4})
    write_part(first.episodes_dir, "part-1.arrow", plan[:4])
    again = open_run(config, config_path, plan, out)
    assert again.path == first.path
    manifest = again.read_manifest()
    assert manifest["resumes"] == 1 and manifest["status"] == "running" and manifest["finished_at"] is None
    assert done_episode_ids(again) == {s.episode_id for s in plan[:4]}


def test_changed_config_is_refused_with_one_line(setup):
    config, config_path, plan, out = setup
    open_run(config, config_path, plan, out)
    changed = make_config(CONFIG_TEXT.replace("seeds: 2", "seeds: 3"))
    with pytest.raises(ConfigError) as caught:
        RunDir.prepare(changed, config_path, plan_for(changed), out=out)
    message = str(caught.value)
    assert "\n" not in message and "--fresh" in message and str(out / "rd") in message
    assert not (out / "rd-2").exists()


def test_output_and_ray_settings_do_not_block_resume(setup):
    config, config_path, plan, out = setup
    first = open_run(config, config_path, plan, out)
    moved = make_config(CONFIG_TEXT + "ray: {runners: 6}\noutput: somewhere/\n")
    assert open_run(moved, config_path, plan, out).path == first.path


OPERATIONAL = ("providers: {simulated: {max_attempts: 1, rpm: 10, timeout_s: 5}}\n"
               "ray: {runners: 1, max_concurrency_per_runner: 3}\ncache: {mode: readwrite}\n"
               "budget: {usd: 5}\nfail_on: {failed_fraction: 0.1}\n")


def test_operational_settings_may_change_on_resume_and_the_manifest_follows(setup):
    config, config_path, plan, out = setup
    first = open_run(config, config_path, plan, out)
    assert first.read_manifest()["episode_hash"] == episode_hash(config)
    changed = make_config(CONFIG_TEXT.replace("model: noisy}", "model: noisy, gate: slow}") + OPERATIONAL)
    assert config_hash(changed) != config_hash(config) and episode_hash(changed) == episode_hash(config)
    again = open_run(changed, config_path, plan, out)
    manifest = again.read_manifest()
    assert again.path == first.path and manifest["resumes"] == 1
    assert manifest["config_hash"] == config_hash(changed)  # the whole config, of the latest session


@pytest.mark.parametrize(("old", "new", "field"), [
    ("model: noisy}", "model: noisy, temperature: 0.5}", "models.m2.temperature"),
    ("seeds: 2", "seeds: 3", "seeds"),
    ("model: noisy}", "model: noisy, faults: {http_5xx: 0.5}}", "models.m2.faults"),
    ("tasks: [alpha]", "tasks: [alpha]\nagent: {max_steps: 5}", "agent"),
])
def test_a_change_to_what_an_episode_is_is_refused_naming_the_field(setup, old, new, field):
    config, config_path, plan, out = setup
    open_run(config, config_path, plan, out)
    changed = make_config(CONFIG_TEXT.replace(old, new) + OPERATIONAL)
    with pytest.raises(ConfigError) as caught:
        RunDir.prepare(changed, config_path, plan_for(changed), out=out)
    message = str(caught.value)
    assert "\n" not in message and "--fresh" in message and f"changed: {field}" in message


def test_a_run_from_before_the_episode_hash_resumes_with_changed_operational_settings(setup):
    config, config_path, plan, out = setup
    first = open_run(config, config_path, plan, out)
    manifest = first.read_manifest()
    for key in ("episode_hash", "episode_settings"):
        del manifest[key]
    first.write_manifest(manifest)  # as the previous release wrote it: its frozen config tells the settings
    changed = make_config(CONFIG_TEXT + OPERATIONAL)
    assert open_run(changed, config_path, plan, out).path == first.path
    assert first.read_manifest()["episode_hash"] == episode_hash(config)
    first.write_manifest(manifest)  # old again; a change to what an episode is is still refused, and named
    with pytest.raises(ConfigError, match=r"\(changed: seeds\);"):
        RunDir.prepare(make_config(CONFIG_TEXT.replace("seeds: 2", "seeds: 3")), config_path, plan, out=out)


def test_failed_attempts_take_each_episodes_latest_row(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    a, b, c = plan[:3]

    def rows(spec, status, attempt=None):
        row = {**episode_row(spec), "status": status}
        return row if attempt is None else {**row, "attempt": attempt}

    full = to_table("episodes", [rows(s, "provider_failed") for s in (a, b, c)])
    legacy = full.drop_columns(["attempt"])  # a part written before the column existed
    run.episodes_dir.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(run.episodes_dir / "part-1.arrow"), "wb") as sink, \
            pa.ipc.new_file(sink, legacy.schema) as writer:
        writer.write_table(legacy)
    newer = to_table("episodes", [rows(a, "completed", 2), rows(b, "agent_error", 2)])
    with pa.OSFile(str(run.episodes_dir / "part-2.arrow"), "wb") as sink, \
            pa.ipc.new_file(sink, newer.schema) as writer:
        writer.write_table(newer)
    assert failed_attempts(run) == {b.episode_id: 2, c.episode_id: 1}
    assert latest_attempts(run)[a.episode_id] == (2, "completed")


def test_fresh_opens_a_new_numbered_directory_and_keeps_the_old(setup):
    config, config_path, plan, out = setup
    first = open_run(config, config_path, plan, out)
    part = write_part(first.episodes_dir, "part-1.arrow", plan[:2])
    second = open_run(config, config_path, plan, out, fresh=True)
    third = open_run(config, config_path, plan, out, fresh=True)
    assert (second.path.name, third.path.name) == ("rd-2", "rd-3")
    assert part.exists() and done_episode_ids(second) == set()
    assert second.read_manifest()["fresh_of"] == "rd" and second.name == "rd-2"


def test_fresh_on_an_unused_name_uses_the_name(setup):
    config, config_path, plan, out = setup
    assert open_run(config, config_path, plan, out, fresh=True).path == out / "rd"


def test_a_changed_config_run_with_fresh_is_resumed_later(setup):
    config, config_path, plan, out = setup
    open_run(config, config_path, plan, out)
    changed = make_config(CONFIG_TEXT.replace("seeds: 2", "seeds: 3"))
    fresh = open_run(changed, config_path, plan_for(changed), out, fresh=True)
    resumed = open_run(changed, config_path, plan_for(changed), out)
    assert resumed.path == fresh.path == out / "rd-2" and resumed.read_manifest()["resumes"] == 1


def test_dry_run_touches_nothing(setup):
    config, config_path, plan, out = setup
    run = RunDir.prepare(config, config_path, plan, out=out, dry_run=True)
    assert run.path == out / "rd" and not out.exists()
    open_run(config, config_path, plan, out)
    before = (out / "rd" / "manifest.json").read_text()
    RunDir.prepare(config, config_path, plan, out=out, dry_run=True)
    assert (out / "rd" / "manifest.json").read_text() == before
    changed = make_config(CONFIG_TEXT.replace("seeds: 2", "seeds: 3"))
    with pytest.raises(ConfigError, match="--fresh"):
        RunDir.prepare(changed, config_path, plan_for(changed), out=out, dry_run=True)


def test_a_directory_that_is_not_a_run_is_refused(setup):
    config, config_path, plan, out = setup
    (out / "rd").mkdir(parents=True)
    (out / "rd" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a run directory"):
        RunDir.prepare(config, config_path, plan, out=out)


def test_one_sweep_at_a_time(setup):
    config, config_path, plan, out = setup
    holder = RunDir.prepare(config, config_path, plan, out=out)
    try:
        with pytest.raises(ConfigError, match="another sweep is running"):
            RunDir.prepare(config, config_path, plan, out=out)
    finally:
        holder.close()
    open_run(config, config_path, plan, out)


def test_the_lock_goes_with_finish_or_the_object(setup):
    config, config_path, plan, out = setup
    RunDir.prepare(config, config_path, plan, out=out).finish("completed", {"episodes": 0})
    RunDir.prepare(config, config_path, plan, out=out)  # dropped at once: its lock goes with it
    open_run(config, config_path, plan, out)


def test_finish_records_status_and_counts(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    run.finish("completed", {"episodes": 12, "provider_failed": 1})
    manifest = run.read_manifest()
    assert manifest["status"] == "completed" and manifest["counts"] == {"episodes": 12, "provider_failed": 1}
    assert manifest["finished_at"] is not None


def test_done_ids_read_every_part_and_skip_temp_files(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    write_part(run.episodes_dir, "part-a.arrow", plan[:5])
    write_part(run.episodes_dir, "part-b.arrow", plan[5:7])
    write_part(run.episodes_dir, "part-c.arrow.tmp", plan[7:9])
    (run.episodes_dir / "part-d.arrow.tmp").write_bytes(b"half a fi")
    assert done_episode_ids(run.path) == {s.episode_id for s in plan[:7]}
    assert done_episode_ids(out / "never-ran") == set()


def test_a_damaged_part_is_an_error_naming_the_file(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    good = write_part(run.episodes_dir, "part-a.arrow", plan[:5])
    damaged = run.episodes_dir / "part-b.arrow"
    damaged.write_bytes(good.read_bytes()[:200])
    with pytest.raises(RunDirError) as caught:  # damage, not a config mistake (still one line, exit 2)
        done_episode_ids(run)
    assert not isinstance(caught.value, ConfigError)
    assert str(damaged) in str(caught.value) and "\n" not in str(caught.value)


def test_read_table_selects_columns_across_parts(setup):
    config, config_path, plan, out = setup
    run = open_run(config, config_path, plan, out)
    empty = read_table(run, "episodes", ["episode_id", "seed"])
    assert empty.num_rows == 0 and empty.schema == EPISODES_SCHEMA.empty_table().select(["episode_id", "seed"]).schema
    write_part(run.episodes_dir, "part-a.arrow", plan[:5])
    write_part(run.episodes_dir, "part-b.arrow", plan[5:8])
    table = read_table(run.path, "episodes", ["episode_id", "seed"])
    assert table.column_names == ["episode_id", "seed"]
    assert table.to_pylist() == [{"episode_id": s.episode_id, "seed": s.seed} for s in plan[:8]]
    assert read_table(run, "episodes").schema.names == EPISODES_SCHEMA.names
    with pytest.raises(RunDirError, match="part-a.arrow: part file without column nonsense"):
        read_table(run, "episodes", ["episode_id", "nonsense"])
