"""The report: CSV and Markdown for every table, PNG charts, and one self-contained ``index.html``.

Command line: ``report RUN_DIR [RUN_DIR ...] [--out DIR]`` (also ``python -m analysis``); it
prints the headline tables to the terminal. Default output directory: ``<first run>/report/``.
The page opens on the leaderboard and the accuracy chart, then says which differences are real,
then holds the findings, an episode browser and the detailed tables (see :mod:`analysis.render`).
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis import plots, published
from analysis.browser import browser_html
from analysis.cli_errors import reported
from analysis.compare import verdicts
from analysis.episodes import episode_sample
from analysis.failures import failure_causes
from analysis.findings import headline_findings
from analysis.leaderboard import leaderboard_html
from analysis.load import RunData, load_runs
from analysis.render import Section, markdown_table, page, table_block
from analysis.report_table import ReportTable
from analysis.tables import Tables, compute_tables
from analysis.terminal import output_console, print_summary
from analysis.tool_validity import validity_table
from analysis.trajectory import LENGTH_COLUMNS

DEFINITIONS = (
    "Scored episodes: completed + max_steps (running out of steps is the model's failure; a metric a "
    "max_steps episode left null counts as False). Excluded: provider_failed + agent_error, shown beside the "
    "accuracy, never scored as wrong. Refused: a column of its own.",
    "Standard error of a proportion p over n: sqrt(p(1 − p)/n).",
    "pass@k = 1 − C(n − c, k)/C(n, k) and pass^k = C(c, k)/C(n, k) per example with n scored trials of which "
    "c are correct, averaged over the examples with at least k trials.",
    "Bootstrap intervals resample examples (all seeds of an example together); the leaderboard and the paired "
    "differences use the expanded percentile interval (percentiles widened for few examples).",
    "Paired comparisons: two models on the same examples and seeds; p-value by the exact McNemar test (one "
    "seed) or the exact example-level sign-flip test (several seeds), mid-p; Holm's adjustment over every "
    "test of the report; significant = adjusted p < 0.05.",
    "Minimum detectable difference (mde): (z₀.₉₇₅ + z₀.₈)·√((σ²_between + σ²_within/seeds)/examples), the "
    "smallest true difference detected with 80% power; seeds_needed: seeds per example that would detect the "
    "observed difference with 80% power (– when more seeds alone cannot, or with one seed).",
    "Latency percentiles: linear interpolation between closest ranks, over ok attempts.",
    "Retries per successful attempt: attempts with attempt number > 1 divided by ok attempts.",
    "Breaker time open: from each opening to the breaker's next transition, or to the run's last recorded "
    "activity.",
    "Batches: calls with a batch id; errored = any outcome but ok, expired, canceled; wait = queueing to result. "
    "Batch vs online: a run's model is batched when any of its calls has a batch id; the same provider and "
    "model, batched and online, in the same or different runs, side by side.",
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
        _write_report_table(item, out_dir)


def _bullets(lines: Sequence[str], css: str) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines) or "<li>No data yet.</li>"
    return f"<ul class='{css}'>{items}</ul>"


def _image(alt: str, path: Path | None) -> list[tuple[str, Path]]:
    """The chart as a section image, or nothing when it had nothing to draw."""
    return [(alt, path)] if path is not None else []


def _sections(tables: Tables, data: RunData, findings: list[str], out_dir: Path, *, failures: ReportTable,
              validity: ReportTable) -> list[Section]:
    """The page's sections in reading order: the headline parts first, then the details."""
    sample = episode_sample(data)
    return [
        _leaderboard_section(tables, out_dir),
        _differences_section(tables),
        *published.sections(data.episodes.collect(), out_dir),
        Section("Headline findings", "findings", body=_bullets(findings, "findings")),
        Section("Episodes", "episodes", body=browser_html(sample.payload, sample.note)),
        _runs_section(tables),
        _failures_section(failures),
        _validity_section(validity),
        Section("Accuracy in detail", "accuracy", tables=[tables.items["accuracy"], tables.items["exclusions"]]),
        *_detail_sections(tables, out_dir),
        Section("Definitions", "definitions", body=_bullets(DEFINITIONS, "about")),
    ]


def _leaderboard_section(tables: Tables, out_dir: Path) -> Section:
    board = tables.items["leaderboard"]
    return Section(
        "Leaderboard",
        "leaderboard",
        body=leaderboard_html(board.frame)
        + f"<p class='files'><a href='{board.name}.csv'>{board.name}.csv</a> · "
        f"<a href='{board.name}.md'>{board.name}.md</a></p>",
        images=_image(
            "accuracy per task with 95% intervals",
            plots.accuracy_interval_bars(board.frame, out_dir / "accuracy.png"),
        ),
    )


def _differences_section(tables: Tables) -> Section:
    """The verdicts and the accuracy comparisons; the other comparison tables folded below them."""
    items = tables.items
    differences = "\n".join(
        [
            _bullets(verdicts(tables.comparisons), "verdicts"),
            table_block(items["comparisons"], title=False, collapse=False),
            *(
                f"<details><summary>{html.escape(items[name].title)} ({items[name].frame.height:,} rows)</summary>"
                f"{table_block(items[name], title=False, collapse=False)}</details>"
                for name in ("comparisons_steps_match", "error_rates", "comparisons_detail")
            ),
        ]
    )
    return Section(
        "Which differences are real",
        "differences",
        about="Paired by example and seed; the example is the unit of resampling and of the test.",
        body=differences,
    )


def _runs_section(tables: Tables) -> Section:
    runs = ReportTable(
        "runs",
        "Runs",
        "Per run: episodes planned, recorded, scored, excluded and refused; judgements that failed (no "
        "verdict: judge_correct left empty, the reason in judge_error); HTTP attempts; time span.",
        tables.runs,
        ("run", "episodes_planned", "episodes", "scored", "excluded", "refused", "judge_failed", "attempts",
         "span_s"),
    )
    return Section("Runs", "runs", body=table_block(runs, title=False))


def _detail_sections(tables: Tables, out_dir: Path) -> list[Section]:
    """Trajectory length, variance across seeds and provider reliability, each with its charts."""
    items = tables.items
    return [
        Section(
            "Trajectory length",
            "trajectory",
            images=_image(
                "accuracy against trajectory length",
                plots.trajectory_curves(tables["trajectory"], tables["trajectory_fits"], out_dir / "trajectory.png"),
            ),
            tables=[items["trajectory_fits"], items["trajectory"]],
        ),
        Section(
            "Variance across seeds",
            "variance",
            images=_image("pass^k curves", plots.pass_k_curves(tables["pass_k"], out_dir / "pass_k.png")),
            tables=[items["variance"], items["pass_k"]],
        ),
        Section(
            "Provider reliability",
            "reliability",
            images=[
                *_image(
                    "attempt outcomes per provider",
                    plots.reliability_bars(tables["provider_outcomes"], out_dir / "reliability.png"),
                ),
                *_image(
                    "failed attempts over time",
                    plots.error_curves(tables["errors_over_time"], out_dir / "errors_over_time.png"),
                ),
            ],
            tables=[
                items[name]
                for name in ("reliability", "streaming", "provider_outcomes", "http_status", "breakers", "refusals", "served_models",
                             "errors_over_time", "batches", "batch_vs_online")
                if name in items  # the streaming and batch tables exist only for runs with such calls
            ],
        ),
    ]


def _subtitle(tables: Tables) -> str:
    runs = tables.runs
    episodes = int(runs["episodes"].sum())
    planned = runs["episodes_planned"].drop_nulls()
    of_planned = f" of {int(planned.sum()):,} planned" if planned.len() == runs.height else ""
    accuracy = tables["accuracy"]
    def count(n: int, word: str, plural: str) -> str:
        return f"{n} {word if n == 1 else plural}"

    shape = (
        f"{count(accuracy['model_id'].n_unique(), 'model', 'models')} × "
        f"{count(accuracy['task'].n_unique(), 'task', 'tasks')} × "
        f"{count(accuracy['strategy'].n_unique(), 'strategy', 'strategies')}"
        if not accuracy.is_empty()
        else "nothing scored yet"
    )
    return f"{episodes:,} episodes{of_planned} · {shape} · {int(runs['attempts'].sum()):,} HTTP attempts"


def failures_table(data: RunData) -> ReportTable:
    """Per run, the top causes of failed episodes (``analysis.failures``)."""
    frames = [failure_causes([run]).select(pl.lit(run.name).alias("run"), pl.all()) for run in data.runs]
    return ReportTable(
        "failures",
        "Why episodes failed",
        "Episodes whose latest attempt ended provider_failed or agent_error, grouped by status and error message "
        "(URLs, ids and numbers replaced by <url>, <id>, <n>), with one example episode id. To run them again in "
        "the same run directory: python -m orchestrator sweep SWEEP.yaml --retry-errors, with the config that "
        "made the run.",
        pl.concat(frames, how="vertical"),
        ("run", "episodes", "status", "cause"),
    )


def _failures_section(item: ReportTable) -> Section:
    if item.frame.is_empty():
        return Section(item.title, item.name, body=_bullets(["No episode failed."], "about"))
    return Section(item.title, item.name, body=table_block(item, title=False))


def _validity_section(item: ReportTable) -> Section:
    if item.frame.is_empty():
        return Section(item.title, item.name, body=_bullets(["No tool call was made."], "about"))
    return Section(item.title, item.name, body=table_block(item, title=False))


def _write_report_table(item: ReportTable, out_dir: Path) -> None:
    """``<name>.csv`` and ``<name>.md`` of one table."""
    item.frame.write_csv(out_dir / f"{item.name}.csv")
    (out_dir / f"{item.name}.md").write_text(f"# {item.title}\n\n{item.about}\n\n{markdown_table(item.frame)}",
                                             encoding="utf-8")


def build_report(
    run_dirs: Sequence[Path | str],
    out_dir: Path | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    length: str = "expected_steps",
    scores: str | None = None,
) -> ReportResult:
    """Load the runs once, compute every table, write every file; return what was written.
    ``scores``: the rescoring (``scores/<name>``) whose scores replace the runs' own."""
    data = load_runs(run_dirs, scores=scores).collect()
    tables = compute_tables(data, n_boot=n_boot, seed=seed, length=length)
    out_dir = Path(out_dir) if out_dir is not None else Path(run_dirs[0]) / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in PLOT_FILES:  # a chart with nothing to draw this time must not survive from last time
        (out_dir / stale).unlink(missing_ok=True)
    _write_tables(tables, out_dir)
    failures, validity = failures_table(data), validity_table(data.runs)
    for item in (failures, validity):
        _write_report_table(item, out_dir)
    findings = headline_findings(tables)
    title = "ToolSweep report: " + ", ".join(run.name for run in data.runs)
    index = out_dir / "index.html"
    index.write_text(page(title, _subtitle(tables), _sections(tables, data, findings, out_dir, failures=failures,
                                                                          validity=validity)), encoding="utf-8")
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
    parser.add_argument("--scores", metavar="NAME", help="use the rescoring scores/NAME instead of the runs' scores")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.bootstrap < 1:
        parser.error("--bootstrap must be at least 1")
    result = reported("report", "the report", lambda: build_report(
        args.run_dirs, args.out, n_boot=args.bootstrap, seed=args.seed, length=args.length,
        scores=args.scores))
    if isinstance(result, int):
        return result
    print_summary(result.index, result.tables, result.findings, output_console())
    return 0
