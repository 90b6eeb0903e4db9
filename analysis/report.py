"""The report: CSV and Markdown for every table, PNG charts, and one self-contained ``index.html``.

Command line: ``report RUN_DIR [RUN_DIR ...] [--out DIR]`` (also ``python -m analysis``); it
prints the headline tables to the terminal. Default output directory: ``<first run>/report/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Console

from analysis import plots
from analysis.findings import headline_findings
from analysis.load import AnalysisError, load_runs
from analysis.render import Section, markdown_table, page
from analysis.tables import Tables, compute_tables
from analysis.terminal import print_summary
from analysis.trajectory import LENGTH_COLUMNS

DEFINITIONS = (
    "Scored episodes: completed + max_steps (running out of steps is the model's failure; a metric a "
    "max_steps episode left null counts as False). Excluded: provider_failed + agent_error, shown beside the "
    "accuracy, never scored as wrong. Refused: a column of its own.",
    "Standard error of a proportion p over n: sqrt(p(1 − p)/n).",
    "pass@k = 1 − C(n − c, k)/C(n, k) and pass^k = C(c, k)/C(n, k) per example with n scored trials of which "
    "c are correct, averaged over the examples with at least k trials.",
    "Bootstrap intervals resample examples (all seeds of an example together); percentile method.",
    "Latency percentiles: linear interpolation between closest ranks, over ok attempts.",
    "Retries per successful attempt: attempts with attempt number > 1 divided by ok attempts.",
    "Breaker time open: from each opening to the breaker's next transition, or to the run's last recorded "
    "activity.",
)


PLOT_FILES = ("accuracy.png", "trajectory.png", "pass_k.png", "reliability.png", "errors_over_time.png")


@dataclass(frozen=True)
class ReportResult:
    index: Path
    tables: Tables
    findings: list[str]


def _write_tables(tables: Tables, out_dir: Path) -> None:
    tables.runs.write_csv(out_dir / "runs.csv")
    (out_dir / "runs.md").write_text("# Runs\n\n" + markdown_table(tables.runs), encoding="utf-8")
    for item in tables.items.values():
        item.frame.write_csv(out_dir / f"{item.name}.csv")
        text = f"# {item.title}\n\n{item.about}\n\n{markdown_table(item.frame)}"
        (out_dir / f"{item.name}.md").write_text(text, encoding="utf-8")


def _sections(tables: Tables, out_dir: Path) -> list[Section]:
    def table(name: str) -> tuple[str, str, pl.DataFrame, str]:
        item = tables.items[name]
        return item.title, item.about, item.frame, item.name

    def image(alt: str, path: Path | None) -> list[tuple[str, Path]]:
        return [(alt, path)] if path is not None else []

    return [
        Section(
            "Accuracy",
            images=image(
                "accuracy per task", plots.accuracy_bars(tables["accuracy"], out_dir / "accuracy.png")
            ),
            tables=[table("accuracy"), table("exclusions")],
        ),
        Section(
            "Trajectory length",
            images=image(
                "accuracy against trajectory length",
                plots.trajectory_curves(
                    tables["trajectory"], tables["trajectory_fits"], out_dir / "trajectory.png"
                ),
            ),
            tables=[table("trajectory_fits"), table("trajectory")],
        ),
        Section(
            "Variance across seeds",
            images=image("pass^k curves", plots.pass_k_curves(tables["pass_k"], out_dir / "pass_k.png")),
            tables=[table("variance"), table("pass_k")],
        ),
        Section(
            "Provider reliability",
            images=[
                *image(
                    "attempt outcomes per provider",
                    plots.reliability_bars(tables["provider_outcomes"], out_dir / "reliability.png"),
                ),
                *image(
                    "failed attempts over time",
                    plots.error_curves(tables["errors_over_time"], out_dir / "errors_over_time.png"),
                ),
            ],
            tables=[
                table(name)
                for name in (
                    "reliability",
                    "provider_outcomes",
                    "http_status",
                    "breakers",
                    "refusals",
                    "errors_over_time",
                )
            ],
        ),
    ]


def build_report(
    run_dirs: Sequence[Path | str],
    out_dir: Path | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    length: str = "expected_steps",
) -> ReportResult:
    """Load the runs once, compute every table, write every file; return what was written."""
    data = load_runs(run_dirs).collect()
    tables = compute_tables(data, n_boot=n_boot, seed=seed, length=length)
    out_dir = Path(out_dir) if out_dir is not None else Path(run_dirs[0]) / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in PLOT_FILES:  # a chart with nothing to draw this time must not survive from last time
        (out_dir / stale).unlink(missing_ok=True)
    _write_tables(tables, out_dir)
    findings = headline_findings(tables)
    title = "ToolSweep report: " + ", ".join(run.name for run in data.runs)
    index = out_dir / "index.html"
    index.write_text(
        page(title, tables.runs, findings, _sections(tables, out_dir), DEFINITIONS), encoding="utf-8"
    )
    return ReportResult(index, tables, findings)


def write_report(run_dirs: list[Path], out_dir: Path | None = None) -> Path:
    """Write the report of ``run_dirs`` (default ``<first run>/report/``); return the path of index.html."""
    return build_report(run_dirs, out_dir).index


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="report", description="Tables, plots and an HTML page for sweep runs."
    )
    parser.add_argument(
        "run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories to compare"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: <first run>/report)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument(
        "--length",
        choices=LENGTH_COLUMNS,
        default="expected_steps",
        help="trajectory length column (default expected_steps)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.bootstrap < 1:
        parser.error("--bootstrap must be at least 1")
    try:
        result = build_report(
            args.run_dirs, args.out, n_boot=args.bootstrap, seed=args.seed, length=args.length
        )
    except AnalysisError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"report: error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    except pl.exceptions.PolarsError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"report: error: cannot read the run data: {first_line}", file=sys.stderr)
        return 2
    print_summary(result.index, result.tables, result.findings, Console())
    return 0
