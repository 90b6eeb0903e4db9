"""Sweeps on tasks of one's own: a plugin file and an MCP server (stdio and streamable HTTP), the
oracle perfect through both wire formats; broken servers end their episodes as agent_error with
the cause (never the sweep, never a hang); validate's one-line errors; resume refuses a changed
plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import polars as pl
import pytest
import yaml

from orchestrator.config import ConfigError, load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.mcp_helpers import BAD_SERVER, EXAMPLES, NOTES_DATASET, notes_http_server
from tests.orchestrator.sweep_helpers import episodes, planned_ids, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

BOTH_FORMATS = [{"id": "oracle", "provider": "simulated", "model": "oracle"},
                {"id": "oracle-anthropic", "provider": "simulated", "model": "oracle", "api_format": "anthropic"}]
NOTES_MCP = {"command": ["python", str(EXAMPLES / "notes_server.py")], "dataset": str(NOTES_DATASET),
             "state": "dump_notes", "reset": "reset"}


def assert_perfect(df: pl.DataFrame) -> None:
    assert df["status"].unique().to_list() == ["completed"], df.filter(pl.col("status") != "completed")[
        "error_message"].to_list()[:3]
    assert df["correct"].all() and df["steps_match"].all() and (df["step_ratio"] == 1.0).all()


def test_the_oracle_is_perfect_on_a_plugin_and_an_mcp_server_through_both_formats(tmp_path):
    path = write_config(tmp_path, tasks=[{"name": "inventory", "path": str(EXAMPLES / "inventory.py")},
                                         {"name": "notes", "mcp": {**NOTES_MCP, "max_sessions": 6}}],
                        models=[*BOTH_FORMATS, {"id": "noisy", "provider": "simulated", "model": "noisy"}])
    config = load_config(path)
    assert run_sweep(config, config_path=path) == 0
    df = episodes(tmp_path / "runs" / "e2e")
    assert set(df["episode_id"]) == planned_ids(path) and df.height == 3 * (24 + 21)
    oracles = df.filter(pl.col("model_id") != "noisy")
    assert_perfect(oracles)
    stateful = oracles.filter(pl.col("state_correct").is_not_null())
    with_state = sum(line.count('"expected_state"') for f in ("inventory.jsonl", "notes.jsonl")
                     for line in (EXAMPLES / f).read_text().splitlines())
    assert with_state >= 20 and stateful.height == 2 * with_state and stateful["state_correct"].all()
    noisy = df.filter(pl.col("model_id") == "noisy")
    assert noisy["status"].unique().to_list() == ["completed"]
    assert 0.5 < noisy["correct"].mean() < 1.0  # the noisy policy errs, and the scorers see it
    # the server's tools reached the model under their own names; the hidden ones never did
    made = {call["name"] for calls in df.filter(pl.col("task") == "notes")["tool_calls"] for call in calls}
    assert made >= {"get_note", "add_note", "list_notes"} and not made & {"reset", "dump_notes"}
    manifest = yaml.safe_load((tmp_path / "runs" / "e2e" / "manifest.json").read_text())
    assert set(manifest["task_sources"]) == {"inventory", "notes"}


def test_the_oracle_is_perfect_over_streamable_http(tmp_path):
    with notes_http_server() as url:
        mcp = {"url": url, "dataset": str(NOTES_DATASET), "state": "dump_notes", "reset": "reset"}
        path = write_config(tmp_path, tasks=[{"name": "notes", "mcp": mcp}], models=BOTH_FORMATS,
                            ray={"runners": 1, "max_concurrency_per_runner": 8})
        assert run_sweep(load_config(path), config_path=path) == 0
    df = episodes(tmp_path / "runs" / "e2e")
    assert df.height == 2 * 21
    assert_perfect(df)
    assert df.filter(pl.col("state_correct").is_not_null())["state_correct"].all()


def test_an_unreachable_server_url_is_a_one_line_config_error(tmp_path):
    mcp = {"url": "http://127.0.0.1:9/mcp", "dataset": str(NOTES_DATASET), "reset": "reset", "state": "dump_notes"}
    path = write_config(tmp_path, tasks=[{"name": "notes", "mcp": mcp}], models=BOTH_FORMATS[:1])
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "cannot be reached (is it running?)" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("mode", "cause"), [
    ("exit", "bad notes server: cannot open its store"),
    ("hang-list", "did not start and list its tools within 3s"),
])
def test_validate_reports_a_server_that_cannot_start_in_one_line(tmp_path, mode, cause):
    flag = tmp_path / "armed"
    flag.touch()
    mcp = {"command": ["python", str(BAD_SERVER), mode, str(flag)], "dataset": str(NOTES_DATASET),
           "state": "dump_notes", "start_timeout_s": 3}
    path = write_config(tmp_path, tasks=[{"name": "notes", "mcp": mcp}], models=BOTH_FORMATS[:1])
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "orchestrator", "validate", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:") and "tasks[0].mcp" in lines[0]
    assert cause in lines[0]
    assert time.monotonic() - started < 30


def test_broken_servers_end_their_episodes_as_agent_error_not_the_sweep(tmp_path):
    flag = tmp_path / "armed"

    def bad(mode: str) -> dict:
        # a shorter start timeout only where the hang is the point, yet long enough for the check at load
        # time to start the working server on a loaded machine (3 s was not, with the CPU shared)
        return {"command": ["python", str(BAD_SERVER), mode, str(flag)], "dataset": str(tmp_path / "two.jsonl"),
                "state": "dump_notes", "start_timeout_s": 10 if mode == "hang-list" else 60, "call_timeout_s": 30}

    rows = [line for line in NOTES_DATASET.read_text().splitlines() if '"notes-04"' in line or '"notes-06"' in line]
    (tmp_path / "two.jsonl").write_text("\n".join(rows) + "\n")
    path = write_config(tmp_path, tasks=[{"name": "exits", "mcp": bad("exit")}, {"name": "hangs", "mcp": bad("hang-list")},
                                         {"name": "crashes", "mcp": bad("crash")},
                                         {"name": "inventory", "path": str(EXAMPLES / "inventory.py"), "limit": 3}],
                        models=BOTH_FORMATS[:1])
    config = load_config(path)  # validated against the working server
    flag.touch()  # from now on every server start meets the broken one
    started = time.monotonic()
    assert run_sweep(config, config_path=path) == 0
    assert time.monotonic() - started < 120
    df = episodes(tmp_path / "runs" / "e2e")
    assert df.height == 2 * 3 + 3
    by_task = {task: group for (task,), group in df.group_by("task")}
    assert by_task["inventory"]["status"].to_list() == ["completed"] * 3
    for task, cause in (("exits", "cannot open its store"), ("hangs", "did not start and list its tools within 10s"),
                        ("crashes", "failed during the tool call")):
        group = by_task[task]
        assert group["status"].to_list() == ["agent_error", "agent_error"], task
        assert group["error_class"].to_list() == ["EnvironmentFailure"] * 2
        assert all(cause in message for message in group["error_message"]), (task, group["error_message"].to_list())
    # the crash came mid-episode: the first call was made and recorded
    assert (by_task["crashes"]["n_steps"] >= 1).all()
    leftover = subprocess.run(["pgrep", "-f", str(BAD_SERVER)], capture_output=True, text=True).stdout.split()
    assert not leftover, f"server processes left running: {leftover}"


def test_resume_refuses_a_changed_plugin_unless_fresh(tmp_path):
    plugin = tmp_path / "inventory.py"
    shutil.copy(EXAMPLES / "inventory.py", plugin)
    shutil.copy(EXAMPLES / "inventory.jsonl", tmp_path / "inventory.jsonl")
    path = write_config(tmp_path, tasks=[{"name": "inventory", "path": "inventory.py", "limit": 2}],
                        models=BOTH_FORMATS[:1])
    assert run_sweep(load_config(path), config_path=path) == 0
    plugin.write_text(plugin.read_text().replace("return self.quantity[key]\n\n    @tool\n    def remove_stock",
                                                 "return int(self.quantity[key])\n\n    @tool\n    def remove_stock"))
    with pytest.raises(ConfigError, match=r"task 'inventory' changed since this run started .*use --fresh"):
        run_sweep(load_config(path), config_path=path)
    assert run_sweep(load_config(path), config_path=path, fresh=True) == 0
    assert episodes(tmp_path / "runs" / "e2e-2").height == 2
