"""Tool-call validity per model × strategy × task, against counts worked out by hand; older runs
without the recorded kind are counted, never guessed."""

import pyarrow as pa
import pytest
from run_builders import episode, write_part, write_run

from analysis.load import load_runs
from analysis.report import build_report
from analysis.tool_validity import kind_counts, validity_shares, validity_table


def calls(*kinds):
    return [{"name": "t", "arguments": "{}", "result": None if k != "ok" else "OK", "error": None if k == "ok" else "x",
             "kind": k} for k in kinds]


ROWS = [
    # model a, native: 10 calls — 1 unparseable, 2 unknown_tool, 1 schema_misfit, 1 tool_error, 5 ok
    episode(example_id="1", model_id="a", tool_calls=calls("ok", "unparseable", "ok", "unknown_tool")),
    episode(example_id="2", model_id="a", tool_calls=calls("unknown_tool", "schema_misfit", "ok")),
    episode(example_id="3", model_id="a", tool_calls=calls("tool_error", "ok", "ok")),
    # model a, text: 2 calls, both fine
    episode(example_id="1", model_id="a", strategy="text", tool_calls=calls("ok", "ok")),
    # model b: no tool call at all, and a failed episode's calls still count
    episode(example_id="1", model_id="b", tool_calls=[]),
    episode(example_id="2", model_id="b", status="provider_failed", correct=None, tool_calls=calls("tool_error")),
]


def test_the_shares_are_the_counts_worked_out_by_hand(tmp_path):
    runs = load_runs([write_run(tmp_path, "r", episodes=ROWS, parts=3)]).runs
    table = validity_shares(kind_counts(runs)).rows_by_key(["model_id", "strategy"], named=True, unique=True)
    native = table[("a", "native")]
    assert native["tool_calls"] == 10 and native["unrecorded"] == 0
    assert native["invalid_share"] == pytest.approx(5 / 10)
    faults = ("unparseable_share", "unknown_tool_share", "schema_misfit_share", "tool_error_share")
    assert tuple(native[name] for name in faults) == pytest.approx((0.1, 0.2, 0.1, 0.1))
    assert table[("a", "text")]["invalid_share"] == 0.0
    assert table[("b", "native")]["tool_calls"] == 1 and table[("b", "native")]["tool_error_share"] == 1.0
    by_model = validity_shares(kind_counts(runs, keys=["run", "model_id"])).rows_by_key("model_id", named=True,
                                                                                       unique=True)
    assert by_model["a"]["tool_calls"] == 12 and by_model["a"]["invalid_share"] == pytest.approx(5 / 12)


def test_a_retried_episode_counts_its_latest_attempt_only(tmp_path):
    rows = [episode(example_id="1", model_id="a", tool_calls=calls("unknown_tool", "ok")),
            episode(example_id="1", model_id="a", attempt=2, tool_calls=calls("ok"))]
    runs = load_runs([write_run(tmp_path, "r", episodes=rows, parts=2)]).runs
    row = validity_shares(kind_counts(runs)).row(0, named=True)
    assert (row["tool_calls"], row["invalid_share"]) == (1, 0.0)


def test_calls_of_a_run_written_before_the_kind_are_unrecorded_not_guessed(tmp_path):
    run_dir = write_run(tmp_path, "old", episodes=[ROWS[0]], parts=1)
    part = next((run_dir / "episodes").glob("*.arrow"))
    table = pa.ipc.open_file(part).read_all()
    old_struct = pa.struct([f for f in table.schema.field("tool_calls").type.value_type if f.name != "kind"])
    column = table.column("tool_calls").cast(pa.list_(old_struct))
    write_part(part, table.set_column(table.schema.get_field_index("tool_calls"),
                                      pa.field("tool_calls", column.type), column))
    row = validity_shares(kind_counts(load_runs([run_dir]).runs)).row(0, named=True)
    assert (row["tool_calls"], row["unrecorded"], row["invalid_share"], row["unknown_tool_share"]) == \
        (4, 4, None, None)


def test_the_report_has_the_section_and_its_files(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=ROWS)
    result = build_report([run_dir], tmp_path / "out")
    page = result.index.read_text()
    assert "Tool-call validity" in page and "schema_misfit" in page
    csv = (tmp_path / "out" / "tool_validity.csv").read_text().splitlines()
    assert csv[0].startswith("run,model_id,strategy,task,tool_calls,unrecorded,invalid_share,unparseable_share")
    assert len(csv) == 1 + validity_table(load_runs([run_dir]).runs).frame.height == 4


def test_a_run_resumed_across_the_change_loads_parts_with_and_without_the_kind(tmp_path):
    """A run begun before ``kind`` was recorded and finished after: the report (its episode browser
    reads every part's tool calls together) and the validity table both read it."""
    run_dir = write_run(tmp_path, "r", episodes=[episode(example_id=str(n), tool_calls=calls("ok", "unknown_tool"))
                                                 for n in range(4)], parts=2)
    part = sorted((run_dir / "episodes").glob("*.arrow"))[0]
    table = pa.ipc.open_file(part).read_all()
    old_struct = pa.struct([f for f in table.schema.field("tool_calls").type.value_type if f.name != "kind"])
    column = table.column("tool_calls").cast(pa.list_(old_struct))
    write_part(part, table.set_column(table.schema.get_field_index("tool_calls"),
                                      pa.field("tool_calls", column.type), column))
    build_report([run_dir], tmp_path / "out")
    row = validity_shares(kind_counts(load_runs([run_dir]).runs)).row(0, named=True)
    assert (row["tool_calls"], row["unrecorded"], row["unknown_tool_share"]) == (8, 4, 0.5)
