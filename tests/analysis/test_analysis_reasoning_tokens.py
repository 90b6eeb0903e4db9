"""Reasoning and cached tokens in the analysis: summed per model, and null for runs recorded before
the columns existed."""

from run_builders import call, episode, write_part, write_run

from analysis.load import load_runs
from analysis.reliability import breaker_table, reliability_table
from orchestrator.records import to_table

NEW_EPISODE_COLUMNS = ["reasoning_tokens", "cached_input_tokens", "request_params", "truncated", "reasoning"]


def _reliability(run_dirs):
    data = load_runs(run_dirs).collect()
    breakers = breaker_table(data.calls, data.episodes, data.events)
    return {row["run"]: row for row in reliability_table(data.calls, data.episodes, breakers).iter_rows(named=True)}


def test_reasoning_and_cached_tokens_are_summed_and_unknown_for_older_runs(tmp_path):
    new = write_run(tmp_path, "new", episodes=[episode()], calls=[
        call(step=0, reasoning_tokens=7, cached_input_tokens=40),
        call(step=1, reasoning_tokens=5, cached_input_tokens=0),
        call(step=2, outcome="http_5xx", http_status=503, input_tokens=0, output_tokens=0),
    ])
    old = write_run(tmp_path, "old", episodes=[episode()], calls=[])
    older_calls = to_table("calls", [call(step=0)]).drop_columns(["reasoning_tokens", "cached_input_tokens"])
    write_part(old / "calls" / "part-old.arrow", older_calls)
    rows = _reliability([new, old])
    assert (rows["new"]["reasoning_tokens"], rows["new"]["cached_input_tokens"]) == (12, 40)
    assert (rows["new"]["input_tokens"], rows["new"]["output_tokens"]) == (200, 20)
    assert (rows["old"]["reasoning_tokens"], rows["old"]["cached_input_tokens"]) == (None, None)


def test_episodes_without_the_reasoning_columns_load_beside_those_with_them(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[episode(reasoning="high", reasoning_tokens=30, truncated=True,
                                                         request_params='{"reasoning_effort": "high"}')], parts=1)
    older = to_table("episodes", [episode(seed=1)]).drop_columns(NEW_EPISODE_COLUMNS)
    write_part(run_dir / "episodes" / "part-old.arrow", older)
    episodes = load_runs([run_dir]).episodes.collect().sort("seed")
    assert episodes["reasoning"].to_list() == ["high", None]
    assert episodes["reasoning_tokens"].to_list() == [30, None]
    assert episodes["truncated"].to_list() == [True, None]
