import math

import pytest
from run_builders import episode, write_run

from analysis.accuracy import accuracy_table, exclusion_table, scored_episodes
from analysis.load import load_runs


def _episodes(tmp_path, rows):
    return load_runs([write_run(tmp_path, "r", episodes=rows)]).episodes


def _typewriter_group():
    """4 completed (correct T T T F), 1 max_steps, and one each of the unscored statuses."""
    completed = [
        episode(example_id="a", correct=True, state_correct=True, steps_match=True, step_ratio=1.0),
        episode(example_id="b", correct=True, state_correct=True, steps_match=False, step_ratio=1.0),
        episode(example_id="c", correct=True, state_correct=True, steps_match=True, step_ratio=2.0),
        episode(example_id="d", correct=False, state_correct=False, steps_match=False, step_ratio=0.5),
    ]
    max_steps = episode(
        example_id="e",
        status="max_steps",
        correct=None,
        state_correct=None,
        steps_match=None,
        step_ratio=None,
        n_steps=30,
        expected_steps=3,
    )
    others = [
        episode(example_id="f", status="provider_failed", correct=None, state_correct=None, steps_match=None),
        episode(example_id="g", status="agent_error", correct=None, state_correct=None, steps_match=None),
        episode(example_id="h", status="refused", correct=None, state_correct=None, steps_match=None),
    ]
    return [*completed, max_steps, *others]


def test_accuracy_by_hand(tmp_path):
    table = accuracy_table(_episodes(tmp_path, _typewriter_group()))
    row = table.row(0, named=True)
    # Scored: 4 completed + 1 max_steps, whose null metrics count as False.
    assert row["n"] == 5
    assert row["correct"] == pytest.approx(3 / 5)
    assert row["correct_se"] == pytest.approx(math.sqrt(0.6 * 0.4 / 5))
    assert row["state_correct"] == pytest.approx(3 / 5)
    assert row["steps_match"] == pytest.approx(2 / 5)
    assert row["steps_match_se"] == pytest.approx(math.sqrt(0.4 * 0.6 / 5))
    # step_ratio of the max_steps episode is measured as 30 / 3 = 10.
    assert row["step_ratio_mean"] == pytest.approx((1 + 1 + 2 + 0.5 + 10) / 5)
    assert row["step_ratio_std"] == pytest.approx(math.sqrt(64.2 / 4))
    assert row["judge_correct"] is None  # no judge in this run
    counts = {
        k: row[k] for k in ("episodes", "completed", "max_steps", "provider_failed", "refused", "agent_error")
    }
    assert counts == {
        "episodes": 8,
        "completed": 4,
        "max_steps": 1,
        "provider_failed": 1,
        "refused": 1,
        "agent_error": 1,
    }
    assert row["excluded"] == 2
    assert row["refusal_rate"] == pytest.approx(1 / 8)


def test_four_episodes_exact_p_and_se(tmp_path):
    rows = [episode(example_id=str(i), correct=c) for i, c in enumerate([True, True, True, False])]
    row = accuracy_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert (row["n"], row["correct"]) == (4, 0.75)
    assert row["correct_se"] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))
    assert row["excluded"] == 0


def test_stateless_task_keeps_state_correct_null_even_on_max_steps(tmp_path):
    rows = [
        episode(task="relational_data", example_id="q1", correct=True, state_correct=None),
        episode(
            task="relational_data", example_id="q2", status="max_steps", correct=None, state_correct=None
        ),
    ]
    row = accuracy_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert row["n"] == 2 and row["correct"] == 0.5
    assert row["state_correct"] is None and row["state_correct_se"] is None


def test_groups_by_model_task_and_strategy(tmp_path):
    rows = [
        episode(model_id="m1", correct=True),
        episode(model_id="m1", example_id="x2", correct=False),
        episode(model_id="m2", correct=True),
        episode(model_id="m1", strategy="text", correct=True),
        episode(model_id="m1", task="multiverse_math", state_correct=None, correct=False),
    ]
    table = accuracy_table(_episodes(tmp_path, rows))
    got = {
        (r["model_id"], r["task"], r["strategy"]): (r["n"], r["correct"]) for r in table.iter_rows(named=True)
    }
    assert got == {
        ("m1", "typewriter_single", "native"): (2, 0.5),
        ("m1", "typewriter_single", "text"): (1, 1.0),
        ("m2", "typewriter_single", "native"): (1, 1.0),
        ("m1", "multiverse_math", "native"): (1, 0.0),
    }


def test_judge_metric_when_a_judge_ran(tmp_path):
    rows = [
        episode(example_id="a", judge_correct=True),
        episode(example_id="b", judge_correct=False),
        episode(example_id="c", status="max_steps", correct=None, judge_correct=None),
    ]
    row = accuracy_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert row["judge_correct"] == pytest.approx(1 / 3)


def test_zero_scored_episodes_gives_n_zero_and_null_accuracy(tmp_path):
    rows = [episode(status="provider_failed", correct=None), episode(seed=1, status="refused", correct=None)]
    row = accuracy_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert row["n"] == 0
    assert row["correct"] is None and row["correct_se"] is None
    assert (row["excluded"], row["refused"]) == (1, 1)


def test_empty_run_gives_empty_tables(tmp_path):
    episodes = load_runs([write_run(tmp_path, "r")]).episodes
    assert accuracy_table(episodes).height == 0
    assert exclusion_table(episodes).height == 0
    assert scored_episodes(episodes).collect().height == 0


def test_exclusions_cluster_by_task(tmp_path):
    # Task A: 10 episodes, 5 excluded; task B: 10 episodes, none excluded → chi-square 20/3, df 1.
    rows = []
    for i in range(10):
        rows.append(episode(task="A", example_id=f"a{i}", status="provider_failed" if i < 5 else "completed"))
        rows.append(episode(task="B", example_id=f"b{i}"))
    row = exclusion_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert (row["episodes"], row["excluded"], row["excluded_rate"]) == (20, 5, 0.25)
    assert row["task_chi2"] == pytest.approx(20 / 3)
    assert row["task_df"] == 1
    assert row["task_p"] == pytest.approx(math.erfc(math.sqrt(10 / 3)))
    # 20 examples of one episode each: exclusion is the example's whole outcome, chi-square = N = 20.
    assert row["example_chi2"] == pytest.approx(20.0)
    assert row["example_df"] == 19
    assert row["top_example_share"] == pytest.approx(1 / 5)


def test_exclusions_spread_evenly_do_not_cluster(tmp_path):
    rows = []
    for task in ("A", "B"):
        for i in range(4):
            rows.append(
                episode(
                    task=task, example_id=f"{task}{i}", status="provider_failed" if i == 0 else "completed"
                )
            )
    row = exclusion_table(_episodes(tmp_path, rows)).row(0, named=True)
    assert row["task_chi2"] == pytest.approx(0.0)
    assert row["task_p"] == pytest.approx(1.0)


def test_no_exclusions_or_one_task_leaves_tests_undefined(tmp_path):
    rows = [episode(example_id="a"), episode(example_id="b")]
    row = exclusion_table(_episodes(tmp_path / "none", rows)).row(0, named=True)
    assert row["task_p"] is None and row["example_p"] is None
    assert row["note"] == "no excluded episodes"
    one_task = [episode(example_id="a", status="provider_failed"), episode(example_id="b")]
    row = exclusion_table(_episodes(tmp_path / "one", one_task)).row(0, named=True)
    assert row["task_p"] is None and "task test undefined" in row["note"]
    assert row["example_df"] == 1 and row["example_p"] is not None
    assert row["top_example"] == "typewriter_single/a" and row["top_example_share"] == 1.0
