"""``python -m orchestrator`` / ``toolsweep``: run a sweep, check a config, list tasks, report.

Exit codes: 0 success; 2 bad input (config, API key, arguments), reported as one ``error:`` line
without a traceback; 1 an internal error (with its traceback); 3 the budget was reached (resume
with a larger one); 4 more episodes failed than ``fail_on`` allows; 130 interrupted.
Heavy modules (Ray, Polars, the providers' SDKs) load only inside the command that needs them.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.exit_codes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from orchestrator.config import SweepConfig


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolsweep",
        description="Benchmark LLM agents on tool-use tasks and measure the reliability of their providers.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sweep = commands.add_parser(
        "sweep", help="run a sweep (resumes the run directory if it holds the same config)",
        description="Run every episode of SWEEP.yaml that its run directory does not hold yet.")
    sweep.add_argument("config", metavar="SWEEP.yaml", help="the sweep config")
    sweep.add_argument("--out", metavar="DIR", help="parent of the run directory (default: the config's output)")
    sweep.add_argument("--address", metavar="ADDR",
                       help='Ray cluster to join, "auto" or ray://host:10001 (default: the config\'s ray.address)')
    sweep.add_argument("--fresh", action="store_true",
                       help="start a new run directory <name>-2, <name>-3, … instead of resuming")
    sweep.add_argument("--retry-errors", action="store_true",
                       help="also run again, in the same run directory, every episode whose latest attempt "
                            "ended provider_failed or agent_error (a new row with the next attempt number)")
    sweep.add_argument("--dry-run", action="store_true", help="print the plan without running it")
    sweep.add_argument("--limit", type=_positive_int, metavar="N", help="run at most N episodes of the plan")
    sweep.add_argument("--cache", choices=("off", "read", "write", "readwrite"), metavar="MODE",
                       help="the response cache: off | read | write | readwrite (default: the config's cache.mode)")
    sweep.add_argument("--estimate", action="store_true",
                       help="print the expected calls, tokens and cost per model, calling no provider")
    sweep.add_argument("--like", metavar="RUN", help="with --estimate: calibrate the token model by this run")
    sweep.add_argument("--simulate", action="store_true",
                       help="run offline: every openai/anthropic/google model replaced by a simulated oracle "
                            "impersonating it (same request bodies, the model's rules enforced); no API keys; "
                            "run directory <name>-simulated")

    validate = commands.add_parser(
        "validate", help="check a sweep config without running anything",
        description="Check SWEEP.yaml (schema, task and example names, API keys) and print its size.")
    validate.add_argument("config", metavar="SWEEP.yaml", help="the sweep config")
    validate.add_argument("--strict", action="store_true",
                          help="treat warnings (a reference no tool output contains) as errors")

    tasks_command = commands.add_parser(
        "tasks", help="list the tasks and their examples",
        description="List the tasks with their example counts and expected tool-call counts: the built-in "
                    "ones, those installed packages register under the toolsweep.tasks entry point, and with "
                    "SWEEP.yaml the sweep's own (Python plugins and MCP servers).")
    tasks_command.add_argument("config", nargs="?", metavar="SWEEP.yaml",
                               help="(added) also list this sweep's own tasks")

    report = commands.add_parser(
        "report", help="write tables, plots and an HTML page for run directories",
        description="Build the report (tables, plots, index.html) of one or more run directories.")
    report.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories to report on")
    report.add_argument("--out", metavar="DIR", help="where to write the report (default: RUN_DIR/report)")
    report.add_argument("--scores", metavar="NAME",
                        help="use the scores of a rescoring, scores/NAME (e.g. paper-1), instead of the run's own")

    compare = commands.add_parser(
        "compare", help="paired comparisons of models: which differences are real, how many seeds to settle",
        description="Compare every two models on the examples and seeds they share (paired bootstrap "
                    "interval, exact paired test, Holm); write comparisons.csv / .md.")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN", help="run directories")
    compare.add_argument("--models", nargs="+", metavar="MODEL", help="models to compare (default: all)")
    compare.add_argument("--out", metavar="DIR", help="where to write the tables (default: RUN/report)")
    compare.add_argument("--scores", metavar="NAME", help="use the scores of a rescoring, scores/NAME")

    rescore = commands.add_parser(
        "rescore", help="score a run again from its transcripts, calling no model under test",
        description="Recompute every episode's scores from its transcript (tool calls replayed on a fresh "
                    "environment) under a scoring profile, optionally with an LLM judge; writes RUN/scores/<profile>-<n>.")
    rescore.add_argument("run_dir", metavar="RUN", help="the run directory")
    rescore.add_argument("--scoring", choices=("toolsweep", "paper"), metavar="PROFILE",
                         help="toolsweep | paper (default: the run's own)")
    rescore.add_argument("--judge", metavar="MODEL_ID", help="grade completed answers with this model of the run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        # Masked on the way out too: an exception of any origin may quote a setting.
        from providers.keys import mask_keys

        if _is_user_error(exc):
            print(mask_keys(f"error: {exc}"), file=sys.stderr)
            return EXIT_USAGE
        print(mask_keys("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
        summary = str(exc).strip().splitlines()
        print(mask_keys(f"error: internal error: {type(exc).__name__}: {summary[0] if summary else ''}"),
              file=sys.stderr)
        return EXIT_INTERNAL


def _is_user_error(exc: Exception) -> bool:
    # Imported here, not at the top, so that `tasks` and `report` do not pay for pydantic.
    from orchestrator.config import ConfigError
    from orchestrator.rundir import RunDirError
    from providers.keys import MissingApiKey
    from tasks.plugins import PluginError

    return isinstance(exc, ConfigError | RunDirError | MissingApiKey | PluginError)


def _sweep(args: argparse.Namespace) -> int:
    from orchestrator.config import ConfigError, load_config

    config = load_config(args.config, check_keys=not args.simulate)
    if args.simulate:
        from orchestrator.simulate import simulated

        config = simulated(config)
    if args.cache is not None:
        config = config.model_copy(update={"cache": config.cache.model_copy(update={"mode": args.cache})})
    _warn(config)
    if args.like and not args.estimate:
        raise ConfigError("--like RUN applies only with --estimate")
    if args.retry_errors and (args.fresh or args.estimate):
        raise ConfigError(f"--retry-errors runs an existing run's failed episodes again; it does not apply with "
                          f"{'--fresh' if args.fresh else '--estimate'}")
    if args.estimate:
        return _estimate(config, args)
    from orchestrator.sweep import run_sweep

    return run_sweep(config, config_path=Path(args.config), out=Path(args.out) if args.out else None,
                     address=args.address or config.ray.address, fresh=args.fresh, dry_run=args.dry_run,
                     limit=args.limit, retry_errors=args.retry_errors)


def _estimate(config: SweepConfig, args: argparse.Namespace) -> int:
    from orchestrator.budget import estimate, estimate_table
    from orchestrator.plan import build_plan
    from orchestrator.rundir import RunDirError

    like = Path(args.like) if args.like else None
    if like is not None and not (like / "episodes").is_dir():
        raise RunDirError(f"--like {like}: not a run directory (no episodes/)")
    plan = build_plan(config, limit=args.limit)
    print(estimate_table(estimate(config, plan, like)))
    basis = f"calibrated by {like}" if like else "the oracle's path, 4 characters a token"
    print(f"expected from the tasks' expected steps ({basis}); no provider was called; "
          "* the price the sweep will pay (batch for models[].batch)")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from orchestrator.config import load_config
    from orchestrator.plan import build_plan, selected_examples

    config = load_config(args.config)
    _warn(config)
    selected = selected_examples(config)
    if not _check_references(config, selected, strict=args.strict):
        return EXIT_USAGE
    examples = sum(len(ids) for ids in selected.values())
    episodes = len(build_plan(config))
    print(f"{args.config}: OK — {len(config.models)} model{_s(config.models)} × {examples} examples "
          f"({len(config.tasks)} task{_s(config.tasks)}) × {len(config.seeds)} seed{_s(config.seeds)} × "
          f"{len(config.strategies)} strateg{'ies' if len(config.strategies) != 1 else 'y'} "
          f"= {episodes} episodes")
    return EXIT_OK


def _check_references(config: SweepConfig, selected: dict[str, list[str]], *, strict: bool) -> bool:
    """Run the expected steps of the sweep's own tasks (``reference_check``); print what was found.
    The built-in tasks' datasets are checked by their tests, so they are skipped here. False when
    there is an error (or, with ``strict``, a warning)."""
    import tasks
    from orchestrator.config import located
    from orchestrator.reference_check import check_references

    failed = False
    for i, selection in enumerate(config.tasks):
        if selection.name in tasks.TASK_NAMES:
            continue
        task = tasks.get_task(selection.name, selection.dataset, config.scoring)
        wanted = set(selected.get(selection.name, ()))
        key = next((k for k in ("mcp", "path", "module") if getattr(selection, k) is not None), "name")
        for finding in check_references(task, [e for e in task.examples if e.id in wanted]):
            level = "error" if strict else finding.level
            failed |= level == "error"
            # the dataset's line when the example came from a file, else the sweep's task entry
            where = str(finding) if finding.source else located(config, ("tasks", i, key), str(finding))
            print(f"{level}: {where}", file=sys.stderr)
    return not failed


def _warn(config: SweepConfig) -> None:
    """Settings that are applied but keep the sweep from what the config seems to ask for."""
    from orchestrator.capacity import unreachable_caps
    from orchestrator.config import located
    from orchestrator.config.catalog import catalog_warnings

    for loc, problem in [*catalog_warnings(config), *unreachable_caps(config)]:
        print(f"warning: {located(config, loc, problem)}", file=sys.stderr)


def _s(items: Sequence[object]) -> str:
    return "" if len(items) == 1 else "s"


def _tasks(args: argparse.Namespace) -> int:
    import tasks
    from tasks.plugins import TaskSource, entry_point_names

    origins = dict.fromkeys(tasks.TASK_NAMES, "built in")
    for name in entry_point_names():
        if name not in origins:  # a built-in name wins: the registry refuses to replace one
            tasks.register(TaskSource(name, entry_point=name))
            origins[name] = "installed (entry point)"
    if args.config:
        from orchestrator.config import load_config
        from orchestrator.task_sources import register_sources

        config = load_config(args.config, check_keys=False)
        register_sources(config.task_sources)
        for source in config.task_sources:
            origins[source.name] = f"{args.config} ({source.kind})"

    header = ("task", "examples", "expected tool calls", "difficulty", "datasets", "source")
    rows = [header]
    for name, origin in origins.items():
        examples = tasks.get_task(name).examples
        steps = [len(example.expected_steps) for example in examples]
        levels = [example.difficulty for example in examples]
        datasets = ", ".join(f"{d} ({len(tasks.get_task(name, d).examples)})" for d in tasks.dataset_names(name))
        rows.append((name, str(len(examples)), _span(steps), _span(levels), datasets, origin))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return EXIT_OK


def _span(values: list[int]) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def _report(args: argparse.Namespace) -> int:
    from analysis.report import main as report_main

    return report_main([*args.run_dirs, *(["--out", args.out] if args.out else []),
                        *(["--scores", args.scores] if args.scores else [])])


def _compare(args: argparse.Namespace) -> int:
    from analysis.compare_cli import main as compare_main

    return compare_main([*args.run_dirs, *(["--models", *args.models] if args.models else []),
                         *(["--out", args.out] if args.out else []),
                         *(["--scores", args.scores] if args.scores else [])])


def _rescore(args: argparse.Namespace) -> int:
    from orchestrator.rescore import describe, rescore

    print(describe(rescore(Path(args.run_dir), scoring=args.scoring, judge=args.judge)))
    return EXIT_OK


_COMMANDS = {"sweep": _sweep, "validate": _validate, "tasks": _tasks, "report": _report, "compare": _compare,
             "rescore": _rescore}
