"""The command line: exit codes, one-line errors for broken configs, validate, tasks, report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import tasks
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).parent / "configs"
BROKEN = sorted(CONFIGS.glob("*.yaml"))
UNSET_KEY = "TOOLSWEEP_TEST_UNSET_KEY"

VALID = """\
name: cli-valid
tasks: [typewriter_single, {name: multiverse_math, limit: 3}]
seeds: 2
strategies: [native, text]
models:
  - {id: sim-oracle, provider: simulated, model: oracle}
  - {id: sim-noisy, provider: simulated, model: noisy, faults: {http_5xx: 0.1}}
"""


def expectation(path: Path) -> tuple[str | None, str | None, str]:
    """(line, field, problem) from the fixture's first line: ``# expect: line=N field=F problem=P``."""
    match = re.match(r"# expect: line=(\S+) field=(.+?) problem=(.+)$", path.read_text().splitlines()[0])
    assert match, f"{path.name} lacks its expect line"
    line, field, problem = match.groups()
    return (None if line == "-" else line), (None if field == "-" else field), problem


def expected_prefix(path: Path, shown_as: str) -> str:
    line, field, problem = expectation(path)
    where = f"{shown_as}:{line}" if line else shown_as
    return f"error: {where}: {field}: " if field else f"error: {where}: "


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != UNSET_KEY}
    env["PYTHONUNBUFFERED"] = "1"
    # the code under test, not a copy installed in the environment (the subprocesses run elsewhere)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def fake_sweep(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the sweep engine with a recorder, so CLI tests never start Ray."""
    calls: list[dict] = []
    module = types.ModuleType("orchestrator.sweep")

    def run_sweep(config, **kwargs):
        calls.append({"config": config, **kwargs})
        return 0

    module.run_sweep = run_sweep
    monkeypatch.setitem(sys.modules, "orchestrator.sweep", module)
    monkeypatch.delenv(UNSET_KEY, raising=False)
    return calls


def test_every_fixture_is_broken_in_a_known_way():
    assert len(BROKEN) >= 12
    for path in BROKEN:
        expectation(path)


@pytest.mark.parametrize("command", ["validate", "sweep"])
@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_configs_give_one_line_and_exit_2(fake_sweep, capsys, command, path):
    assert main([command, str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(expected_prefix(path, str(path))), lines[0]
    assert expectation(path)[2] in lines[0]
    assert captured.out == "" and fake_sweep == []


def test_broken_configs_in_subprocesses(tmp_path):
    """The real entry point: exit 2, one stderr line, no traceback, nothing created. One fixture of
    each stage (YAML, top level, schema, cross-check, API key); the test above covers them all."""
    runs = [("validate", CONFIGS / name) for name in
            ("yaml_syntax.yaml", "not_a_mapping.yaml", "fault_out_of_range.yaml", "unknown_example.yaml")]
    runs += [("sweep", CONFIGS / name) for name in ("unknown_key.yaml", "missing_key_env.yaml")]
    procs = [
        (command, path, subprocess.Popen([sys.executable, "-m", "orchestrator", command, str(path)], cwd=tmp_path,
                                         env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for command, path in runs
    ]
    for command, path, proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (command, path.name, err)
        assert len(err.splitlines()) == 1 and "Traceback" not in err, (command, path.name, err)
        assert err.startswith(expected_prefix(path, str(path))), err
        assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_validate_prints_the_size_of_the_sweep(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(VALID)
    assert main(["validate", str(path)]) == 0
    examples = len(tasks.get_task("typewriter_single").examples) + min(3, len(tasks.get_task("multiverse_math").examples))
    out = capsys.readouterr().out.strip()
    assert out == (f"{path}: OK — 2 models × {examples} examples (2 tasks) × 2 seeds × 2 strategies "
                   f"= {2 * examples * 2 * 2} episodes")
    assert not (tmp_path / "runs").exists()


def test_the_cli_imports_lightly_and_validate_loads_neither_ray_nor_polars(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(VALID)
    code = ("import sys; from orchestrator.cli import main; light = 'pydantic' not in sys.modules; "
            "rc = main(['validate', sys.argv[1]]); "
            "print(rc, light, sorted(m for m in ('ray', 'polars', 'openai', 'anthropic', 'aiohttp') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=cli_env(),
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 True []"


def test_a_sweep_loads_no_client_library_or_polars_before_ray_starts():
    """What the driver imports before it starts Ray delays the first model call: the sweep module
    and the simulator's process handle load none of the SDKs, aiohttp (the simulator's own process
    loads it) or polars (the closing summary loads it)."""
    code = ("import sys; import orchestrator.sweep; from providers.simulator import SimulatorProcess; "
            "print(sorted(m for m in ('ray', 'polars', 'openai', 'anthropic', 'aiohttp', 'google.genai') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_sweep_passes_its_options_on(fake_sweep, tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(VALID + "ray: {address: auto}\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--fresh", "--dry-run", "--limit", "5"]) == 0
    (call,) = fake_sweep
    assert call["config"].name == "cli-valid" and call["config_path"] == path
    assert call["out"] == tmp_path / "o" and call["address"] == "auto"
    assert (call["fresh"], call["dry_run"], call["limit"]) == (True, True, 5)
    assert main(["sweep", str(path), "--address", "ray://head:10001"]) == 0
    assert fake_sweep[1]["address"] == "ray://head:10001" and fake_sweep[1]["out"] is None
    assert (fake_sweep[1]["fresh"], fake_sweep[1]["dry_run"], fake_sweep[1]["limit"]) == (False, False, None)


def test_retry_errors_is_passed_on_and_refused_where_it_cannot_apply(fake_sweep, tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(VALID)
    assert main(["sweep", str(path), "--retry-errors"]) == 0
    assert fake_sweep[0]["retry_errors"] is True
    for other in ("--fresh", "--estimate"):
        assert main(["sweep", str(path), "--retry-errors", other]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --retry-errors") and other in err and err.count("\n") == 1


@pytest.mark.parametrize(("raised", "code"), [
    (None, 7), (KeyboardInterrupt(), 130), (RuntimeError("boom"), 1),
])
def test_sweep_exit_codes(monkeypatch, tmp_path, capsys, raised, code):
    path = tmp_path / "sweep.yaml"
    path.write_text(VALID)
    module = types.ModuleType("orchestrator.sweep")

    def run_sweep(config, **kwargs):
        if raised is not None:
            raise raised
        return 7

    module.run_sweep = run_sweep
    monkeypatch.setitem(sys.modules, "orchestrator.sweep", module)
    assert main(["sweep", str(path)]) == code
    if code == 1:
        assert capsys.readouterr().err.splitlines()[-1] == "error: internal error: RuntimeError: boom"


def test_errors_raised_by_the_sweep_are_user_errors(monkeypatch, tmp_path, capsys):
    from orchestrator.config import ConfigError

    path = tmp_path / "sweep.yaml"
    path.write_text(VALID)
    module = types.ModuleType("orchestrator.sweep")

    def run_sweep(config, **kwargs):
        raise ConfigError("runs/cli-valid: holds a run of a different config; use --fresh")

    module.run_sweep = run_sweep
    monkeypatch.setitem(sys.modules, "orchestrator.sweep", module)
    assert main(["sweep", str(path)]) == 2
    assert capsys.readouterr().err == "error: runs/cli-valid: holds a run of a different config; use --fresh\n"


def test_tasks_lists_every_task_with_its_counts(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["task", "examples"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert set(rows) == set(tasks.TASK_NAMES) and len(rows) == 4
    for name in tasks.TASK_NAMES:
        examples = tasks.get_task(name).examples
        steps = [len(e.expected_steps) for e in examples]
        assert rows[name][0] == str(len(examples))
        assert rows[name][1] == (f"{min(steps)}–{max(steps)}" if min(steps) != max(steps) else str(min(steps)))


def test_report_hands_its_arguments_to_the_analysis(monkeypatch):
    seen: list[list[str]] = []
    module = types.ModuleType("analysis.report")
    module.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "analysis.report", module)
    assert main(["report", "runs/a", "runs/b", "--out", "cmp"]) == 0
    assert main(["report", "runs/a"]) == 0
    assert seen == [["runs/a", "runs/b", "--out", "cmp"], ["runs/a"]]


@pytest.mark.parametrize("argv", [["--help"], ["sweep", "--help"], ["validate", "--help"], ["tasks", "--help"],
                                  ["report", "--help"]])
def test_help_everywhere(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["bogus"], ["sweep"], ["sweep", "x.yaml", "--limit", "0"], ["report"]])
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err
