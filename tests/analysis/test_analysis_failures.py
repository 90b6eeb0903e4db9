"""Why episodes failed: messages grouped into causes, latest attempts only, in the report too."""

import polars as pl
from run_builders import episode, write_part, write_run

from analysis.failures import failure_causes, normalised
from analysis.load import load_runs
from analysis.report import build_report
from orchestrator.records import to_table


def failed(n, message, status="provider_failed", **fields):
    return episode(example_id=f"x{n}", status=status, correct=None, error_class="ProviderFailed",
                   error_message=message, **fields)


def test_messages_differing_only_in_ids_numbers_and_urls_are_one_cause():
    messages = pl.Series(["HTTP 503 after 6 attempts at https://api.example.com/v1/chat (request req_8f2Ab91)",
                          "HTTP 503 after 2 attempts at https://api.example.com/v1/x (request req_77)",
                          "episode 3f2a9c1b0d4e5f67 timed out after 30.5 s", "no digits here", None])
    out = pl.DataFrame({"m": messages}).select(normalised(pl.col("m")))["m"].to_list()
    assert out[0] == out[1] == "HTTP <n> after <n> attempts at <url> (request <id>)"
    assert out[2] == "episode <id> timed out after <n> s"
    assert out[3:] == ["no digits here", None]


def test_the_top_causes_with_counts_and_an_example_and_the_rest_counted_together(tmp_path):
    rows = [failed(n, f"cause {chr(97 + n % 7)} at step {n}") for n in range(20)]
    rows += [failed(30, "server exited", status="agent_error"), episode(example_id="ok"),
             episode(example_id="r", status="refused", error_message="refused")]
    run = load_runs([write_run(tmp_path, "r", episodes=rows)]).runs
    causes = failure_causes(run, top=3)
    assert causes.height == 4 and causes["episodes"].sum() == 21
    assert causes["episodes"].to_list()[:3] == [3, 3, 3]
    assert causes.row(3, named=True)["cause"] == "(other causes: 5)" and causes["episodes"][3] == 12
    top = causes.row(0, named=True)
    assert top["cause"] == "ProviderFailed: cause a at step <n>"
    assert top["example"] == min(r["episode_id"] for r in rows if (r["error_message"] or "").startswith("cause a"))


def test_a_retried_episode_counts_by_its_latest_attempt_and_the_report_says_why(tmp_path):
    run_dir = write_run(tmp_path, "r", episodes=[failed(1, "HTTP 503"), failed(2, "HTTP 503")], parts=1)
    retried = {**failed(2, "HTTP 429"), "attempt": 2}
    write_part(run_dir / "episodes" / "part-99.arrow", to_table("episodes", [{**retried, "run": "r"}]))
    causes = failure_causes(load_runs([run_dir]).runs)
    assert sorted(causes["cause"]) == ["ProviderFailed: HTTP <n>"] and causes["episodes"].to_list() == [2]
    result = build_report([run_dir], tmp_path / "out", n_boot=50)
    assert "Why episodes failed" in result.index.read_text()
    table = pl.read_csv(tmp_path / "out" / "failures.csv")
    assert table.select("run", "episodes", "status").rows() == [("r", 2, "provider_failed")]
