"""``validate`` runs each example's expected steps: a failing step is an error naming the example, a
reference no tool output holds a warning (an error with ``--strict``); the grounded simulated model
scores a wrong reference as wrong where the oracle scores it right."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.exit_codes import EXIT_OK, EXIT_USAGE
from orchestrator.reference_check import grounded
from tests.orchestrator.mcp_helpers import BAD_SERVER, NOTES_DATASET
from tests.orchestrator.sweep_helpers import episodes, write_config

BANK = textwrap.dedent('''
    from tasks import Environment, ToolError, tool
    from tasks.answers import short_answer_matches as answer_matcher

    INSTRUCTIONS = "Use the bank tools."
    DATASET = "bank.jsonl"

    class Bank(Environment):
        @tool
        def balance(self, name: str) -> int:
            """The balance of an account.

            Args:
                name: The account holder.
            """
            if name != "alice":
                raise ToolError(f"no account {name!r}")
            return 100

    environment = Bank
''')


def _row(example_id: str, reference: str, name: str = "alice", **extra: object) -> str:
    return json.dumps({"id": example_id, "question": "What is the balance?", "reference": reference,
                       "expected_steps": [{"name": "balance", "arguments": {"name": name}}], **extra})


def _bank(tmp_path: Path, *rows: str, models: list[dict] | None = None) -> Path:
    (tmp_path / "bank.py").write_text(BANK)
    (tmp_path / "bank.jsonl").write_text("\n".join(rows) + "\n")
    return write_config(tmp_path, tasks=[{"name": "bank", "path": "bank.py"}],
                        models=models or [{"id": "oracle", "provider": "simulated", "model": "oracle"}])


def test_a_reference_no_tool_output_holds_is_a_warning_and_an_error_when_strict(tmp_path, capsys):
    path = _bank(tmp_path, _row("right", "100"), _row("wrong", "999"), _row("worked-out", "200", computed=True))
    assert main(["validate", str(path)]) == EXIT_OK
    lines = capsys.readouterr().err.strip().splitlines()
    # the finding points at the example's line in the dataset, not at the sweep file
    assert len(lines) == 1 and lines[0].startswith(f"warning: {tmp_path / 'bank.jsonl'}:2: task 'bank': example 'wrong'")
    assert "'999'" in lines[0]
    assert main(["validate", "--strict", str(path)]) == EXIT_USAGE
    assert "error:" in capsys.readouterr().err


def test_an_expected_step_the_tool_refuses_is_an_error_naming_the_example(tmp_path, capsys):
    path = _bank(tmp_path, _row("right", "100"), _row("no-such-account", "100", name="bob"))
    assert main(["validate", str(path)]) == EXIT_USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'bank.jsonl'}:2: task 'bank': example 'no-such-account'")
    assert "step 0 (balance) fails" in lines[0] and "no account" in lines[0]


def test_an_mcp_server_whose_calls_fail_is_an_error_for_each_example_it_breaks(tmp_path, capsys):
    flag = tmp_path / "armed"
    flag.touch()  # the server lists its tools, then dies on list_notes and count_words
    rows = [line for line in NOTES_DATASET.read_text().splitlines() if '"notes-01"' in line or '"notes-16"' in line]
    (tmp_path / "two.jsonl").write_text("\n".join(rows) + "\n")
    path = write_config(tmp_path, tasks=[{"name": "notes", "mcp": {
        "command": ["python", str(BAD_SERVER), "crash", str(flag)], "dataset": "two.jsonl", "state": "dump_notes",
        "start_timeout_s": 60}}], models=[{"id": "oracle", "provider": "simulated", "model": "oracle"}])
    assert main(["validate", str(path)]) == EXIT_USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'two.jsonl'}:2: task 'notes': example 'notes-16'"), lines
    assert "failed during the tool call list_notes" in lines[0]


@pytest.mark.parametrize(("reference", "texts", "found"), [
    ("100", ["100"], True), ("100", ['{"balance": 100.0}'], True), ("999", ["100"], False),
    ("groceries, ideas, todo", ['["groceries", "ideas", "todo"]'], True),
    ("groceries, ideas, todo", ['["groceries", "todo"]'], False),
    ("Milk  Eggs", ["milk eggs bread"], True), ("yes", ["groceries\ntodo"], False),
])
def test_a_reference_is_found_as_words_list_items_or_an_equal_number(reference, texts, found):
    assert grounded(reference, texts) is found


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_the_grounded_model_fails_a_wrong_reference_the_oracle_passes(tmp_path):
    from orchestrator.config import load_config
    from orchestrator.sweep import run_sweep

    path = _bank(tmp_path, _row("right", "100"), _row("wrong", "999"),
                 models=[{"id": "oracle", "provider": "simulated", "model": "oracle"},
                         {"id": "grounded", "provider": "simulated", "model": "grounded"}])
    assert run_sweep(load_config(path), config_path=path) == 0
    df = episodes(tmp_path / "runs" / "e2e")
    scores = {(row["model_id"], row["example_id"]): row["correct"] for row in df.iter_rows(named=True)}
    assert scores == {("oracle", "right"): True, ("oracle", "wrong"): True,
                      ("grounded", "right"): True, ("grounded", "wrong"): False}
