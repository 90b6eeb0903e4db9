import base64
import re
import struct
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from run_builders import T0, call, episode, event, write_run

from analysis.compare import COLUMNS
from analysis.report import main, write_report

TABLES = (
    "runs",
    "leaderboard",
    "comparisons",
    "comparisons_steps_match",
    "comparisons_detail",
    "error_rates",
    "accuracy",
    "exclusions",
    "trajectory_fits",
    "trajectory",
    "variance",
    "pass_k",
    "reliability",
    "provider_outcomes",
    "http_status",
    "breakers",
    "refusals",
    "errors_over_time",
)
PLOTS = ("accuracy", "trajectory", "pass_k", "reliability", "errors_over_time")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _generated_run(root: Path, name: str = "demo") -> Path:
    """Two models × two tasks × 3 seeds × 4 examples; the weak model fails long trajectories."""
    episodes, calls = [], []
    for model_id, provider in (("oracle", "simulated"), ("weak", "flaky")):
        for task in ("typewriter_single", "multiverse_math"):
            for example in range(4):
                for seed in range(3):
                    length = example + 1
                    correct = model_id == "oracle" or length + seed < 4
                    status = (
                        "provider_failed"
                        if (model_id, task, example, seed) == ("weak", task, 3, 2)
                        else "completed"
                    )
                    row = episode(
                        model_id=model_id,
                        provider=provider,
                        task=task,
                        example_id=f"{task[:3]}{example}",
                        seed=seed,
                        expected_steps=length,
                        status=status,
                        correct=correct if status == "completed" else None,
                        state_correct=(correct if task == "typewriter_single" else None)
                        if status == "completed"
                        else None,
                        started_at=T0 + 10 * len(episodes),
                    )
                    episodes.append(row)
                    calls.append(
                        call(
                            episode_id=row["episode_id"],
                            provider=provider,
                            model_id=model_id,
                            started_at=row["started_at"],
                            latency_s=0.1 + 0.01 * example,
                        )
                    )
                    if provider == "flaky":
                        calls.append(
                            call(
                                episode_id=row["episode_id"],
                                provider=provider,
                                model_id=model_id,
                                attempt=2,
                                outcome="http_5xx",
                                http_status=503,
                                started_at=row["started_at"] + 90,
                                latency_s=0.5,
                            )
                        )
    events = [
        event(provider="flaky", at=T0 + 30, to_state="open"),
        event(provider="flaky", at=T0 + 40, from_state="open", to_state="half_open"),
    ]
    return write_run(root, name, episodes=episodes, calls=calls, events=events, planned=len(episodes) + 4)


def _check_png(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert (length, chunk_type) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    return width, height


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> tuple[Path, Path]:
    run_dir = _generated_run(tmp_path_factory.mktemp("runs"))
    return run_dir, write_report([run_dir])


def test_report_writes_every_file_and_a_self_contained_page(demo_report):
    run_dir, index = demo_report
    out_dir = run_dir / "report"
    assert index == out_dir / "index.html"
    for name in TABLES:
        assert (out_dir / f"{name}.csv").is_file(), name
        markdown = (out_dir / f"{name}.md").read_text()
        # one run: no error rate to compare between runs
        assert markdown.count("|") > 0 or (name == "error_rates" and "_(no rows)_" in markdown), name
    for name in PLOTS:
        _check_png((out_dir / f"{name}.png").read_bytes())

    html = index.read_text()
    links = re.findall(r"href='([^']*)'", html)
    files = [link for link in links if not link.startswith("#")]
    anchors = {link[1:] for link in links if link.startswith("#")}
    assert files and all((out_dir / link).is_file() for link in files)
    ids = set(re.findall(r"id='([^']*)'", html)) | set(re.findall(r'id="([^"]*)"', html))
    assert {"leaderboard", "differences", "episodes"} <= anchors <= ids
    images = re.findall(r"src='([^']*)'", html)
    assert len(images) == len(PLOTS)
    for source in images:
        assert source.startswith("data:image/png;base64,")
        _check_png(base64.b64decode(source.split(",", 1)[1]))
    assert "http://" not in html and "https://" not in html
    assert "demo" in html and "Headline findings" in html
    assert html.index("<table class='leaderboard'>") < html.index("Which differences are real</h2>")
    assert "id='episodes'" in html and 'id="episode-data"' in html
    assert pl.read_csv(out_dir / "comparisons.csv").columns == COLUMNS
    assert "52 planned" in html  # 48 recorded of 52 planned


def test_report_tables_hold_the_expected_numbers(demo_report):
    out_dir = demo_report[1].parent
    accuracy = pl.read_csv(out_dir / "accuracy.csv")
    oracle = accuracy.filter(pl.col("model_id") == "oracle")
    assert oracle["correct"].to_list() == [1.0, 1.0] and oracle["n"].to_list() == [12, 12]
    weak = accuracy.filter((pl.col("model_id") == "weak") & (pl.col("task") == "typewriter_single")).row(
        0, named=True
    )
    # Correct when length + seed < 4: lengths 1..4 × seeds 0..2 → 3 + 2 + 1 + 0 = 6 of 11 scored.
    assert (weak["n"], weak["excluded"]) == (11, 1)
    assert weak["correct"] == pytest.approx(6 / 11)
    reliability = pl.read_csv(out_dir / "reliability.csv")
    flaky = reliability.filter(pl.col("provider") == "flaky").row(0, named=True)
    assert flaky["attempts"] == 48 and flaky["http_5xx_rate"] == pytest.approx(0.5)
    assert flaky["provider_breaker_opens"] == 1 and flaky["provider_breaker_open_s"] == pytest.approx(10.0)
    runs = pl.read_csv(out_dir / "runs.csv").row(0, named=True)
    assert (runs["episodes"], runs["episodes_planned"], runs["excluded"]) == (48, 52, 2)


def test_cli_prints_a_summary_and_honours_out(tmp_path, capsys):
    run_dir = _generated_run(tmp_path)
    assert main([str(run_dir), "--out", str(tmp_path / "elsewhere"), "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "Accuracy" in printed and "Reliability" in printed and "Variance across seeds" in printed
    assert "Run demo: 48 episodes recorded of 52 planned" in printed
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    assert not (run_dir / "report").exists()


def test_cli_bad_directory_is_one_line_and_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("report: error: not a directory:")
    assert error.count("\n") == 1 and "Traceback" not in error


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "analysis", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"report: error: not a run directory (no manifest.json): {tmp_path}"


def test_report_of_a_run_with_nothing_finished(tmp_path, capsys):
    run_dir = write_run(tmp_path, "empty", planned=10)
    out_dir = run_dir / "report"
    out_dir.mkdir()
    (out_dir / "accuracy.png").write_bytes(PNG_SIGNATURE)  # left over from an earlier report
    assert main([str(run_dir)]) == 0
    for name in TABLES:
        assert (out_dir / f"{name}.csv").is_file()
    assert not list(out_dir.glob("*.png"))
    html = (out_dir / "index.html").read_text()
    assert "<img" not in html and "No rows." in html
    assert "0 episodes recorded of 10 planned" in html


def test_report_compares_two_runs(tmp_path):
    first = _generated_run(tmp_path / "a", "baseline")
    second = _generated_run(tmp_path / "b", "rerun")
    index = write_report([first, second], tmp_path / "both")
    accuracy = pl.read_csv(tmp_path / "both" / "accuracy.csv")
    assert sorted(accuracy["run"].unique()) == ["baseline", "rerun"]
    assert accuracy.height == 8
    html = index.read_text()
    assert "Run baseline:" in html and "Run rerun:" in html


def test_failed_judgements_are_counted_per_run(tmp_path):
    """A judgement that failed leaves judge_correct empty; the runs table counts it (2 of 3 here)."""
    episodes = [
        episode(example_id="x1", judge_correct=True),
        episode(example_id="x2", judge_error="ProviderUnavailable: down"),
        episode(example_id="x3", judge_error="the reply held no verdict"),
    ]
    run = write_run(tmp_path, "judged", episodes=episodes, calls=[call()])
    index = write_report([run], tmp_path / "out")
    runs = pl.read_csv(tmp_path / "out" / "runs.csv")
    assert runs.select("run", "episodes", "judge_failed").to_dicts() == [
        {"run": "judged", "episodes": 3, "judge_failed": 2}]
    assert "judge_failed" in index.read_text()
