"""compare: paired comparisons of models read from run directories, and the compare command."""

import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from run_builders import T0, call, episode, write_run

from analysis.compare import COLUMNS, base_model, compare, disagreement, select_models
from analysis.compare_cli import main
from analysis.load import AnalysisError, load_runs

WORDS = 20  # typewriter_single examples of 1..5 letters (expected tool calls)


def _typewriter_run(root, name, model_id, policy, *, seeds=3, examples=WORDS, rng=None, **fields):
    """One model on typewriter_single; ``policy(length, seed, rng)`` says whether it answers right."""
    return write_run(root, name, episodes=_typewriter_episodes(model_id, policy, seeds, examples, rng, **fields))


def _typewriter_episodes(model_id, policy, seeds=3, examples=WORDS, rng=None, **fields):
    episodes = []
    for example in range(examples):
        length = 1 + example % 5
        for seed in range(seeds):
            correct = bool(policy(length, seed, rng))
            episodes.append(
                episode(
                    model_id=model_id,
                    example_id=f"w{example:02d}",
                    seed=seed,
                    expected_steps=length,
                    n_steps=length if correct else min(length, 2),
                    correct=correct,
                    state_correct=correct,
                    steps_match=correct,
                    **fields,
                )
            )
    return episodes


def oracle(length, seed, rng):
    return True


def single_call(length, seed, rng):
    """The simulator's single-call agent: it cannot compose more than two tool calls."""
    return length <= 2


def test_oracle_beats_single_call_across_two_runs(tmp_path):
    first = _typewriter_run(tmp_path, "day-1", "sim-oracle", oracle)
    second = _typewriter_run(tmp_path, "day-2", "sim-single-call", single_call)
    result = compare(load_runs([first, second]), models=["sim-oracle", "sim-single-call"])
    row = result.metric("correct").row(0, named=True)
    assert (row["model_a"], row["model_b"], row["n_pairs"]) == ("sim-oracle", "sim-single-call", 60)
    # single-call answers lengths 1 and 2: 8 of 20 examples
    assert (row["acc_a"], row["acc_b"]) == (1.0, pytest.approx(0.4))
    assert row["diff"] == pytest.approx(0.6) and 0 < row["ci_low"] < 0.6 < row["ci_high"] <= 1.0
    # 12 examples with D = 3 and the rest 0: exact mid-p = ½·2·2⁻¹² = 2⁻¹²
    assert row["p_value"] == pytest.approx(2**-12)
    assert row["significant"] and row["p_adjusted"] == pytest.approx(2 * 2**-12)  # Holm over 2 tests
    detail = result.detail.filter(pl.col("metric") == "correct").row(0, named=True)
    assert (detail["test"], detail["a_only"], detail["b_only"], detail["examples"]) == ("sign-flip", 36, 0, 20)
    # reversed order gives the opposite sign
    reverse = compare(load_runs([first, second]), models=["sim-single-call", "sim-oracle"]).metric("correct")
    assert reverse["diff"][0] == pytest.approx(-0.6)


def test_two_identical_policies_are_not_significant(tmp_path):
    rng = np.random.default_rng(42)
    hardness = {length: 1.0 - 0.15 * length for length in range(1, 6)}  # same for both models

    def noisy(length, seed, rng):
        return rng.random() < hardness[length]

    first = _typewriter_run(tmp_path, "a", "noisy-1", noisy, rng=rng)
    second = _typewriter_run(tmp_path, "b", "noisy-2", noisy, rng=rng)
    row = compare(load_runs([first, second])).metric("correct").row(0, named=True)
    assert row["n_pairs"] == 60
    assert row["p_value"] > 0.05 and not row["significant"]
    assert row["ci_low"] <= 0 <= row["ci_high"]
    assert row["mde"] > abs(row["diff"])


def test_one_seed_uses_mcnemar_and_steps_match_is_compared_too(tmp_path):
    run = _typewriter_run(tmp_path, "one", "sim-oracle", oracle, seeds=1)
    other = _typewriter_run(tmp_path, "two", "sim-single-call", single_call, seeds=1)
    result = compare(load_runs([run, other]))
    accuracy = result.detail.filter(pl.col("metric") == "correct").row(0, named=True)
    # 12 discordant pairs, all A's: mid-p = 2·2⁻¹² − 2⁻¹² = 2⁻¹²
    assert accuracy["test"] == "mcnemar" and accuracy["p_value"] == pytest.approx(2**-12)
    assert accuracy["seeds_needed"] is None  # seed variance unknown with one seed
    steps = result.metric("steps_match")
    assert steps.columns == COLUMNS and steps["diff"][0] == pytest.approx(0.6)
    # Holm over the two tests together: 2 · 2⁻¹² for both
    assert result.detail["p_adjusted"].to_list() == pytest.approx([2 * 2**-12] * 2)


def test_same_model_in_two_runs_is_labelled_by_run_and_variants_are_models(tmp_path):
    first = _typewriter_run(tmp_path, "monday", "m", oracle)
    second = _typewriter_run(tmp_path, "tuesday", "m", single_call)
    variant = _typewriter_run(tmp_path, "variants", "m@high", oracle)
    data = load_runs([first, second, variant])
    result = compare(data, models=["m"])
    assert result.metric("correct").select("model_a", "model_b").row(0) == ("monday/m", "tuesday/m")
    everything = compare(data).metric("correct")
    assert sorted(everything["model_a"] + " vs " + everything["model_b"]) == [
        "m@high vs monday/m",
        "m@high vs tuesday/m",
        "monday/m vs tuesday/m",
    ]
    assert base_model("m@high") == "m" and base_model("run/m@2048") == "run/m"


def test_a_run_and_its_fresh_copy_compare_by_directory(tmp_path, capsys):
    import json

    first = _typewriter_run(tmp_path, "x", "m", oracle)
    fresh = _typewriter_run(tmp_path, "x-2", "m", single_call)
    manifest = json.loads((fresh / "manifest.json").read_text())
    (fresh / "manifest.json").write_text(json.dumps({**manifest, "name": "x"}))  # as --fresh names it
    assert main([str(first), str(fresh), "--out", str(tmp_path / "out")]) == 0
    table = pl.read_csv(tmp_path / "out" / "comparisons.csv")
    assert set(table.select("model_a", "model_b").row(0)) == {"x/m", "x-2/m"}


def test_select_models_refuses_unknown_names():
    assert select_models(["b", "a"], None) == ["a", "b"]
    assert select_models(["r1/m", "r2/m", "x"], ["x", "m"]) == ["x", "r1/m", "r2/m"]
    with pytest.raises(AnalysisError, match="unknown model 'gpt'"):
        select_models(["a", "b"], ["a", "gpt"])


def _calls_run(root, name, rate_5xx, seed):
    rng = np.random.default_rng(seed)
    episodes, calls = [], []
    for index in range(300):
        row = episode(model_id="m", example_id=f"x{index}", seed=0)
        episodes.append(row)
        for step in range(3):
            failed = rng.random() < rate_5xx
            calls.append(
                call(
                    episode_id=row["episode_id"],
                    model_id="m",
                    step=step,
                    outcome="http_5xx" if failed else "ok",
                    http_status=503 if failed else 200,
                    started_at=T0 + index,
                )
            )
    return write_run(root, name, episodes=episodes, calls=calls)


def test_provider_error_rate_change_between_two_runs(tmp_path):
    calm = _calls_run(tmp_path, "calm", 0.02, 1)
    stormy = _calls_run(tmp_path, "stormy", 0.10, 2)
    calm_again = _calls_run(tmp_path, "calm-again", 0.02, 3)
    rates = compare(load_runs([calm, stormy, calm_again])).error_rates.sort("run_a", "run_b")
    by_runs = {(r["run_a"], r["run_b"]): r for r in rates.iter_rows(named=True)}
    assert set(by_runs) == {("calm", "stormy"), ("calm", "calm-again"), ("calm-again", "stormy")}
    changed = by_runs[("calm", "stormy")]
    assert changed["outcome"] == "http_5xx" and changed["attempts_a"] == changed["attempts_b"] == 900
    assert changed["diff"] < 0 and changed["significant"] and changed["ci_high"] < 0
    steady = by_runs[("calm", "calm-again")]
    assert not steady["significant"] and steady["ci_low"] < 0 < steady["ci_high"]


def test_cli_writes_exactly_the_columns_and_prints_the_table(tmp_path, capsys):
    first = _typewriter_run(tmp_path, "day-1", "sim-oracle", oracle)
    second = _typewriter_run(tmp_path, "day-2", "sim-single-call", single_call)
    assert main([str(first), str(second), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Which differences are real" in printed and "sim-single-call" in printed
    table = pl.read_csv(tmp_path / "out" / "comparisons.csv")
    assert table.columns == COLUMNS and table.height == 1
    markdown = (tmp_path / "out" / "comparisons.md").read_text()
    assert "| task | strategy | model_a | model_b | n_pairs |" in markdown
    assert (tmp_path / "out" / "comparisons_steps_match.csv").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{missing}"], "compare: error: not a directory: {missing}"),
        (["{run}", "--models", "sim-oracle", "gpt-9"], "compare: error: unknown model 'gpt-9' (models"),
        (["{run}", "--models", "sim-oracle"], "compare: error: --models selects 1 model"),
    ],
)
def test_orchestrator_compare_bad_input_is_one_line_exit_2(tmp_path, arguments, message):
    both = _typewriter_episodes("sim-oracle", oracle) + _typewriter_episodes("sim-single-call", single_call)
    run = write_run(tmp_path, "day-1", episodes=both)
    values = {"run": str(run), "missing": str(tmp_path / "missing")}
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator", "compare", *(a.format(**values) for a in arguments)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message.format(**values)), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_interval_that_disagrees_with_the_test_is_explained():
    """The issue's case: +0.31 [+0.08, +0.62] with p 0.062 is "not real", and says why."""
    row = {"ci_low": 0.08, "ci_high": 0.62, "p_value": 0.031, "p_adjusted": 0.062, "significant": False}
    note = disagreement(row, tests=2)
    assert note is not None and "excludes 0" in note and "p 0.031, 0.062 after Holm over 2 tests" in note
    unadjusted = disagreement({**row, "p_adjusted": 0.062, "p_value": 0.062}, tests=1)
    assert unadjusted is not None and "Holm" not in unadjusted
    assert disagreement({**row, "ci_low": -0.02}, tests=2) is None  # includes 0, not real: they agree
    assert disagreement({**row, "p_adjusted": 0.01, "significant": True}, tests=2) is None  # both say real
    borderline = disagreement({**row, "ci_low": 0.0, "p_adjusted": 0.04, "significant": True}, tests=2)
    assert borderline is not None and "touches 0" in borderline


def test_every_comparison_note_marks_exactly_the_disagreements(tmp_path):
    first = _typewriter_run(tmp_path, "day-1", "sim-oracle", oracle)
    second = _typewriter_run(tmp_path, "day-2", "sim-single-call", single_call)
    detail = compare(load_runs([first, second])).detail
    for row in detail.iter_rows(named=True):
        excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
        assert (row["note"] is not None) == (excludes_zero != row["significant"]), row


def test_compare_shows_tool_call_validity_side_by_side(tmp_path, capsys):
    good = [{"name": "type_letter", "arguments": "{}", "result": "OK", "error": None, "kind": "ok"}]
    bad = [{"name": "type_word", "arguments": "{}", "result": None, "error": "unknown tool", "kind": "unknown_tool"}]
    first = _typewriter_run(tmp_path, "day-1", "m", oracle, tool_calls=good * 3)
    second = _typewriter_run(tmp_path, "day-2", "m", oracle, tool_calls=good * 3 + bad)
    assert main([str(first), str(second), "--out", str(tmp_path / "out")]) == 0
    table = pl.read_csv(tmp_path / "out" / "tool_validity_by_run.csv").rows_by_key("run", named=True, unique=True)
    assert (table["day-1"]["tool_calls"], table["day-1"]["invalid_share"]) == (180, 0.0)
    assert (table["day-2"]["tool_calls"], table["day-2"]["unknown_tool_share"]) == (240, 0.25)
    out = capsys.readouterr().out
    assert "Tool-call validity" in out and "25.0%" in out


def test_the_validity_table_keeps_to_the_models_asked_for(tmp_path):
    good = [{"name": "type_letter", "arguments": "{}", "result": "OK", "error": None, "kind": "ok"}]
    first = write_run(tmp_path, "day-1", episodes=[*_typewriter_episodes("a", oracle, tool_calls=good),
                                                    *_typewriter_episodes("b", oracle, tool_calls=good),
                                                    *_typewriter_episodes("c", oracle, tool_calls=good)])
    second = _typewriter_run(tmp_path, "day-2", "a", oracle, tool_calls=good)
    assert main([str(first), str(second), "--models", "a", "b", "--out", str(tmp_path / "out")]) == 0
    table = pl.read_csv(tmp_path / "out" / "tool_validity_by_run.csv")
    assert sorted(zip(table["run"], table["model_id"], strict=True)) == [("day-1", "a"), ("day-1", "b"),
                                                                        ("day-2", "a")]
