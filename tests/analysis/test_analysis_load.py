import json

import polars as pl
import pyarrow as pa
import pytest
from run_builders import call, episode, event, write_part, write_run

from analysis.load import AnalysisError, load_runs
from orchestrator.records import EPISODES_SCHEMA, to_table


def test_loads_parts_and_sets_run_from_manifest(tmp_path):
    rows = [episode(example_id=f"x{i}", run="stale-name") for i in range(5)]
    run_dir = write_run(
        tmp_path, "alpha", episodes=rows, calls=[call()], events=[event(to_state="open")], parts=3
    )
    assert len(list((run_dir / "episodes").glob("*.arrow"))) == 3
    data = load_runs([run_dir])
    episodes = data.episodes.collect()
    assert episodes.height == 5
    assert episodes["run"].unique().to_list() == ["alpha"]
    assert sorted(episodes["example_id"]) == [f"x{i}" for i in range(5)]
    assert data.calls.collect().height == 1
    assert data.events.collect()["to_state"].to_list() == ["open"]
    assert data.runs[0].name == "alpha" and data.runs[0].episodes_planned == 5


def test_several_runs_stay_apart(tmp_path):
    first = write_run(tmp_path, "a", episodes=[episode()])
    second = write_run(tmp_path, "b", episodes=[episode(), episode(seed=1)])
    counts = load_runs([first, second]).episodes.collect().group_by("run").len().sort("run")
    assert counts.rows() == [("a", 1), ("b", 2)]


def renamed(run_dir, name):
    """The run directory with its manifest naming it ``name`` (as ``--fresh`` names ``x-2`` ``x``)."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    (run_dir / "manifest.json").write_text(json.dumps({**manifest, "name": name}))
    return run_dir


def test_runs_of_the_same_name_are_told_apart_by_their_directories(tmp_path):
    first = write_run(tmp_path, "x", episodes=[episode()])
    fresh = renamed(write_run(tmp_path, "x-2", episodes=[episode(), episode(seed=1)]), "x")
    other = write_run(tmp_path, "y", episodes=[episode()])
    data = load_runs([first, fresh, other])
    assert [run.name for run in data.runs] == ["x", "x-2", "y"]
    counts = data.episodes.collect().group_by("run").len().sort("run")
    assert counts.rows() == [("x", 1), ("x-2", 2), ("y", 1)]


def test_runs_of_the_same_name_and_directory_name_are_told_apart_by_their_paths(tmp_path):
    first = write_run(tmp_path / "one", "same", episodes=[episode()])
    second = write_run(tmp_path / "two", "same", episodes=[episode()])
    assert [run.name for run in load_runs([first, second]).runs] == [str(first), str(second)]
    with pytest.raises(AnalysisError, match="run directory given twice"):
        load_runs([first, first])


def test_only_the_latest_attempt_of_an_episode_is_read(tmp_path):
    failed = episode(status="provider_failed", correct=None, error_message="HTTP 503")
    run_dir = write_run(tmp_path, "r", episodes=[failed, episode(example_id="x2")], parts=1)
    retried = episode(attempt=2)  # the same episode id, run again by sweep --retry-errors
    write_part(run_dir / "episodes" / "part-99999.arrow", to_table("episodes", [{**retried, "run": "r"}]))
    episodes = load_runs([run_dir]).episodes.collect().sort("example_id")
    assert episodes.select("example_id", "status", "attempt").rows() == [("x1", "completed", 2),
                                                                       ("x2", "completed", 1)]
    # and where the analysis reads other columns of the episodes (the browser, the causes of failure)
    from analysis.load import scan_columns

    statuses = scan_columns(load_runs([run_dir]).runs[0], "episodes", {"status": pl.String()}).collect()
    assert sorted(statuses["status"]) == ["completed", "completed"]


def test_missing_and_empty_table_directories_read_as_empty(tmp_path):
    run_dir = write_run(tmp_path, "fresh")  # no table directories at all
    (run_dir / "calls").mkdir()  # and one that exists but is empty
    data = load_runs([run_dir])
    for frame in (data.episodes, data.calls, data.events):
        collected = frame.collect()
        assert collected.height == 0
        assert "run" in collected.columns
    assert data.episodes.collect().schema["correct"] == pl.Boolean


def test_not_a_directory(tmp_path):
    with pytest.raises(AnalysisError, match="not a directory"):
        load_runs([tmp_path / "nowhere"])


def test_directory_without_manifest(tmp_path):
    with pytest.raises(AnalysisError, match=r"not a run directory \(no manifest.json\)"):
        load_runs([tmp_path])


def test_manifest_without_name(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"episodes_planned": 3}))
    with pytest.raises(AnalysisError, match="manifest without a 'name'"):
        load_runs([tmp_path])


def test_missing_required_columns_are_named(tmp_path):
    run_dir = write_run(tmp_path, "r")
    table = to_table("episodes", [episode()]).drop_columns(["correct", "seed"])
    write_part(run_dir / "episodes" / "part-0.arrow", table)
    with pytest.raises(AnalysisError, match="missing columns: seed, correct") as caught:
        load_runs([run_dir])
    assert "\n" not in str(caught.value)


def test_missing_optional_columns_read_as_null_beside_full_parts(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[episode(difficulty=4)], parts=1)
    older = to_table("episodes", [episode(seed=1)]).drop_columns(["difficulty", "judge_correct", "node_id"])
    write_part(run_dir / "episodes" / "part-old.arrow", older)
    episodes = load_runs([run_dir]).episodes.collect().sort("seed")
    assert episodes["difficulty"].to_list() == [4, None]
    assert episodes["judge_correct"].to_list() == [None, None]


def test_wrong_column_type_is_reported(tmp_path):
    run_dir = write_run(tmp_path, "r")
    table = to_table("episodes", [episode()])
    index = table.schema.get_field_index("correct")
    table = table.set_column(index, pa.field("correct", pa.string()), pa.array(["yes"]))
    write_part(run_dir / "episodes" / "part-0.arrow", table)
    with pytest.raises(AnalysisError, match="column 'correct' .* has type String, expected Boolean"):
        load_runs([run_dir])


def test_narrower_integer_columns_are_widened(tmp_path):
    run_dir = write_run(tmp_path, "r")
    table = to_table("episodes", [episode(seed=7)])
    index = EPISODES_SCHEMA.get_field_index("seed")
    table = table.set_column(index, pa.field("seed", pa.int32()), pa.array([7], pa.int32()))
    write_part(run_dir / "episodes" / "part-0.arrow", table)
    episodes = load_runs([run_dir]).episodes.collect()
    assert episodes.schema["seed"] == pl.Int64 and episodes["seed"].to_list() == [7]


def test_a_file_that_is_not_arrow(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[episode()])
    (run_dir / "episodes" / "broken.arrow").write_text("not arrow at all")
    with pytest.raises(AnalysisError, match="not an Arrow IPC file: .*broken.arrow"):
        load_runs([run_dir])
    (run_dir / "episodes" / "broken.arrow").write_bytes(b"")
    with pytest.raises(AnalysisError, match="not an Arrow IPC file: .*broken.arrow"):
        load_runs([run_dir])


def test_hidden_part_files_are_skipped(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[episode()])
    (run_dir / "episodes" / ".part-9.arrow").write_text("half written")
    assert load_runs([run_dir]).episodes.collect().height == 1


def test_collect_keeps_the_same_rows(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[episode(), episode(seed=1)], calls=[call(), call(attempt=2)])
    data = load_runs([run_dir])
    collected = data.collect()
    assert collected.episodes.collect().equals(data.episodes.collect())
    assert collected.calls.collect().equals(data.calls.collect())
