"""The ``compare`` command: load runs, compare their models (:mod:`analysis.compare`), write the
tables and print the accuracy comparisons with their verdicts.

Command line: ``compare RUN [RUN ...] [--models A B ...] [--out DIR]`` (through
``python -m orchestrator compare``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from analysis.cli_errors import reported
from analysis.compare import Comparisons, compare, model_label, names, verdicts
from analysis.load import load_runs
from analysis.render import markdown_table
from analysis.terminal import output_console, print_comparisons, print_tool_validity
from analysis.tool_validity import kind_counts, validity_shares


def write_comparisons(comparisons: Comparisons, out_dir: Path, validity: pl.DataFrame) -> list[Path]:
    """comparisons.csv/.md (accuracy), comparisons_steps_match.csv/.md, comparisons_detail.csv,
    error_rates.csv/.md, tool_validity_by_run.csv/.md; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, title, frame in (
        ("comparisons", "Which differences are real: accuracy", comparisons.metric("correct")),
        ("comparisons_steps_match", "Which differences are real: steps_match", comparisons.metric("steps_match")),
        ("error_rates", "Did a provider's error rate change between runs", comparisons.error_rates),
        ("tool_validity_by_run", "Tool-call validity per model, strategy and run", validity),
    ):
        frame.write_csv(out_dir / f"{stem}.csv")
        (out_dir / f"{stem}.md").write_text(f"# {title}\n\n{markdown_table(frame)}", encoding="utf-8")
        written += [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"]
    comparisons.detail.write_csv(out_dir / "comparisons_detail.csv")
    written.append(out_dir / "comparisons_detail.csv")
    return written


def _chosen(validity: pl.DataFrame, models: list[str] | None) -> pl.DataFrame:
    """The rows of the models ``--models`` names, matched as ``select_models`` matches them (a
    label, or every label of a model_id); all rows without ``--models``."""
    if not models or validity.is_empty():
        return validity
    labels = validity.select(model_label())["model"]
    return validity.filter(pl.Series([any(names(name, label) for name in models) for label in labels]))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare", description="Paired comparisons of the models of one or more run directories."
    )
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN", help="run directories")
    parser.add_argument("--models", nargs="+", metavar="MODEL", help="models to compare (default: all)")
    parser.add_argument("--out", type=Path, help="where to write the tables (default: <first run>/report)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--scores", metavar="NAME", help="use the rescoring scores/NAME instead of the runs' scores")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.bootstrap < 1:
        parser.error("--bootstrap must be at least 1")

    def run() -> tuple[Comparisons, pl.DataFrame, list[Path]]:
        data = load_runs(args.run_dirs, scores=args.scores).collect()
        comparisons = compare(data, models=args.models, n_boot=args.bootstrap, seed=args.seed)
        validity = _chosen(validity_shares(kind_counts(data.runs, keys=["run", "model_id", "strategy"])), args.models)
        out_dir = args.out if args.out is not None else args.run_dirs[0] / "report"
        return comparisons, validity, write_comparisons(comparisons, out_dir, validity)

    outcome = reported("compare", "the tables", run)
    if isinstance(outcome, int):
        return outcome
    comparisons, validity, written = outcome
    console = output_console()
    print_comparisons(comparisons, verdicts(comparisons), written[0], console)
    print_tool_validity(validity, console)
    return 0
